"""The review invitation and the shopper's answer, driven with trackers built from dicts."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions import reviews as review_actions
from bot.chat import replies
from bot.chat.conversations import ConversationService
from bot.core.config import PROJECT_ROOT
from bot.core.models import Review, ReviewOptOut
from bot.reviews.shopper_reviews import ReviewService

DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
STORE = "yangteng-auto"
ALEX = {"store_id": STORE, "shopper_email": "alex@example.com"}
DELIVERED_ORDER = "FZ-20412"  # Alex's delivered gasket and drain plug


@pytest.fixture(autouse=True)
def service(demo_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_actions, "review_service", lambda: ReviewService(demo_sessions))


@pytest.fixture
async def alex_chat(demo_sessions: async_sessionmaker[AsyncSession]) -> str:
    return (await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")).conversation_id


def tracker(
    sender: str,
    *,
    intent: str = "inform",
    text: str = "",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    candidates: dict[str, Any] | None = None,
    form: bool = False,
) -> Tracker:
    metadata = ALEX if metadata is None else metadata
    candidates = candidates or {}
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": {"requested_slot": None, **(slots or {}), **candidates},
            "latest_message": {"text": text, "intent": {"name": intent}, "entities": entities or [], "metadata": metadata},
            "events": [
                {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}, "metadata": metadata},
                *({"event": "slot", "name": k, "value": v} for k, v in candidates.items()),
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": "review_form"} if form else {},
            "latest_action_name": "review_form" if form else "action_listen",
        }
    )


def test_ratings_are_read_from_numbers_words_and_stars() -> None:
    assert [
        review_actions.parse_rating(v) for v in ["5", "five", "4 stars", "★★★", "i'd say 2", "0", "6", "great", None]
    ] == [5, 5, 4, 3, 2, None, None, None, None]


async def test_the_invitation_names_the_order_and_offers_ratings_and_a_way_out(alex_chat: str) -> None:
    dispatcher = CollectingDispatcher()
    events = await review_actions.ActionSendReviewInvitation().run(
        dispatcher,
        tracker(
            alex_chat, intent="EXTERNAL_review_due", entities=[{"entity": "order_id", "value": DELIVERED_ORDER}], metadata={}
        ),
        DOMAIN,
    )
    (message,) = dispatcher.messages
    assert message["text"] == (
        "Hi! How are you getting on with your Oil pan gasket, Magnetic oil drain plug M14×1.5? If you have a minute, "
        f"we'd be grateful for your honest review of order {DELIVERED_ORDER}, good or bad: it helps other shoppers and "
        "helps us improve. How many stars would you give it?"
    )
    assert [b["payload"] for b in message["buttons"]] == [
        *(f'/leave_review{{"rating":"{n}"}}' for n in range(1, 6)),
        "/decline_review",
    ]
    # The same words for every shopper: nothing offered in return for a review.
    assert not any(word in message["text"].lower() for word in ("discount", "coupon", "refund", "free", "gift"))
    assert events == [SlotSet("review_order_number", DELIVERED_ORDER)]


async def test_no_invitation_for_someone_elses_or_an_undelivered_order(
    demo_sessions: async_sessionmaker[AsyncSession], alex_chat: str
) -> None:
    anonymous, _ = await ConversationService(demo_sessions).start(STORE)
    for sender, number in [(alex_chat, "FZ-20347"), (alex_chat, "FZ-20931"), (anonymous.conversation_id, DELIVERED_ORDER)]:
        dispatcher = CollectingDispatcher()
        events = await review_actions.ActionSendReviewInvitation().run(
            dispatcher,
            tracker(sender, intent="EXTERNAL_review_due", entities=[{"entity": "order_id", "value": number}], metadata={}),
            DOMAIN,
        )
        assert (dispatcher.messages, events) == ([], []), (sender, number)


async def validate(t: Tracker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await review_actions.ValidateReviewForm().run(dispatcher, t, DOMAIN)
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}, dispatcher.messages


async def test_a_review_without_an_invitation_finds_the_latest_delivered_order(alex_chat: str) -> None:
    slots, said = await validate(tracker(alex_chat, intent="leave_review", form=True))
    assert slots["review_order_number"] == DELIVERED_ORDER and said == []


async def test_no_order_no_review_form(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    anonymous, _ = await ConversationService(demo_sessions).start(STORE)
    slots, said = await validate(
        tracker(anonymous.conversation_id, intent="leave_review", metadata={"store_id": STORE}, form=True)
    )
    assert slots["requested_slot"] is None
    assert [m["text"] for m in said] == [replies.REVIEW_NO_ORDER]


async def test_a_rating_outside_one_to_five_is_asked_again(alex_chat: str) -> None:
    slots, said = await validate(
        tracker(
            alex_chat, slots={"review_order_number": DELIVERED_ORDER}, candidates={"review_rating": "7 stars"}, form=True
        )
    )
    assert slots["review_rating"] is None
    assert said[0]["text"] == replies.REVIEW_RATING_INVALID and len(said[0]["buttons"]) == 5
    slots, _ = await validate(
        tracker(alex_chat, slots={"review_order_number": DELIVERED_ORDER}, candidates={"review_rating": "four"}, form=True)
    )
    assert slots["review_rating"] == "4"


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("skip", "inform", ""),
        ("/deny", "deny", ""),
        ("No.", "deny", ""),
        ("  Fits   perfectly ", "inform", "Fits perfectly"),
    ],
)
async def test_the_words_are_optional(alex_chat: str, text: str, intent: str, expected: str) -> None:
    slots, _ = await validate(
        tracker(
            alex_chat,
            intent=intent,
            text=text,
            form=True,
            slots={"review_order_number": DELIVERED_ORDER, "review_rating": "5"},
            candidates={"review_comment": text},
        )
    )
    assert slots["review_comment"] == expected


async def test_the_rating_and_words_are_stored_with_the_stores_link(
    demo_sessions: async_sessionmaker[AsyncSession], alex_chat: str
) -> None:
    dispatcher = CollectingDispatcher()
    events = await review_actions.ActionSubmitReview().run(
        dispatcher,
        tracker(
            alex_chat,
            slots={
                "review_order_number": DELIVERED_ORDER,
                "review_rating": "5",
                "review_comment": "Super fast delivery, great price!",
            },
        ),
        DOMAIN,
    )
    async with demo_sessions() as session:
        review = (await session.scalars(select(Review))).one()
    assert (review.store_id, review.rating, review.text, review.conversation_id) == (
        STORE,
        5,
        "Super fast delivery, great price!",
        alex_chat,
    )
    assert [m["text"] for m in dispatcher.messages] == [
        "Thank you for your review, it's saved. "
        + replies.REVIEW_LINK.format(url="https://yangteng-auto.example/reviews/new?order=FZ-20412&sku=GK-2040")
    ]
    assert {e["name"]: e["value"] for e in events} == {
        "review_rating": None,
        "review_comment": None,
        "review_order_number": None,
    }


async def test_a_store_without_a_review_page_just_thanks(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper("bloomkids-baby", "emily.tremblay@example.com")
    dispatcher = CollectingDispatcher()
    await review_actions.ActionSubmitReview().run(
        dispatcher,
        tracker(
            chat.conversation_id,
            metadata={},
            slots={
                "review_order_number": "#1024",
                "review_rating": "2",
                "review_comment": "",
            },
        ),
        DOMAIN,
    )
    assert [m["text"] for m in dispatcher.messages] == ["Thank you for your review, it's saved."]
    async with demo_sessions() as session:
        assert [(r.rating, r.text) for r in (await session.scalars(select(Review))).all()] == [(2, "")]


async def test_stop_asking_me_opts_out_for_this_store(
    demo_sessions: async_sessionmaker[AsyncSession], alex_chat: str
) -> None:
    dispatcher = CollectingDispatcher()
    events = await review_actions.ActionDeclineReviews().run(dispatcher, tracker(alex_chat, intent="decline_review"), DOMAIN)
    assert [m["text"] for m in dispatcher.messages] == [replies.REVIEW_OPTED_OUT]
    assert SlotSet("review_order_number", None) in events
    async with demo_sessions() as session:
        assert [(o.store_id, o.shopper_email) for o in (await session.scalars(select(ReviewOptOut))).all()] == [
            (STORE, "alex@example.com")
        ]


async def test_an_anonymous_decline_cannot_opt_anyone_out(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    anonymous, _ = await ConversationService(demo_sessions).start(STORE)
    dispatcher = CollectingDispatcher()
    await review_actions.ActionDeclineReviews().run(
        dispatcher, tracker(anonymous.conversation_id, intent="decline_review", metadata={"store_id": STORE}), DOMAIN
    )
    assert [m["text"] for m in dispatcher.messages] == [replies.REVIEW_OPT_OUT_UNKNOWN]
    async with demo_sessions() as session:
        assert (await session.scalars(select(ReviewOptOut))).all() == []


async def test_the_sellers_changed_words_are_used_on_the_very_next_message(
    demo_sessions: async_sessionmaker[AsyncSession], alex_chat: str
) -> None:
    from bot.seller.store_settings import StoreSettingsService

    await StoreSettingsService(demo_sessions).update(
        STORE,
        {
            "templates": {
                "review_invitation": "{shopper_first_name}，您对订单 {order_number}（{item_names}）满意吗？",
                "review_thanks": "谢谢 {shopper_first_name}！",
            }
        },
        "Lin Wei",
    )
    dispatcher = CollectingDispatcher()
    await review_actions.ActionSendReviewInvitation().run(
        dispatcher,
        tracker(
            alex_chat, intent="EXTERNAL_review_due", entities=[{"entity": "order_id", "value": DELIVERED_ORDER}], metadata={}
        ),
        DOMAIN,
    )
    assert dispatcher.messages[0]["text"] == (
        f"Alex，您对订单 {DELIVERED_ORDER}（Oil pan gasket, Magnetic oil drain plug M14×1.5）满意吗？"
    )
    # Another store keeps its own (default) words.
    chat = await ConversationService(demo_sessions).for_shopper("bloomkids-baby", "emily.tremblay@example.com")
    dispatcher = CollectingDispatcher()
    await review_actions.ActionSubmitReview().run(
        dispatcher,
        tracker(
            chat.conversation_id,
            metadata={},
            slots={
                "review_order_number": "#1024",
                "review_rating": "4",
                "review_comment": "",
            },
        ),
        DOMAIN,
    )
    assert [m["text"] for m in dispatcher.messages] == ["Thank you for your review, it's saved."]
