"""The worker's delivery jobs: the confirmation, and the install video the store's flow sends later."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat import replies
from bot.chat.conversations import ConversationService
from bot.core.clock import frozen_at, utc_now
from bot.core.jobs import FAILURE_ERROR, FAILURE_NO_REPLY, MAX_ATTEMPTS, FailedJobs, JobQueue, enqueue
from bot.core.models import JobStatus, ScheduledJob, Shipment, Store
from bot.runtime.worker import Worker
from bot.shipping.deliveries import INSTALL_VIDEO, DeliveryNotices
from bot.shipping.tracking_updates import DELIVERY_CONFIRMATION, Checkpoint, TrackingUpdate, TrackingUpdates

NOW = dt.datetime(2026, 11, 27, 22, 0, tzinfo=dt.UTC)
#: Alex's parcel, in transit in the demo data.
TRACKING_ALEX = "9400111899223100000000"


@pytest.fixture(autouse=True)
def application_clock_at_now() -> Iterator[None]:
    # Webhooks schedule their jobs at the application's "now": the same moment the queues claim at.
    with frozen_at(NOW):
        yield


class RecordingRasa:
    def __init__(self) -> None:
        self.intents: list[str] = []

    async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any]) -> list[dict[str, Any]]:
        self.intents.append(intent)
        return [{"recipient_id": conversation_id, "text": f"{intent} for {entities['order_id']}"}]


async def deliver_and_confirm(sessions: async_sessionmaker[AsyncSession], store: str, tracking: str) -> RecordingRasa:
    update = TrackingUpdate("evt-1", tracking, "Delivered", [Checkpoint(NOW, "Delivered", "Delivered", None)])
    assert (await TrackingUpdates(sessions).apply(store, "json", update)).delivered_now
    rasa = RecordingRasa()
    queue = JobQueue(sessions, "w1", clock=lambda: NOW)
    notices = DeliveryNotices(sessions, rasa)  # type: ignore[arg-type]
    (job,) = [j for j in await queue.claim() if j.kind == DELIVERY_CONFIRMATION]
    assert await notices.send_confirmation(job, queue) == 1
    return rasa


async def jobs(sessions: async_sessionmaker[AsyncSession], kind: str) -> list[ScheduledJob]:
    async with sessions() as session:
        return list((await session.scalars(select(ScheduledJob).where(ScheduledJob.kind == kind))).all())


async def test_a_store_with_a_video_delay_queues_the_video_for_later(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # BloomKids sends videos 120 minutes after the confirmation (demo data); the stroller has one.
    await deliver_and_confirm(demo_sessions, "bloomkids-baby", "9400111899223103815603")
    (video,) = await jobs(demo_sessions, INSTALL_VIDEO)
    assert video.store_id == "bloomkids-baby" and video.due_at == NOW + dt.timedelta(minutes=120)

    queue = JobQueue(demo_sessions, "w2", clock=lambda: NOW + dt.timedelta(minutes=119))
    assert [j for j in await queue.claim() if j.kind == INSTALL_VIDEO] == []
    queue = JobQueue(demo_sessions, "w2", clock=lambda: NOW + dt.timedelta(minutes=121))
    (job,) = [j for j in await queue.claim() if j.kind == INSTALL_VIDEO]
    rasa = RecordingRasa()
    assert await DeliveryNotices(demo_sessions, rasa).send_install_video(job, queue) == 1  # type: ignore[arg-type]
    assert rasa.intents == ["EXTERNAL_install_video"]


async def test_video_with_the_confirmation_queues_nothing_more(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await deliver_and_confirm(demo_sessions, "yangteng-auto", "9400111899223100000000")
    assert await jobs(demo_sessions, INSTALL_VIDEO) == []


async def test_no_video_job_when_no_item_has_a_video(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with demo_sessions() as session, session.begin():
        (await session.get(Store, "yangteng-auto")).install_video_delay_minutes = 60
    # Charlotte's drain plug and air filter have no video.
    await deliver_and_confirm(demo_sessions, "yangteng-auto", "YT2532700051839204")
    assert await jobs(demo_sessions, INSTALL_VIDEO) == []


async def test_while_a_person_holds_the_chat_the_confirmation_waits_and_is_not_lost(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    from sqlalchemy import update

    from bot.chat.conversations import AGENT_HOLD_RETRY, ConversationService
    from bot.core.models import Agent, Conversation
    from bot.support.accounts import AgentAccounts

    await AgentAccounts(demo_sessions).add("lin@yangteng.example", "Lin", "a-long-password", ["yangteng-auto"])
    chat = await ConversationService(demo_sessions).for_shopper("yangteng-auto", "alex@example.com")
    async with demo_sessions() as session, session.begin():
        agent_id = await session.scalar(select(Agent.id).where(Agent.email == "lin@yangteng.example"))
        await session.execute(
            update(Conversation).where(Conversation.id == chat.conversation_id).values(handled_by=agent_id)
        )
    update_ = TrackingUpdate(
        "evt-held", "9400111899223100000000", "Delivered", [Checkpoint(NOW, "Delivered", "Delivered", None)]
    )
    assert (await TrackingUpdates(demo_sessions).apply("yangteng-auto", "json", update_)).delivered_now
    rasa = RecordingRasa()
    queue = JobQueue(demo_sessions, "w1", clock=lambda: NOW)
    (job,) = [j for j in await queue.claim() if j.kind == DELIVERY_CONFIRMATION]
    assert await DeliveryNotices(demo_sessions, rasa).send_confirmation(job, queue) == 0  # type: ignore[arg-type]
    assert rasa.intents == []  # Rasa is paused: nothing was triggered into the void
    (waiting,) = await jobs(demo_sessions, DELIVERY_CONFIRMATION)
    assert waiting.status == "pending" and waiting.due_at == NOW + AGENT_HOLD_RETRY

    async with demo_sessions() as session, session.begin():  # the agent hands the chat back
        await session.execute(update(Conversation).where(Conversation.id == chat.conversation_id).values(handled_by=None))
    later = JobQueue(demo_sessions, "w1", clock=lambda: NOW + AGENT_HOLD_RETRY)
    (job,) = [j for j in await later.claim() if j.kind == DELIVERY_CONFIRMATION]
    assert await DeliveryNotices(demo_sessions, rasa).send_confirmation(job, later) == 1  # type: ignore[arg-type]
    assert rasa.intents == ["EXTERNAL_package_delivered"]


class TrackerRasa:
    """Rasa as the worker sees it: trigger_intent's messages, and the same in the tracker's events.
    ``silent``: the action fails, and Rasa answers 200 with no messages, as Rasa 3.6 does."""

    def __init__(self, silent: bool = False) -> None:
        self.silent = silent
        self.triggers: list[str] = []
        self.tracker: list[dict[str, Any]] = []

    async def trigger_intent(self, conversation_id: str, intent: str, entities: dict[str, Any]) -> list[dict[str, Any]]:
        self.triggers.append(intent)
        self.tracker.append(
            {
                "event": "user",
                "text": f"EXTERNAL: {intent}",
                "parse_data": {
                    "intent": {"name": intent},
                    "entities": [{"entity": k, "value": v} for k, v in entities.items()],
                },
            }
        )
        self.tracker.append({"event": "action", "name": "action_send_delivery_confirmation"})
        said = [] if self.silent else [f"{intent} for {entities['order_id']}", replies.DELIVERY_CLOSING]
        for text in said:
            self.tracker.append({"event": "bot", "text": text, "data": {"buttons": None, "custom": None}})
        self.tracker.append({"event": "action", "name": "action_listen"})
        return [{"recipient_id": conversation_id, "text": text} for text in said]

    async def events(self, conversation_id: str) -> list[dict[str, Any]]:
        return list(self.tracker)


async def delivered_job(sessions: async_sessionmaker[AsyncSession], tracking: str = TRACKING_ALEX) -> None:
    update_ = TrackingUpdate(f"evt-{tracking}", tracking, "Delivered", [Checkpoint(NOW, "Delivered", "Delivered", None)])
    assert (await TrackingUpdates(sessions).apply("yangteng-auto", "json", update_)).delivered_now


async def alex_closings(sessions: async_sessionmaker[AsyncSession]) -> int:
    service = ConversationService(sessions)
    chat = await service.for_shopper("yangteng-auto", "alex@example.com")
    return sum(1 for m in await service.messages_after(chat) if m.text == replies.DELIVERY_CLOSING)


async def test_a_confirmation_rasa_answered_with_nothing_is_retried_then_failed_for_the_seller(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The action server was down: Rasa said 200 and nothing. Before, the job was marked done."""
    await delivered_job(demo_sessions)
    rasa = TrackerRasa(silent=True)
    worker = Worker(JobQueue(demo_sessions, "w1", clock=lambda: NOW), DeliveryNotices(demo_sessions, rasa))  # type: ignore[arg-type]
    later = NOW
    for attempt in range(1, MAX_ATTEMPTS + 1):
        worker.queue.clock = lambda at=later: at
        [job] = [j for j in await worker.queue.claim() if j.kind == DELIVERY_CONFIRMATION]
        assert job.attempts == attempt
        await worker.run_job(job)
        [row] = await jobs(demo_sessions, DELIVERY_CONFIRMATION)
        assert row.failure_reason == FAILURE_NO_REPLY
        later = row.due_at
    assert row.status == JobStatus.failed.value
    assert rasa.triggers == ["EXTERNAL_package_delivered"] * MAX_ATTEMPTS
    assert await alex_closings(demo_sessions) == 0
    [failed] = await FailedJobs(demo_sessions).list("yangteng-auto")
    assert (failed.kind, failed.reason, failed.tracking_number) == (DELIVERY_CONFIRMATION, FAILURE_NO_REPLY, TRACKING_ALEX)

    # The seller sends it again once the assistant is back: it goes out, once.
    await FailedJobs(demo_sessions).retry("yangteng-auto", failed.id)
    rasa.silent = False
    worker.queue.clock = utc_now
    assert await worker.run_due() == 1
    assert await alex_closings(demo_sessions) == 1
    assert [r.status for r in await jobs(demo_sessions, DELIVERY_CONFIRMATION)] == [JobStatus.done.value]


async def test_a_retry_after_storing_failed_uses_the_answer_rasa_already_gave(
    demo_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa spoke, then storing the messages failed: the retry must not make Rasa send them again."""
    await delivered_job(demo_sessions)
    rasa = TrackerRasa()
    worker = Worker(JobQueue(demo_sessions, "w1", clock=lambda: NOW), DeliveryNotices(demo_sessions, rasa))  # type: ignore[arg-type]
    real_append = ConversationService.append_in
    calls = {"n": 0}

    async def append_failing_once(session, chat, messages):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("the database went away")
        return await real_append(session, chat, messages)

    monkeypatch.setattr(ConversationService, "append_in", staticmethod(append_failing_once))
    [job] = await worker.queue.claim()
    await worker.run_job(job)
    [row] = await jobs(demo_sessions, DELIVERY_CONFIRMATION)
    assert row.status == JobStatus.pending.value and row.failure_reason == FAILURE_ERROR
    worker.queue.clock = lambda: row.due_at
    [job] = await worker.queue.claim()
    await worker.run_job(job)
    assert rasa.triggers == ["EXTERNAL_package_delivered"]  # asked once
    assert await alex_closings(demo_sessions) == 1  # and stored once
    assert [r.status for r in await jobs(demo_sessions, DELIVERY_CONFIRMATION)] == [JobStatus.done.value]


async def test_a_notice_with_nothing_to_say_is_done_not_retried(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    """An empty answer is a failure only when the action had something to say: no item of
    Charlotte's order has an install video, so a (stale) video job says nothing, rightly."""
    await delivered_job(demo_sessions, "YT2532700051839204")
    async with demo_sessions() as session, session.begin():
        shipment_id = await session.scalar(select(Shipment.id).where(Shipment.tracking_number == "YT2532700051839204"))
        await enqueue(session, "yangteng-auto", INSTALL_VIDEO, "video:stale", {"shipment_id": shipment_id}, NOW)
    rasa = TrackerRasa(silent=True)
    queue = JobQueue(demo_sessions, "w1", clock=lambda: NOW)
    [job] = [j for j in await queue.claim() if j.kind == INSTALL_VIDEO]
    await Worker(queue, DeliveryNotices(demo_sessions, rasa)).run_job(job)  # type: ignore[arg-type]
    [row] = await jobs(demo_sessions, INSTALL_VIDEO)
    assert row.status == JobStatus.done.value and rasa.triggers == ["EXTERNAL_install_video"]
