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
from bot.core.models import Escalation, Order, Photo
from bot.guides.in_chat import GuideService
from bot.guides.product_matching import ProductMatcher
from bot.orders.identity_checks import IdentityChecks
from bot.orders.lookup import OrderService
from bot.photos.conversation_photos import ConversationPhotos
from bot.photos.images import prepare_photo
from bot.photos.storage import DatabaseStorage
from bot.support.escalations import EscalationService
from tests.photos.sample_images import image_bytes

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
    photos = ConversationPhotos(demo_sessions, DatabaseStorage(demo_sessions))
    monkeypatch.setattr(problem_actions, "conversation_photos", lambda: photos)


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
        "problem_photos": None,
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


# --- the photo step ---


@pytest.mark.parametrize(
    ("problem", "asked"), [("damaged", True), ("missing_parts", True), ("wrong_item", True), ("not_received", False)]
)
async def test_photos_are_asked_for_after_the_description_where_a_photo_shows_the_problem(problem: str, asked: bool) -> None:
    form = problem_actions.ValidateProblemReportForm()
    required = await form.required_slots(
        form.domain_slots(DOMAIN),
        CollectingDispatcher(),
        tracker(slots={"problem_type": problem, "verified_order_number": "FZ-20931"}),
        DOMAIN,
    )
    assert required == (["problem_description", "problem_photos"] if asked else ["problem_description"])
    slots, _ = await validate(
        tracker(
            slots={"problem_type": problem, "verified_order_number": "FZ-20931"},
            candidates={"problem_description": "the corner is dented"},
        )
    )
    assert slots["requested_slot"] == ("problem_photos" if asked else None)


@pytest.mark.parametrize(
    ("answer", "intent", "kept"),
    [
        ("/share_photos", "share_photos", "sent"),
        ("/deny", "deny", "skipped"),
        ("no photos, sorry", "deny", "skipped"),
        ("i'll take them tonight", "inform", "skipped"),
    ],
)
async def test_photos_skip_or_words_end_the_photo_step(answer: str, intent: str, kept: str) -> None:
    slots, said = await validate(
        tracker(
            text=answer,
            intent=intent,
            slots={"problem_type": "damaged", "verified_order_number": "FZ-20931", "problem_description": "dented"},
            candidates={"problem_photos": answer},
        )
    )
    assert (slots["problem_photos"], slots["requested_slot"], said) == (kept, None, [])


async def test_words_sent_with_photos_answer_the_photo_step_as_photos() -> None:
    slots, _ = await validate(
        tracker(
            text="here they are",
            metadata={"store_id": STORE, "photo_count": 2},
            slots={"problem_type": "damaged", "verified_order_number": "FZ-20931", "problem_description": "dented"},
            candidates={"problem_photos": "here they are"},
        )
    )
    assert (slots["problem_photos"], slots["requested_slot"]) == ("sent", None)


async def test_photos_sent_with_the_description_skip_the_photo_question() -> None:
    slots, said = await validate(
        tracker(
            text="the flange is cracked, photos attached",
            metadata={"store_id": STORE, "photo_count": 1},
            slots={"problem_type": "damaged", "verified_order_number": "FZ-20931"},
            candidates={"problem_description": "the flange is cracked, photos attached"},
        )
    )
    assert (slots["problem_photos"], slots["requested_slot"], said) == ("sent", None, [])


@pytest.mark.parametrize("problem", ["damaged", "missing_parts", "wrong_item"])
async def test_the_photo_question_fits_the_problem_and_offers_skip(problem: str) -> None:
    dispatcher = CollectingDispatcher()
    await problem_actions.ActionAskProblemPhotos().run(dispatcher, tracker(slots={"problem_type": problem}), DOMAIN)
    assert [(m["text"], m["buttons"]) for m in dispatcher.messages] == [
        (replies.ASK_PROBLEM_PHOTOS[problem], [replies.SKIP_PHOTOS_BUTTON])
    ]


async def _photo(sessions: async_sessionmaker[AsyncSession], conversation: ConversationService, chat, sent: bool) -> str:  # type: ignore[no-untyped-def]
    photos = ConversationPhotos(sessions, DatabaseStorage(sessions))
    photo = await photos.add(chat.store_id, chat.conversation_id, "shopper", prepare_photo(image_bytes("JPEG", (64, 48))))
    if sent:
        from bot.chat.conversations import NewMessage

        stored = await conversation.append(chat, [NewMessage("shopper", "")])
        await photos.attach_to_message(chat.store_id, chat.conversation_id, stored[0].seq, [photo.id])
    return photo.id


async def test_the_report_takes_the_photos_sent_in_its_conversation(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    conversations = ConversationService(demo_sessions)
    chat = await conversations.for_shopper(STORE, "alex@example.com")
    elsewhere = await conversations.for_shopper("bloomkids-baby", "alex@example.com")
    sent = [await _photo(demo_sessions, conversations, chat, sent=True) for _ in range(2)]
    unsent = await _photo(demo_sessions, conversations, chat, sent=False)
    other = await _photo(demo_sessions, conversations, elsewhere, sent=True)
    dispatcher = CollectingDispatcher()
    await problem_actions.ActionRecordProblemReport().run(
        dispatcher,
        tracker(
            chat.conversation_id,
            metadata=ALEX,
            slots={"problem_type": "damaged", "verified_order_number": "FZ-20931", "problem_description": "dented corner"},
        ),
        DOMAIN,
    )
    async with demo_sessions() as session:
        escalation = (await session.scalars(select(Escalation))).one()
        filed = dict((await session.execute(select(Photo.id, Photo.escalation_id))).tuples().all())
    assert filed == {sent[0]: escalation.id, sent[1]: escalation.id, unsent: None, other: None}
    said = [m["text"] for m in dispatcher.messages]
    assert said[-1] == replies.PHOTOS_WITH_REPORT.format(count=2)
    # Never a word that claims someone looked at them.
    assert not any(word in " ".join(said).lower() for word in ("i can see", "looks", "i see", "looking at"))


async def test_photos_sent_outside_the_photo_step_are_acknowledged_for_where_they_went(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")

    async def said(active_loop: str | None) -> list[tuple[str, list[Any]]]:
        dispatcher = CollectingDispatcher()
        t = tracker(chat.conversation_id, text="/share_photos", intent="share_photos", metadata=ALEX)
        t.active_loop = {"name": active_loop} if active_loop else {}
        await problem_actions.ActionAcknowledgePhotos().run(dispatcher, t, DOMAIN)
        return [(m["text"], m["buttons"]) for m in dispatcher.messages]

    assert await said(None) == [(replies.PHOTOS_KEPT, replies.PHOTOS_KEPT_BUTTONS)]
    assert await said("problem_report_form") == [(replies.PHOTOS_KEPT_FOR_REPORT, [])]
    case = await EscalationService(demo_sessions).record(chat.conversation_id, "damaged", "dented")
    assert case is not None
    assert await said(None) == [(replies.PHOTOS_ADDED_TO_CASE.format(reference=case.reference), [])]
