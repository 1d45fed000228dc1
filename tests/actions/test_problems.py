"""Problems after delivery: the escalation they record (asking for a person: test_escalations.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions import escalations as escalation_actions
from actions import orders as order_actions
from actions import problems as problem_actions
from bot.chat import replies
from bot.chat.conversations import ConversationService
from bot.core.config import PROJECT_ROOT
from bot.core.models import Escalation, Order
from bot.guides.in_chat import GuideService
from bot.guides.product_matching import ProductMatcher
from bot.orders.identity_checks import IdentityChecks
from bot.orders.lookup import OrderService
from bot.support.escalations import EscalationService

DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
STORE = "yangteng-auto"
ALEX = {"store_id": STORE, "shopper_email": "alex@example.com"}
#: Wednesday 11:00 in Fuzhou: the store's people are at work, none has the console open.
WORKING_HOURS = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def services(demo_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(order_actions, "order_service", lambda: OrderService(demo_sessions))
    monkeypatch.setattr(order_actions, "identity_checks", lambda: IdentityChecks(demo_sessions, OrderService(demo_sessions)))
    monkeypatch.setattr(escalation_actions, "escalation_service", lambda: EscalationService(demo_sessions))
    monkeypatch.setattr(escalation_actions, "clock", lambda: WORKING_HOURS)
    monkeypatch.setattr(problem_actions, "guide_service", lambda: GuideService(demo_sessions))
    monkeypatch.setattr(problem_actions, "product_matcher", lambda: ProductMatcher(demo_sessions))


def tracker(
    sender: str = "problem-test",
    *,
    text: str = "",
    intent: str = "inform",
    slots: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    candidates: dict[str, Any] | None = None,
) -> Tracker:
    metadata = {"store_id": STORE} if metadata is None else metadata
    candidates = candidates or {}
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": {"requested_slot": None, **(slots or {}), **candidates},
            "latest_message": {"text": text, "intent": {"name": intent}, "entities": [], "metadata": metadata},
            "events": [
                {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}, "metadata": metadata},
                {"event": "action", "name": "problem_report_form"},
                *({"event": "slot", "name": k, "value": v} for k, v in candidates.items()),
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": "problem_report_form"},
            "latest_action_name": "problem_report_form",
        }
    )


async def validate(t: Tracker) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    events = await problem_actions.ValidateProblemReportForm().run(dispatcher, t, DOMAIN)
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}, [m["text"] for m in dispatcher.messages]


async def test_a_known_order_needs_only_the_description() -> None:
    slots, said = await validate(tracker(slots={"problem_type": "damaged", "verified_order_number": "FZ-20931"}))
    assert slots["requested_slot"] == "problem_description" and said == []


async def test_an_identified_shopper_picks_the_order_without_a_proof() -> None:
    slots, _ = await validate(tracker(slots={"problem_type": "damaged"}, metadata=ALEX))
    assert slots["requested_slot"] == "order_number"
    slots, _ = await validate(
        tracker(slots={"problem_type": "damaged"}, metadata=ALEX, candidates={"order_number": "FZ-20931"})
    )
    assert slots["verified_order_number"] == "FZ-20931" and slots["requested_slot"] == "problem_description"


async def test_an_anonymous_shopper_proves_the_order_first() -> None:
    form = problem_actions.ValidateProblemReportForm()
    required = await form.required_slots(
        form.domain_slots(DOMAIN), CollectingDispatcher(), tracker(slots={"problem_type": "not_received"}), DOMAIN
    )
    assert required == ["order_number", "order_verification", "problem_description"]
    slots, said = await validate(
        tracker(
            slots={"problem_type": "not_received", "order_number": "FZ-20931"},
            candidates={"order_verification": "bob@example.com"},
        )
    )
    assert "verified_order_number" not in slots and said == [replies.IDENTITY_CHECK_FAILED]
    slots, _ = await validate(
        tracker(
            slots={"problem_type": "not_received", "order_number": "FZ-20931"}, candidates={"order_verification": "10027"}
        )
    )
    assert slots["verified_order_number"] == "FZ-20931" and slots["requested_slot"] == "problem_description"


async def test_a_too_short_description_is_asked_again() -> None:
    slots, said = await validate(
        tracker(
            slots={"problem_type": "damaged", "verified_order_number": "FZ-20931"},
            candidates={"problem_description": " ok "},
        )
    )
    assert slots["problem_description"] is None and slots["requested_slot"] == "problem_description"
    assert said == [replies.PROBLEM_DESCRIPTION_TOO_SHORT]


@pytest.mark.parametrize("problem", ["not_received", "damaged", "missing_parts", "wrong_item"])
async def test_the_question_fits_the_problem(problem: str) -> None:
    dispatcher = CollectingDispatcher()
    await problem_actions.ActionAskProblemDescription().run(dispatcher, tracker(slots={"problem_type": problem}), DOMAIN)
    assert [m["text"] for m in dispatcher.messages] == [replies.ASK_PROBLEM_DESCRIPTION[problem]]


async def test_the_report_records_an_escalation_with_the_order(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    words = "The pan has a deep dent on one corner <b>photo</b>: https://photos.example/dent.jpg"
    dispatcher = CollectingDispatcher()
    events = await problem_actions.ActionRecordProblemReport().run(
        dispatcher,
        tracker(
            chat.conversation_id,
            metadata=ALEX,
            slots={"problem_type": "damaged", "verified_order_number": "FZ-20931", "problem_description": words},
        ),
        DOMAIN,
    )
    async with demo_sessions() as session:
        escalation = (await session.scalars(select(Escalation))).one()
        order = await session.get(Order, escalation.order_id)
    assert (escalation.store_id, escalation.conversation_id) == (STORE, chat.conversation_id)
    assert (escalation.reason, escalation.priority, escalation.status) == ("damaged", "high", "open")
    assert order is not None and order.order_number == "FZ-20931"
    # "The pan" is the order's only pan: the team is told which item.
    assert escalation.details == f"{words}\nItem named: Aluminium oil pan (OP-1001)"
    assert escalation.summary.startswith("Arrived damaged · order FZ-20931: The pan has a deep dent")
    availability = await EscalationService(demo_sessions).availability(STORE, WORKING_HOURS)
    assert availability is not None and not availability.agents_online
    assert [m["text"] for m in dispatcher.messages] == [
        (
            "Thank you. I've passed this to the store's team with your order FZ-20931 "
            f"(reference E-{escalation.id}). {availability.notice(WORKING_HOURS)}"
        )
    ]
    assert {e["name"]: e["value"] for e in events} == {
        "order_number": None,
        "order_verification": None,
        "problem_description": None,
        "problem_type": None,
    }


async def test_nothing_is_recorded_when_the_form_gave_up(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    dispatcher = CollectingDispatcher()
    await problem_actions.ActionRecordProblemReport().run(
        dispatcher, tracker(chat.conversation_id, slots={"problem_type": "damaged"}), DOMAIN
    )
    async with demo_sessions() as session:
        assert (await session.scalars(select(Escalation))).all() == []
    assert dispatcher.messages == []


async def details_of_damage_report(sessions: async_sessionmaker[AsyncSession], text: str, description: str) -> str:
    """Alex reports FZ-20412 damaged, the first message being ``text``: the one escalation's details."""
    chat = await ConversationService(sessions).for_shopper(STORE, "alex@example.com")
    reported = tracker(
        chat.conversation_id,
        text=text,
        intent="report_damaged",
        metadata=ALEX,
        slots={"problem_type": "damaged", "verified_order_number": "FZ-20412", "problem_description": description},
    )
    await problem_actions.ActionRecordProblemReport().run(CollectingDispatcher(), reported, DOMAIN)
    async with sessions() as session:
        return (await session.scalars(select(Escalation))).one().details


async def test_the_item_named_in_the_report_is_picked_from_the_orders_items(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # FZ-20412 holds the gasket and the drain plug; the first message named the item, with a typo.
    details = await details_of_damage_report(demo_sessions, "the drian plug came cracked", "cracked thread")
    assert details == "cracked thread\nItem named: Magnetic oil drain plug M14×1.5 (DP-3102)"


async def test_a_product_outside_the_order_is_not_named_in_the_report(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # The brake pads are in the catalogue but not in FZ-20412: the report names no item.
    assert await details_of_damage_report(demo_sessions, "my brake pads came broken", "broken in two") == "broken in two"
