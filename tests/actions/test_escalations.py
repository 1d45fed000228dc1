"""When a person from the store takes over: the shopper asks, the bot misunderstands
twice in a row, or failed identity checks lock an order. Each records one
escalation, and the shopper is told honestly what happens next."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions import escalations as escalation_actions
from actions import orders as order_actions
from bot.chat import replies
from bot.chat.conversations import ConversationService
from bot.core.config import PROJECT_ROOT
from bot.core.models import Agent, AgentMembership, AgentSession, Escalation, Store
from bot.orders.identity_checks import IdentityChecks
from bot.orders.lookup import OrderService
from bot.support.escalations import EscalationService

DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
STORE = "yangteng-auto"
OTHER_STORE = "bloomkids-baby"
ALEX = {"store_id": STORE, "shopper_email": "alex@example.com"}
UTC = dt.UTC
#: Wednesday 25 November 2026, 11:00 in Fuzhou (Asia/Shanghai): inside the default business hours.
WORKING_HOURS = dt.datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
#: Friday 27 November 2026, 20:00 in Fuzhou: after hours.
FRIDAY_EVENING = dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

STAYS_OPEN = "The chat stays open: the answer will appear here, even if you close the page and come back later."
CONNECTING = "I'm connecting you with a person from Yangteng Auto Parts now; they'll answer right here."
BUSY = f"Everyone at Yangteng Auto Parts is busy right now. A person usually answers within 60 minutes. {STAYS_OPEN}"
BACK_SATURDAY = (
    "The team at Yangteng Auto Parts is offline right now. They're back in about 14 hours "
    f"(Saturday 10:00, Asia/Shanghai time) and usually answer within 2 hours of opening. {STAYS_OPEN}"
)


@pytest.fixture(autouse=True)
def services(demo_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(order_actions, "order_service", lambda: OrderService(demo_sessions))
    monkeypatch.setattr(order_actions, "identity_checks", lambda: IdentityChecks(demo_sessions, OrderService(demo_sessions)))
    monkeypatch.setattr(escalation_actions, "escalation_service", lambda: EscalationService(demo_sessions))
    monkeypatch.setattr(escalation_actions, "clock", lambda: WORKING_HOURS)


@pytest.fixture(autouse=True)
async def office_hours(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    """Both stores work the default hours (Monday to Friday, 09:00 to 18:00 in
    Fuzhou) and usually answer within an hour, whatever the demo data says."""
    async with demo_sessions() as session, session.begin():
        await session.execute(
            update(Store).where(Store.id.in_([STORE, OTHER_STORE])).values(business_hours=None, reply_time_minutes=60)
        )


Turn = tuple[str, str, "str | None"]  # the shopper's text, its intent, the bot's first action after it


def conversation(
    sender: str,
    turns: list[Turn],
    *,
    metadata: dict[str, Any] | None = None,
    slots: dict[str, Any] | None = None,
    between: dict[int, list[dict[str, Any]]] | None = None,
) -> Tracker:
    """A tracker whose last turn is the message being answered now; ``between``
    puts extra events (a new session, a pause) before the turn of that index."""
    metadata = {"store_id": STORE} if metadata is None else metadata
    events: list[dict[str, Any]] = []
    for index, (text, intent, answered_by) in enumerate(turns):
        events += (between or {}).get(index, [])
        events.append({"event": "action", "name": "action_listen"})
        events.append({"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}, "metadata": metadata})
        if answered_by:
            events += [{"event": "action", "name": answered_by}, {"event": "bot", "text": "..."}]
    text, intent, _ = turns[-1]
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": {"requested_slot": None, **(slots or {})},
            "latest_message": {"text": text, "intent": {"name": intent}, "entities": [], "metadata": metadata},
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


async def escalations(sessions: async_sessionmaker[AsyncSession]) -> list[Escalation]:
    async with sessions() as session:
        return list((await session.scalars(select(Escalation).order_by(Escalation.id))).all())


async def run(action: Any, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    return events, dispatcher.messages


def texts(messages: list[dict[str, Any]]) -> list[str | None]:
    return [m.get("text") for m in messages]


# --- the shopper asks for a person ---


async def test_asking_for_a_person_records_it_with_the_known_order(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    _, said = await run(
        escalation_actions.ActionEscalateToHuman(),
        conversation(
            chat.conversation_id,
            [("can I talk to a real person", "request_human", None)],
            metadata=ALEX,
            slots={"verified_order_number": "FZ-20931"},
        ),
    )
    [escalation] = await escalations(demo_sessions)
    assert (escalation.store_id, escalation.conversation_id) == (STORE, chat.conversation_id)
    assert (escalation.reason, escalation.priority, escalation.status) == ("shopper_request", "normal", "open")
    assert escalation.details == "can I talk to a real person" and escalation.order_id is not None
    assert texts(said) == [f"I've asked a person from the store to help you (reference E-{escalation.id}). {BUSY}"]
    assert texts(said) == [replies.PERSON_REQUESTED.format(reference=f"E-{escalation.id}", next_steps=BUSY)]


async def test_asking_again_while_waiting_keeps_one_case(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    _, first = await run(
        escalation_actions.ActionEscalateToHuman(),
        conversation(chat.conversation_id, [("a person please", "request_human", None)], metadata=ALEX),
    )
    _, second = await run(
        escalation_actions.ActionEscalateToHuman(),
        conversation(chat.conversation_id, [("hello? a human??", "request_human", None)], metadata=ALEX),
    )
    [escalation] = await escalations(demo_sessions)
    assert escalation.details == "a person please\nhello? a human??"
    assert texts(first) == texts(second)  # the same reference and the same next steps


async def test_an_unknown_conversation_is_told_honestly(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    _, said = await run(
        escalation_actions.ActionEscalateToHuman(),
        conversation("not-a-conversation", [("human please", "request_human", None)]),
    )
    assert texts(said) == [replies.ESCALATION_NOT_RECORDED]
    assert await escalations(demo_sessions) == []


async def test_a_chat_without_a_store_records_nothing(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    _, said = await run(
        escalation_actions.ActionEscalateToHuman(),
        conversation(chat.conversation_id, [("human please", "request_human", None)], metadata={}),
    )
    assert texts(said) == [replies.NO_STORE]
    assert await escalations(demo_sessions) == []


# --- two messages in a row that the bot did not understand ---

NOT_UNDERSTOOD = escalation_actions.NOT_UNDERSTOOD_ACTION


async def test_one_message_not_understood_only_says_so(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    events, said = await run(
        escalation_actions.ActionHandleNotUnderstood(),
        conversation(
            chat.conversation_id,
            [("hi", "greet", "action_greet"), ("blorp the flanges", "nlu_fallback", None)],
            metadata=ALEX,
        ),
    )
    assert texts(said) == [replies.NOT_UNDERSTOOD]
    assert events == []  # an NLU fallback is answered by a rule: nothing to undo
    assert await escalations(demo_sessions) == []


async def test_an_understood_message_in_between_starts_over(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    _, said = await run(
        escalation_actions.ActionHandleNotUnderstood(),
        conversation(
            chat.conversation_id,
            [
                ("blorp the flanges", "nlu_fallback", NOT_UNDERSTOOD),
                ("thanks", "thank", "utter_thank"),
                ("zzzt qwop", "nlu_fallback", None),
            ],
            metadata=ALEX,
        ),
    )
    assert texts(said) == [replies.NOT_UNDERSTOOD]
    assert await escalations(demo_sessions) == []


async def test_two_in_a_row_ask_a_person(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    events, said = await run(
        escalation_actions.ActionHandleNotUnderstood(),
        conversation(
            chat.conversation_id,
            [
                ("hi", "greet", "action_greet"),
                ("blorp the flanges", "nlu_fallback", NOT_UNDERSTOOD),
                ("the flanges! they blorp!", "nlu_fallback", None),
            ],
            metadata=ALEX,
            slots={"verified_order_number": "FZ-20931"},
        ),
    )
    [escalation] = await escalations(demo_sessions)
    assert (escalation.store_id, escalation.reason, escalation.priority) == (STORE, "not_understood", "normal")
    assert escalation.details == "blorp the flanges\nthe flanges! they blorp!"
    assert escalation.summary == (
        "The bot did not understand twice · order FZ-20931: blorp the flanges the flanges! they blorp!"
    )
    assert texts(said) == [
        (
            "Sorry, I still didn't understand that, so I've asked a person from the store to help you "
            f"(reference E-{escalation.id}). {BUSY}"
        )
    ]
    assert events == []


async def test_a_third_in_a_row_joins_the_same_case(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    turns: list[Turn] = [("blorp", "nlu_fallback", NOT_UNDERSTOOD), ("flanges", "nlu_fallback", None)]
    _, first = await run(
        escalation_actions.ActionHandleNotUnderstood(), conversation(chat.conversation_id, turns, metadata=ALEX)
    )
    turns = [
        ("blorp", "nlu_fallback", NOT_UNDERSTOOD),
        ("flanges", "nlu_fallback", NOT_UNDERSTOOD),
        ("hello??", "nlu_fallback", None),
    ]
    _, again = await run(
        escalation_actions.ActionHandleNotUnderstood(), conversation(chat.conversation_id, turns, metadata=ALEX)
    )
    [escalation] = await escalations(demo_sessions)
    assert escalation.details == "blorp\nflanges\nhello??"
    assert texts(first) == texts(again)


async def test_a_turn_without_a_rule_counts_too_and_is_forgotten(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    """As the core fallback (no rule for the turn) the message is undone, as
    Rasa's default fallback does, and still counts as not understood."""
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    events, said = await run(
        escalation_actions.ActionHandleNotUnderstood(),
        conversation(chat.conversation_id, [("hi", "greet", "action_greet"), ("yes, 12", "affirm", None)], metadata=ALEX),
    )
    assert events == [{"event": "rewind", "timestamp": None}]
    assert texts(said) == [replies.NOT_UNDERSTOOD]
    assert await escalations(demo_sessions) == []

    tracker = conversation(
        chat.conversation_id,
        [("hi", "greet", "action_greet"), ("yes, 12", "affirm", NOT_UNDERSTOOD), ("blorp", "nlu_fallback", None)],
        metadata=ALEX,
    )
    # The undone message stays in the events, followed by Rasa's rewind.
    tracker.events.insert(-2, {"event": "rewind"})
    _, said = await run(escalation_actions.ActionHandleNotUnderstood(), tracker)
    [escalation] = await escalations(demo_sessions)
    assert escalation.details == "yes, 12\nblorp"
    assert texts(said)[0].startswith("Sorry, I still didn't understand that")


async def test_a_new_session_starts_over(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    _, said = await run(
        escalation_actions.ActionHandleNotUnderstood(),
        conversation(
            chat.conversation_id,
            [("blorp", "nlu_fallback", NOT_UNDERSTOOD), ("flanges", "nlu_fallback", None)],
            metadata=ALEX,
            between={1: [{"event": "session_started"}, {"event": "action", "name": "action_session_start"}]},
        ),
    )
    assert texts(said) == [replies.NOT_UNDERSTOOD]
    assert await escalations(demo_sessions) == []


async def test_messages_a_person_answered_while_the_bot_was_paused_do_not_count(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    chat = await ConversationService(demo_sessions).for_shopper(STORE, "alex@example.com")
    _, said = await run(
        escalation_actions.ActionHandleNotUnderstood(),
        conversation(
            chat.conversation_id,
            [
                ("blorp", "nlu_fallback", NOT_UNDERSTOOD),
                ("ok the straps, got it, thx", "nlu_fallback", None),  # the agent answered; the bot stayed silent
                ("zzzt", "nlu_fallback", None),
            ],
            metadata=ALEX,
            between={1: [{"event": "pause"}], 2: [{"event": "resume"}]},
        ),
    )
    assert texts(said) == [replies.NOT_UNDERSTOOD]
    assert await escalations(demo_sessions) == []


# --- the failed identity check that locks an order ---


def form_tracker(sender: str, candidates: dict[str, Any], slots: dict[str, Any], client_key: str | None = None) -> Tracker:
    metadata = {"store_id": STORE, **({"client_key": client_key} if client_key else {})}
    text = " ".join(str(v) for v in candidates.values())
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": {"requested_slot": None, **slots, **candidates},
            "latest_message": {"text": text, "intent": {"name": "inform"}, "entities": [], "metadata": metadata},
            "events": [
                {"event": "user", "text": text, "parse_data": {"intent": {"name": "inform"}}, "metadata": metadata},
                {"event": "action", "name": "order_status_form"},
                *({"event": "slot", "name": k, "value": v} for k, v in candidates.items()),
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": "order_status_form"},
            "latest_action_name": "order_status_form",
        }
    )


async def validate(tracker: Tracker) -> tuple[dict[str, Any], list[str | None]]:
    events, said = await run(order_actions.ValidateOrderStatusForm(), tracker)
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}, texts(said)


async def fail_elsewhere(times: int, order_number: str = "FZ-20931") -> None:
    """Failed checks of the order from other conversations (each a new one, as after /restart)."""
    for attempt in range(times):
        _, said = await validate(
            form_tracker(
                f"earlier-chat-{attempt}", {"order_number": order_number, "order_verification": f"9021{attempt}"}, {}
            )
        )
        assert said == [replies.IDENTITY_CHECK_FAILED]


async def test_the_failure_that_locks_the_order_hands_over_to_a_person_once(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    chat, _ = await ConversationService(demo_sessions).start(STORE)
    await fail_elsewhere(4)
    assert await escalations(demo_sessions) == []  # failures alone ask nobody
    # The fifth failure of that order, in this conversation, locks it: the shopper answers the
    # form's question for the email or postcode (a bare "90219" asked for nothing in particular
    # would be read as an order number).
    slots, said = await validate(
        form_tracker(
            chat.conversation_id,
            {"order_verification": "90219"},
            {"order_number": "FZ-20931", "requested_slot": "order_verification"},
        )
    )
    [escalation] = await escalations(demo_sessions)
    assert (escalation.store_id, escalation.conversation_id) == (STORE, chat.conversation_id)
    assert (escalation.reason, escalation.priority) == ("identity_check_failed", "normal")
    assert escalation.details == "Locked: this order number. Order number tried last: FZ-20931"
    assert "90219" not in escalation.details + escalation.summary  # the proof offered is never kept
    assert said == [
        (
            "Sorry, those details still don't match an order. For your security I won't check them again for now, "
            f"but a person from the store will help you here in this chat (reference E-{escalation.id}). {BUSY}"
        )
    ]
    assert slots["requested_slot"] is None
    assert slots["identity_check_escalation"] == f"E-{escalation.id}"
    assert "verified_order_number" not in slots

    # Later, the shopper tries again, even with the right details: nothing is
    # checked, and no second case is opened.
    slots, said = await validate(
        form_tracker(
            chat.conversation_id,
            {"order_number": "FZ-20931", "order_verification": "10027"},
            {"identity_check_escalation": f"E-{escalation.id}"},
        )
    )
    assert said == [
        (
            "For your security I won't check order details again for now, "
            f"but a person from the store will help you here in this chat (reference E-{escalation.id}). {BUSY}"
        )
    ]
    assert "verified_order_number" not in slots and slots["requested_slot"] is None
    # Nor from another conversation (a /restart, a new chat): the lock is the order's, and it was reported once.
    other, _ = await ConversationService(demo_sessions).start(STORE)
    slots, said = await validate(
        form_tracker(other.conversation_id, {"order_number": "FZ-20931", "order_verification": "10027"}, {})
    )
    assert said == [replies.IDENTITY_CHECK_PAUSED]
    assert "verified_order_number" not in slots and slots["requested_slot"] is None
    assert len(await escalations(demo_sessions)) == 1


async def test_an_address_walking_over_order_numbers_is_locked_and_reported_once(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    chat, _ = await ConversationService(demo_sessions).start(STORE)
    for n in range(9):  # one postcode against nine order numbers, from one address
        _, said = await validate(
            form_tracker(
                chat.conversation_id, {"order_number": f"FZ-{20900 + n}", "order_verification": "10027"}, {}, "203.0.113.5"
            )
        )
        assert said == [replies.IDENTITY_CHECK_FAILED]
    slots, said = await validate(
        form_tracker(chat.conversation_id, {"order_number": "FZ-20999", "order_verification": "10027"}, {}, "203.0.113.5")
    )
    [escalation] = await escalations(demo_sessions)
    assert escalation.details == "Locked: checks from this shopper's address. Order number tried last: FZ-20999"
    assert slots["identity_check_escalation"] == f"E-{escalation.id}"
    # A new conversation from that address: even a right pair is not compared, and nobody is asked again.
    other, _ = await ConversationService(demo_sessions).start(STORE)
    slots, said = await validate(
        form_tracker(other.conversation_id, {"order_number": "FZ-20931", "order_verification": "10027"}, {}, "203.0.113.5")
    )
    assert said == [replies.IDENTITY_CHECK_PAUSED] and "verified_order_number" not in slots
    # From elsewhere, the owner still gets in.
    slots, _ = await validate(
        form_tracker(other.conversation_id, {"order_number": "FZ-20931", "order_verification": "10027"}, {}, "198.51.100.20")
    )
    assert slots["verified_order_number"] == "FZ-20931"
    assert len(await escalations(demo_sessions)) == 1


async def test_a_locked_chat_the_store_does_not_know_is_pointed_elsewhere(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await fail_elsewhere(4)
    slots, said = await validate(
        form_tracker("not-a-conversation", {"order_verification": "eve@example.com"}, {"order_number": "FZ-20931"})
    )
    assert said == [replies.IDENTITY_CHECK_LOCKED_NOT_RECORDED]
    assert slots["identity_check_escalation"] is None and slots["requested_slot"] is None
    _, said = await validate(
        form_tracker("not-a-conversation", {"order_number": "FZ-20931", "order_verification": "10027"}, {})
    )
    assert said == [replies.IDENTITY_CHECK_PAUSED]
    assert await escalations(demo_sessions) == []


# --- what the shopper is told happens next ---


async def sign_in_agent(
    sessions: async_sessionmaker[AsyncSession], store_id: str, *, seen: dt.datetime, email: str = "li.wei@example.com"
) -> None:
    async with sessions() as session, session.begin():
        agent = Agent(email=email, name="Li Wei", password_hash="not-a-real-hash")
        session.add(agent)
        await session.flush()
        session.add(AgentMembership(agent_id=agent.id, store_id=store_id))
        session.add(
            AgentSession(
                token_hash=f"{agent.id:064d}",
                agent_id=agent.id,
                csrf_token="x" * 32,
                expires_at=seen + dt.timedelta(hours=8),
                last_seen_at=seen,
            )
        )


async def ask_for_a_person(sessions: async_sessionmaker[AsyncSession], store_id: str = STORE) -> str:
    chat = await ConversationService(sessions).for_shopper(store_id, "alex@example.com")
    _, said = await run(
        escalation_actions.ActionEscalateToHuman(),
        conversation(chat.conversation_id, [("a person please", "request_human", None)], metadata={"store_id": store_id}),
    )
    [text] = texts(said)
    assert text is not None
    return text


async def test_an_agent_online_is_connected_now(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await sign_in_agent(demo_sessions, STORE, seen=WORKING_HOURS - dt.timedelta(seconds=20))
    assert (await ask_for_a_person(demo_sessions)).endswith(f"). {CONNECTING}")


async def test_an_agent_online_out_of_hours_is_connected_too(
    demo_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(escalation_actions, "clock", lambda: FRIDAY_EVENING)
    await sign_in_agent(demo_sessions, STORE, seen=FRIDAY_EVENING)
    assert (await ask_for_a_person(demo_sessions)).endswith(f"). {CONNECTING}")


async def test_an_agent_who_left_the_console_a_while_ago_is_not_online(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await sign_in_agent(demo_sessions, STORE, seen=WORKING_HOURS - dt.timedelta(minutes=5))
    assert (await ask_for_a_person(demo_sessions)).endswith(f"). {BUSY}")


async def test_nobody_online_in_business_hours_gives_the_reply_time(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    assert (await ask_for_a_person(demo_sessions)).endswith(f"). {BUSY}")


async def test_nobody_online_out_of_hours_says_when_they_are_back(
    demo_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(escalation_actions, "clock", lambda: FRIDAY_EVENING)
    async with demo_sessions() as session, session.begin():
        await session.execute(
            update(Store)
            .where(Store.id == STORE)
            .values(
                business_hours={"mon": ["09:00-18:00"], "fri": ["09:00-18:00"], "sat": ["10:00-14:00"]},
                reply_time_minutes=120,
            )
        )
    text = await ask_for_a_person(demo_sessions)
    [escalation] = await escalations(demo_sessions)
    assert text == f"I've asked a person from the store to help you (reference E-{escalation.id}). {BACK_SATURDAY}"


# --- one store never sees another's ---


async def test_each_store_has_its_own_people_and_cases(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    # Someone is online at BloomKids, nobody at Yangteng.
    await sign_in_agent(demo_sessions, OTHER_STORE, seen=WORKING_HOURS)
    assert (await ask_for_a_person(demo_sessions, STORE)).endswith(f"). {BUSY}")
    bloomkids = await ask_for_a_person(demo_sessions, OTHER_STORE)
    assert bloomkids.endswith("). I'm connecting you with a person from BloomKids Baby now; they'll answer right here.")

    yangteng_case, bloomkids_case = await escalations(demo_sessions)
    assert (yangteng_case.store_id, bloomkids_case.store_id) == (STORE, OTHER_STORE)
    service = EscalationService(demo_sessions)
    assert [e.id for e in await service.for_store(STORE)] == [yangteng_case.id]
    assert [e.id for e in await service.for_store(OTHER_STORE)] == [bloomkids_case.id]
    assert [e.id for e in await service.for_store("summit-outdoor")] == []


async def test_a_reason_the_store_turned_off_records_nothing_and_says_so(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    from sqlalchemy import func

    from bot.seller.store_settings import StoreSettingsService

    await StoreSettingsService(demo_sessions).update(
        "yangteng-auto", {"escalation": {"reasons": ["shopper_request", "not_received"]}}, "Wang Fang"
    )
    chat = await ConversationService(demo_sessions).for_shopper("yangteng-auto", "alex@example.com")
    tracker = Tracker.from_dict(
        {
            "sender_id": chat.conversation_id,
            "slots": {},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_message": {
                "intent": {"name": "report_damaged"},
                "entities": [],
                "text": "it's cracked",
                "metadata": {"store_id": "yangteng-auto", "shopper_email": "alex@example.com"},
            },
        }
    )
    dispatcher = CollectingDispatcher()
    assert await escalation_actions.escalate(dispatcher, tracker, "damaged", "cracked", "FZ-20931") is None
    assert dispatcher.messages[0]["text"].startswith("Thank you for telling me")
    assert "order FZ-20931" in dispatcher.messages[0]["text"]
    # Asking for a person always works, whatever the settings.
    dispatcher = CollectingDispatcher()
    assert await escalation_actions.escalate(dispatcher, tracker, "shopper_request", "a person please") is not None
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Escalation)) == 1
