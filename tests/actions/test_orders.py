"""The order-status actions, driven with trackers built from dicts."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions import escalations as escalation_actions
from actions import orders as order_actions
from actions.forms import UNUSABLE_ANSWERS
from bot.chat import replies
from bot.core.config import PROJECT_ROOT
from bot.core.models import Conversation
from bot.orders.identity_checks import IdentityChecks
from bot.orders.importer import import_lines
from bot.orders.lookup import OrderService
from bot.support.escalations import EscalationService

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
    earlier: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker as Rasa sends it to the validation action: candidates trail the events.

    ``earlier`` slots were set in earlier turns: their events come before the message's."""
    metadata = {"store_id": STORE} if metadata is None else metadata
    earlier = earlier or {}
    all_slots = {"requested_slot": None, **(slots or {}), **earlier, **candidates}
    events = [
        *({"event": "slot", "name": name, "value": value} for name, value in earlier.items()),
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


async def test_a_passed_check_makes_the_orders_address_the_anonymous_chats_contact(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with demo_sessions() as session, session.begin():
        session.add(Conversation(id="test-conversation", store_id=STORE))
    await validate(form_tracker({"order_number": "FZ-20931", "order_verification": "mallory@example.com"}))
    async with demo_sessions() as session:
        assert await session.scalar(select(Conversation.contact_email).where(Conversation.id == "test-conversation")) is None
    # Proven by the postcode: the address is the one the store has for the order, not one the shopper typed.
    await validate(form_tracker({"order_verification": "my zip is 10027"}, slots={"order_number": "FZ-20931"}))
    async with demo_sessions() as session:
        conversation = await session.get(Conversation, "test-conversation")
        assert conversation is not None
        assert conversation.contact_email == "alex@example.com" and conversation.email_address == "alex@example.com"


async def test_a_passed_check_in_another_stores_conversation_changes_nothing(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with demo_sessions() as session, session.begin():
        session.add(Conversation(id="test-conversation", store_id=OTHER_STORE))
    slots, _ = await validate(form_tracker({"order_number": "FZ-20931", "order_verification": "alex@example.com"}))
    assert slots["verified_order_number"] == "FZ-20931"
    async with demo_sessions() as session:
        assert await session.scalar(select(Conversation.contact_email).where(Conversation.id == "test-conversation")) is None


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


#: Rasa's reader of "/intent{json}" messages (rasa.shared.core.training_data.story_reader.
#: yaml_story_reader.YAMLStoryReader._regex_message_pattern, Rasa 3.6).
RASA_INTENT_MESSAGE = re.compile(r"^/(?P<intent>[^{@]+)(?P<confidence>@[0-9.]+)?(?P<entities>{.+})?(?P<rest>.*)")


async def test_an_order_number_with_quotes_and_braces_is_one_entity_in_its_button(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    store, number, email = "odd-numbers-store", 'Q"}-1047,"evil":"1@2', "quinn@example.com"
    report = await import_lines(
        demo_sessions,
        [
            json.dumps({"type": "store", "id": store, "name": "Odd numbers", "timezone": "UTC"}),
            json.dumps(
                {
                    "type": "order",
                    "store": store,
                    "order_number": number,
                    "placed_at": "2026-11-20T10:00:00Z",
                    "status": "shipped",
                    "shopper": {"name": "Quinn", "email": email},
                    "shipping": {"postcode": "10115", "country": "DE"},
                    "items": [{"sku": "S-1", "name": "Tent"}],
                }
            ),
        ],
    )
    assert report.ok, report.errors
    dispatcher = CollectingDispatcher()
    tracker = plain_tracker({}, metadata={"store_id": store, "shopper_email": email})
    await order_actions.ActionAskOrderNumber().run(dispatcher, tracker, DOMAIN)
    [button] = dispatcher.messages[0]["buttons"]
    read = RASA_INTENT_MESSAGE.match(button["payload"])
    assert read is not None and read["intent"] == "inform" and read["confidence"] is None and read["rest"] == ""
    assert json.loads(read["entities"]) == {"order_id": number}


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
    slots, messages = await validate(form_tracker({"order_number": "FZ-20931", "order_verification": "alex@example.com"}))
    assert messages == [replies.IDENTITY_CHECK_PAUSED]
    assert "verified_order_number" not in slots
    assert slots["requested_slot"] is None


# --- order numbers of any shape (issue 14): the store's own shapes, the whole message ---

SHAPES_STORE = "shapes-store"
#: (number, email, postcode) of the orders of a store whose numbers come in many shapes.
SHAPED_ORDERS = [
    ("H-77001", "hana@example.com", "10115"),
    ("H-77002", "hugo@example.com", "20095"),
    ("SO-2026-00123", "sofia@example.com", "94110"),
    ("PO#88812", "pablo@example.com", "28013"),
    ("12-34567-89012", "ebay.buyer@example.com", "75001"),
    ("000004321", "magento.buyer@example.com", "2000"),
    ("8000123456789012", "ali.buyer@example.com", "100020"),
]


@pytest.fixture
async def shapes_store(demo_sessions: async_sessionmaker[AsyncSession]) -> str:
    """A store whose orders teach it seven shapes (imported like any store's)."""
    lines = [json.dumps({"type": "store", "id": SHAPES_STORE, "name": "Shapes", "timezone": "UTC"})]
    lines += [
        json.dumps(
            {
                "type": "order",
                "store": SHAPES_STORE,
                "order_number": number,
                "placed_at": "2026-11-20T10:00:00Z",
                "status": "shipped",
                "shopper": {"name": "Shopper", "email": email},
                "shipping": {"postcode": postcode, "country": "DE"},
                "items": [{"sku": "S-1", "name": "Tent"}],
            }
        )
        for number, email, postcode in SHAPED_ORDERS
    ]
    report = await import_lines(demo_sessions, lines)
    assert report.ok, report.errors
    return SHAPES_STORE


def turn_tracker(
    text: str,
    candidates: dict[str, Any],
    asked: str | None = None,
    earlier: dict[str, Any] | None = None,
    store: str = SHAPES_STORE,
    unusable: float | None = None,
) -> Tracker:
    """A tracker as Rasa sends it for one real message: the slots set in earlier turns,
    the message (its whole text), then this turn's candidates. ``unusable``: the count of
    unusable answers in a row so far."""
    return form_tracker(
        candidates,
        slots={"requested_slot": asked, UNUSABLE_ANSWERS: unusable},
        metadata={"store_id": store},
        text=text,
        earlier=earlier,
    )


@pytest.mark.parametrize(
    ("text", "entity", "number"),
    [
        ("where is H-77001", "H-77001", "H-77001"),
        ("h 77001", "77001", "H-77001"),  # the entity holds only the digits: the text is read
        ("my order is h77001", None, "H-77001"),
        ("so 2026 00123", "so 2026 00123", "SO-2026-00123"),
        ("SO-2026-00123", "SO-2026-00123", "SO-2026-00123"),
        ("#so2026-00123 please", "so2026-00123", "SO-2026-00123"),
        ("PO#88812", "PO#88812", "PO#88812"),
        ("po 88812", None, "PO#88812"),
        ("ebay order 12-34567-89012", "12-34567-89012", "12-34567-89012"),
        ("12 34567 89012", "12 34567 89012", "12-34567-89012"),
        ("000004321", "000004321", "000004321"),
        ("order 4321", None, "000004321"),  # the zeros dropped: the same order
        ("8000123456789012", "8000123456789012", "8000123456789012"),
        ('/inform{"order_id":"h-77001"}', "h-77001", "H-77001"),
    ],
)
async def test_every_shape_of_the_stores_numbers_is_found_and_verified(
    shapes_store: str, text: str, entity: str | None, number: str
) -> None:
    email = next(e for n, e, _ in SHAPED_ORDERS if n == number)
    # Asked for the number: the whole message is read with the store's shapes.
    slots, messages = await validate(turn_tracker(text, {"order_number": entity or text}, asked="order_number"))
    assert messages == [] and slots["order_number"]
    typed = slots["order_number"]
    # Then the proof: the order the shopper meant is verified.
    slots, messages = await validate(
        turn_tracker(email, {"order_verification": email}, asked="order_verification", earlier={"order_number": typed})
    )
    assert slots["verified_order_number"] == number, (text, typed)
    assert messages == []


async def test_the_order_numbers_digits_are_not_taken_for_its_postcode(shapes_store: str) -> None:
    # "h 77001": the NLU's postcode regex sees "77001"; it is the order number, not a proof,
    # so no identity check is spent on it (and no complaint about the postcode is made).
    slots, messages = await validate(
        turn_tracker("h 77001", {"order_number": "77001", "order_verification": "77001"}, asked="order_number")
    )
    assert slots["order_number"] == "h 77001" and slots["order_verification"] is None
    assert "verified_order_number" not in slots
    assert messages == []


async def test_a_postcode_answering_the_proof_question_is_not_a_new_order_number(shapes_store: str) -> None:
    # "94110" could be an order number by shape; asked for the proof, it is the proof.
    slots, messages = await validate(
        turn_tracker(
            "94110",
            {"order_number": "94110", "order_verification": "94110"},
            asked="order_verification",
            earlier={"order_number": "so 2026 00123"},
        )
    )
    assert slots["verified_order_number"] == "SO-2026-00123"
    assert messages == []


async def test_a_corrected_number_while_asked_for_the_proof_replaces_the_old_one(shapes_store: str) -> None:
    slots, messages = await validate(
        turn_tracker(
            "sorry, it's H-77002",
            {"order_number": "H-77002", "order_verification": "sorry, it's H-77002"},
            asked="order_verification",
            earlier={"order_number": "H-77001"},
        )
    )
    assert slots["order_number"] == "H-77002" and slots["order_verification"] is None
    assert "verified_order_number" not in slots
    assert messages == []  # the proof is simply asked for next


async def test_a_corrected_number_after_an_unusable_answer_gets_the_proof_question_not_the_choices(
    shapes_store: str,
) -> None:
    # "dunno" when asked for the proof: the first unusable answer, and the shopper is told why.
    slots, messages = await validate(
        turn_tracker(
            "dunno", {"order_verification": "dunno"}, asked="order_verification", earlier={"order_number": "H-77001"}
        )
    )
    assert messages == [replies.NOT_AN_EMAIL_OR_POSTCODE] and slots[UNUSABLE_ANSWERS] == 1.0
    # Then the number, corrected, and no proof: usable (the number is taken), so no second
    # unusable answer in a row and no choices; the proof is asked for next, and the run ends.
    slots, messages = await validate(
        turn_tracker(
            "sorry, it's H-77002",
            {"order_number": "H-77002", "order_verification": "sorry, it's H-77002"},
            asked="order_verification",
            earlier={"order_number": "H-77001"},
            unusable=1.0,
        )
    )
    assert messages == []
    assert slots["order_number"] == "H-77002" and slots["order_verification"] is None
    assert slots[UNUSABLE_ANSWERS] is None


async def test_a_second_unusable_proof_in_a_row_still_gets_the_choices(shapes_store: str) -> None:
    # A message that gives nothing the form can use, after one before it: the choices.
    slots, messages = await validate(
        turn_tracker(
            "no idea",
            {"order_verification": "no idea"},
            asked="order_verification",
            earlier={"order_number": "H-77001"},
            unusable=1.0,
        )
    )
    assert messages == [replies.FORM_CHOICES] and slots[UNUSABLE_ANSWERS] == 2.0


async def test_unknown_number_and_wrong_proof_get_the_same_reply_in_any_shape(shapes_store: str) -> None:
    replies_seen = []
    for number, proof in (
        ("so 2026 00999", "sofia@example.com"),
        ("so 2026 00123", "mallory@example.com"),
        ("h 70000", "hana@example.com"),
        ("h 77001", "99999"),
    ):
        slots, messages = await validate(
            turn_tracker(proof, {"order_verification": proof}, asked="order_verification", earlier={"order_number": number})
        )
        assert "verified_order_number" not in slots
        replies_seen.append(messages)
    assert all(m == [replies.IDENTITY_CHECK_FAILED] for m in replies_seen)


async def test_one_stores_shapes_and_orders_are_not_another_stores(shapes_store: str) -> None:
    # The car-parts store has never had an "H-" order: "h 77001" is only its digits there.
    slots, _ = await validate(turn_tracker("h 77001", {"order_number": "77001"}, asked="order_number", store=STORE))
    assert slots["order_number"] == "77001"
    slots, messages = await validate(
        turn_tracker(
            "hana@example.com",
            {"order_verification": "hana@example.com"},
            asked="order_verification",
            earlier={"order_number": "H-77001"},
            store=STORE,
        )
    )
    assert "verified_order_number" not in slots and messages == [replies.IDENTITY_CHECK_FAILED]


@pytest.mark.parametrize(
    "text",
    [
        "1" * 10_000,
        "x" * 100_000,
        " ".join(f"H-{70000 + n}" for n in range(3000)),
        '/inform{"order_id":"' + "9" * 5000 + '"}',
        '/inform{"order_id":["H-77001"]}',
        "H-" * 20_000,
    ],
)
async def test_hostile_messages_get_a_plain_answer(shapes_store: str, text: str) -> None:
    slots, messages = await validate(turn_tracker(text, {"order_number": text}, asked="order_number"))
    if slots["order_number"] is None:
        assert messages == [replies.NOT_AN_ORDER_NUMBER]
    else:  # many numbers in one message: the first is taken, nothing else is tried
        assert slots["order_number"] in ("H-70000", "H-77001") and messages == []


def asked_tracker(text: str, intent: str, asking: str) -> Tracker:
    """The form asked for ``asking``; the shopper's message is ``text``, which the NLU read as ``intent``."""
    metadata = {"store_id": STORE}
    return Tracker.from_dict(
        {
            "sender_id": "test-conversation",
            "slots": {"requested_slot": asking},
            "latest_message": {"text": text, "intent": {"name": intent}, "entities": [], "metadata": metadata},
            "events": [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}, "metadata": metadata}],
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": "order_status_form"},
            "latest_action_name": "action_listen",
        }
    )


@pytest.mark.parametrize("intent", ["out_of_scope", "greet", "request_return"])
async def test_a_number_typed_alone_answers_whatever_the_nlu_thought_of_it(intent: str) -> None:
    form, dispatcher = order_actions.ValidateOrderStatusForm(), CollectingDispatcher()
    assert await form.extract_order_number(dispatcher, asked_tracker("FZ-20931", intent, "order_number"), DOMAIN) == {
        "order_number": "FZ-20931"
    }
    proof = asked_tracker("alex@example.com", intent, "order_verification")
    assert await form.extract_order_verification(dispatcher, proof, DOMAIN) == {"order_verification": "alex@example.com"}


@pytest.mark.parametrize(
    ("text", "intent", "asking"),
    [
        # Another request that happens to hold a number is that request: the form steps aside.
        ("how do I install the pan from order FZ-20931", "request_installation_guide", "order_number"),
        ("never mind", "stop", "order_number"),
        # An answer intent: the domain's own mapping takes it, not this.
        ("FZ-20931", "inform", "order_number"),
        # Not what was asked for.
        ("FZ-20931", "out_of_scope", "order_verification"),
        ('/request_human{"order_id":"FZ-20931"}', "request_human", "order_number"),
    ],
)
async def test_other_messages_are_not_taken_as_typed_alone(text: str, intent: str, asking: str) -> None:
    form, dispatcher = order_actions.ValidateOrderStatusForm(), CollectingDispatcher()
    tracker = asked_tracker(text, intent, asking)
    assert await form.extract_order_number(dispatcher, tracker, DOMAIN) == {}
    assert await form.extract_order_verification(dispatcher, tracker, DOMAIN) == {}


async def test_a_number_carried_over_from_the_replaced_form_is_kept() -> None:
    # "It arrived damaged" in the middle of the lookup starts the problem report with the
    # number already given: the form starts (nothing asked yet) and this message holds none.
    tracker = asked_tracker("the oil pan arrived damaged", "report_damaged", asking=None)  # type: ignore[arg-type]
    tracker.active_loop = {}
    dispatcher = CollectingDispatcher()
    result = await order_actions.ValidateOrderStatusForm().validate_order_number("FZ-20931", dispatcher, tracker, DOMAIN)
    assert result["order_number"] == "FZ-20931" and dispatcher.messages == []
