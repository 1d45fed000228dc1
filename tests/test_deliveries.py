"""The worker's delivery jobs: the confirmation, and the install video the store's flow sends later."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import frozen_at
from bot.deliveries import INSTALL_VIDEO, DeliveryNotices
from bot.jobs import JobQueue
from bot.models import ScheduledJob, Store
from bot.tracking_updates import DELIVERY_CONFIRMATION, Checkpoint, TrackingUpdate, TrackingUpdates

NOW = dt.datetime(2026, 11, 27, 22, 0, tzinfo=dt.timezone.utc)


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


async def test_a_store_with_a_video_delay_queues_the_video_for_later(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
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

    from bot.agents import AgentAccounts
    from bot.conversations import ConversationService
    from bot.conversations import AGENT_HOLD_RETRY
    from bot.models import Agent, Conversation

    await AgentAccounts(demo_sessions).add("lin@yangteng.example", "Lin", "a-long-password", ["yangteng-auto"])
    chat = await ConversationService(demo_sessions).for_shopper("yangteng-auto", "alex@example.com")
    async with demo_sessions() as session, session.begin():
        agent_id = await session.scalar(select(Agent.id).where(Agent.email == "lin@yangteng.example"))
        await session.execute(update(Conversation).where(Conversation.id == chat.conversation_id).values(handled_by=agent_id))
    update_ = TrackingUpdate("evt-held", "9400111899223100000000", "Delivered", [Checkpoint(NOW, "Delivered", "Delivered", None)])
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
