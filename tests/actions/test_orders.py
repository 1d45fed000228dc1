"""The order-status actions, driven with trackers built from dicts."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions import escalations as escalation_actions
from actions import orders as order_actions
from bot import replies
from bot.config import PROJECT_ROOT
from bot.escalations import EscalationService
from bot.identity_checks import IdentityChecks
from bot.orders import OrderService

DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
STORE = "yangteng-auto"
OTHER_STORE = "bloomkids-baby"


@pytest.fixture(autouse=True)
def service(demo_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch) -> OrderService:
    service = OrderService(demo_sessions)
    monkeypatch.setattr(order_actions, "order_service", lambda: service)
    monkeypatch.setattr(order_actions, "identity_checks", lambda: IdentityChecks(demo_sessions, service))
    monkeypatch.setattr(escalation_actions, "escalation_service", lambda: EscalationService(demo_sessions))
    return service


def form_tracker(
    candidates: dict[str, Any],
    slots: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    text: str = "",
) -> Tracker:
    """A tracker as Rasa sends it to the validation action: candidates trail the events."""
    metadata = {"store_id": STORE} if metadata is None else metadata
    all_slots = {"requested_slot": None, **(slots or {}), **candidates}
    events = [
        {"event": "user", "text": text, "parse_data": {"intent": {"name": "inform"}}, "metadata": metadata},
        {"event": "action", "name": "order_status_form"},
        *({"event": "slot", "name": name, "value": value} for name, value in candidates.items()),
    ]
    return Tracker.from_dict(
        {
            "sender_id": "test-conversation",
            "slots": all_slots,
            "latest_message": {"text": text, "intent": {"name": "inform"}, "entities": [], "metadata": metadata},
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": "order_status_form"},
            "latest_action_name": "order_status_form",
        }
    )


def plain_tracker(slots: dict[str, Any], metadata: dict[str, Any] | None = None) -> Tracker:
    metadata = {"store_id": STORE} if metadata is None else metadata
    return Tracker.from_dict(
        {
            "sender_id": "test-conversation",
            "slots": slots,
            "latest_message": {"text": "", "intent": {"name": "track_order"}, "entities": [], "metadata": metadata},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


async def validate(tracker: Tracker) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    events = await order_actions.ValidateOrderStatusForm().run(dispatcher, tracker, DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return slots, [m["text"] for m in dispatcher.messages]


async def test_number_and_email_of_one_order_verify_it() -> None:
    slots, messages = await validate(form_tracker({"order_number": "FZ-20931", "order_verification": "Alex@Example.com"}))
    assert slots["verified_order_number"] == "FZ-20931"
    assert messages == []


async def test_postcode_verifies_too() -> None:
    slots, _ = await validate(form_tracker({"order_verification": "my zip is 10027"}, slots={"order_number": "fz-20931"}))
    assert slots["verified_order_number"] == "FZ-20931"


async def test_number_alone_is_kept_until_the_proof_arrives() -> None:
    slots, messages = await validate(form_tracker({"order_number": "where is FZ-20931 ?"}))
    assert slots == {"order_number": "FZ-20931"}
    assert messages == []


async def test_wrong_email_and_unknown_order_get_the_same_reply() -> None:
    wrong_email, wrong_email_messages = await validate(
        form_tracker({"order_number": "FZ-20931", "order_verification": "mallory@example.com"})
    )
    unknown_order, unknown_order_messages = await validate(
        form_tracker({"order_number": "FZ-99999", "order_verification": "alex@example.com"})
    )
    assert wrong_email_messages == unknown_order_messages == [replies.IDENTITY_CHECK_FAILED]
    for slots in (wrong_email, unknown_order):
        assert "verified_order_number" not in slots
        assert slots["order_number"] is None and slots["order_verification"] is None


async def test_the_failure_that_locks_the_order_stops_the_form_and_offers_a_person() -> None:
    # "test-conversation" is unknown to the store database, so no person can be
    # asked from here (a person taking over: tests/actions/test_escalations.py).
    for attempt in range(4):
        slots, messages = await validate(
            form_tracker({"order_verification": f"mallory{attempt}@example.com"}, slots={"order_number": "FZ-20931"})
        )
        assert messages == [replies.IDENTITY_CHECK_FAILED]
    slots, messages = await validate(
        form_tracker({"order_verification": "mallory@example.com"}, slots={"order_number": "FZ-20931"})
    )
    assert messages == [replies.IDENTITY_CHECK_LOCKED_NOT_RECORDED]
    assert slots["requested_slot"] is None  # ends the form
    assert "verified_order_number" not in slots


async def test_an_order_of_another_store_is_not_found() -> None:
    # FZ-20931 and alex@example.com are right, but for the car-parts store.
    slots, messages = await validate(
        form_tracker(
            {"order_number": "FZ-20931", "order_verification": "alex@example.com"},
            metadata={"store_id": OTHER_STORE},
        )
    )
    assert "verified_order_number" not in slots
    assert messages == [replies.IDENTITY_CHECK_FAILED]


async def test_no_store_in_metadata_gets_a_clear_answer_and_no_data() -> None:
    slots, messages = await validate(
        form_tracker({"order_number": "FZ-20931", "order_verification": "alex@example.com"}, metadata={})
    )
    assert messages == [replies.NO_STORE]
    assert slots["requested_slot"] is None
    assert "verified_order_number" not in slots


async def test_text_without_an_order_number_is_refused() -> None:
    slots, messages = await validate(form_tracker({"order_number": "i dont know it"}))
    assert slots == {"order_number": None}
    assert messages == [replies.NOT_AN_ORDER_NUMBER]


async def test_text_without_an_email_or_postcode_is_refused() -> None:
    slots, messages = await validate(form_tracker({"order_verification": "hmm"}, slots={"order_number": "FZ-20931"}))
    assert slots == {"order_verification": None}
    assert messages == [replies.NOT_AN_EMAIL_OR_POSTCODE]


async def test_identified_shopper_skips_the_check() -> None:
    identified = {"store_id": STORE, "shopper_email": "alex@example.com"}
    slots, messages = await validate(form_tracker({"order_number": "FZ-20931"}, metadata=identified))
    assert slots["verified_order_number"] == "FZ-20931"
    assert slots["requested_slot"] is None  # nothing more to ask
    assert messages == []


async def test_identified_shopper_cannot_open_someone_elses_order(service: OrderService) -> None:
    someone_else = {"store_id": STORE, "shopper_email": "not-alex@example.org"}
    slots, messages = await validate(form_tracker({"order_number": "FZ-20931"}, metadata=someone_else))
    assert "verified_order_number" not in slots
    assert slots["order_number"] is None
    assert messages == [replies.NOT_YOUR_ORDER.format(order_number="FZ-20931")]


async def test_ask_order_number_offers_an_identified_shoppers_orders_of_this_store_only() -> None:
    dispatcher = CollectingDispatcher()
    tracker = plain_tracker({}, metadata={"store_id": STORE, "shopper_email": "alex@example.com"})
    await order_actions.ActionAskOrderNumber().run(dispatcher, tracker, DOMAIN)
    [message] = dispatcher.messages
    assert message["text"] == replies.CHOOSE_ORDER
    titles = [b["title"] for b in message["buttons"]]
    assert any(t.startswith("FZ-20931") for t in titles)
    assert all(t.startswith("FZ-") for t in titles), titles  # alex's orders in other stores stay out
    assert message["buttons"][0]["payload"].startswith('/inform{"order_id":"FZ-')


async def test_ask_order_number_for_an_anonymous_shopper() -> None:
    dispatcher = CollectingDispatcher()
    await order_actions.ActionAskOrderNumber().run(dispatcher, plain_tracker({}), DOMAIN)
    assert [m["text"] for m in dispatcher.messages] == [replies.ASK_ORDER_NUMBER]
    assert not dispatcher.messages[0]["buttons"]


async def test_report_answers_from_the_database_and_forgets_the_answers() -> None:
    dispatcher = CollectingDispatcher()
    tracker = plain_tracker(
        {"verified_order_number": "FZ-20931", "order_number": "FZ-20931", "order_verification": "alex@example.com"}
    )
    events = await order_actions.ActionReportOrderStatus().run(dispatcher, tracker, DOMAIN)
    [message] = dispatcher.messages
    assert "USPS" in message["text"]
    assert "9400111899223100000000" in message["text"]
    assert "Jersey City, NJ" in message["text"]
    assert SlotSet("verified_order_number", None) in events
    assert SlotSet("order_verification", None) in events


async def test_report_without_a_verified_order_says_nothing() -> None:
    dispatcher = CollectingDispatcher()
    events = await order_actions.ActionReportOrderStatus().run(dispatcher, plain_tracker({}), DOMAIN)
    assert dispatcher.messages == []
    assert SlotSet("order_number", None) in events


async def test_after_the_lock_even_the_right_details_are_not_checked() -> None:
    for attempt in range(5):
        await validate(form_tracker({"order_number": "FZ-20931", "order_verification": f"9021{attempt}"}))
    slots, messages = await validate(
        form_tracker({"order_number": "FZ-20931", "order_verification": "alex@example.com"})
    )
    assert messages == [replies.IDENTITY_CHECK_PAUSED]
    assert "verified_order_number" not in slots
    assert slots["requested_slot"] is None
