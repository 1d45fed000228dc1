"""End to end: changing the subject inside a form (bot/chat/form_interruptions.py), through
the chat API of a real Rasa server and action server over the demo stores.

Phrasings are plain on purpose: these test the dialogue, not the NLU's reach.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot.chat import replies
from bot.chat.conversations import ConversationService
from bot.chat.rasa_client import RasaClient
from bot.core.config import PROJECT_ROOT, Settings
from bot.core.db import create_engine, create_sessionmaker
from bot.runtime.stack import Stack
from tests.chat.test_conversations import CAR_PARTS, Conversation, escalations_of, store_conversation

pytestmark = pytest.mark.engine

RESPONSES: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["responses"]
LOOKUP_STOPPED = RESPONSES["utter_order_lookup_stopped"][0]["text"]
BOT_CHALLENGE = RESPONSES["utter_bot_challenge"][0]["text"]
OUT_OF_SCOPE = RESPONSES["utter_out_of_scope"][0]["text"]
BACK_TO_THE_NUMBER = "Back to your order: what's the order number?"
ALEX = {**CAR_PARTS, "shopper_email": "alex@example.com"}
#: Answers to "what's the order number?" that are no order number.
NOT_NUMBERS = ("order number: 12", "the number is abc")


async def test_an_install_question_is_answered_then_the_lookup_goes_on_to_the_end(rasa: RasaClient) -> None:
    chat = Conversation(rasa, CAR_PARTS)
    assert replies.ASK_ORDER_NUMBER in await chat.say_text("where is my order?")
    answer = await chat.say_text("how do I install the oil pan?")
    assert "Aluminium oil pan" in answer
    assert answer.endswith(BACK_TO_THE_NUMBER)
    assert replies.NOT_AN_ORDER_NUMBER not in answer
    assert await chat.say_text("FZ-20931") == replies.ASK_ORDER_VERIFICATION
    assert "9400111899223100000000" in await chat.say_text("alex@example.com")


async def test_three_other_requests_in_a_row_are_each_answered_and_the_lookup_waits(rasa: RasaClient) -> None:
    chat = Conversation(rasa, CAR_PARTS)
    await chat.say_text("where is my order?")
    for text, answer in (
        ("are you a bot?", BOT_CHALLENGE),
        ("what's the weather in paris", OUT_OF_SCOPE),
        ("i want to return it", replies_of("utter_return")),
    ):
        assert await chat.say_text(text) == f"{answer}\n{BACK_TO_THE_NUMBER}"
    assert await chat.say_text("FZ-20931") == replies.ASK_ORDER_VERIFICATION


def replies_of(response: str) -> str:
    return RESPONSES[response][0]["text"]


async def test_declining_reviews_during_the_lookup_is_heard_and_the_lookup_goes_on(rasa: RasaClient) -> None:
    chat = Conversation(rasa, CAR_PARTS)
    await chat.say_text("where is my order?")
    # Without a signed-in shopper the opt-out can't be stored for good, and says so.
    answer = await chat.say_text("stop asking me for reviews")
    assert answer == f"{replies.REVIEW_OPT_OUT_UNKNOWN}\n{BACK_TO_THE_NUMBER}"


@pytest.mark.parametrize("words", ["never mind", "forget it", "cancel"])
async def test_never_mind_leaves_the_lookup_and_forgets_its_answers(rasa: RasaClient, words: str) -> None:
    chat = Conversation(rasa, CAR_PARTS)
    assert await chat.say_text("where is my order FZ-20931") == replies.ASK_ORDER_VERIFICATION
    assert await chat.say_text(words) == LOOKUP_STOPPED
    # Asked again, the lookup starts afresh: the number given before is forgotten.
    assert await chat.say_text("where is my order?") == replies.ASK_ORDER_NUMBER


async def two_unusable_answers(chat: Conversation) -> dict[str, Any]:
    """Start the lookup, answer twice with no order number; the choices offered."""
    await chat.say_text("where is my order?")
    assert await chat.say_text(NOT_NUMBERS[0]) == f"{replies.NOT_AN_ORDER_NUMBER}\n{replies.ASK_ORDER_NUMBER}"
    [choices] = await chat.say(NOT_NUMBERS[1])
    assert choices["text"] == replies.FORM_CHOICES  # instead of the same question again
    return {button["title"]: button["payload"] for button in choices["buttons"]}


async def test_after_two_unusable_answers_talk_to_a_person_hands_the_chat_over(
    rasa: RasaClient, engine: tuple[Stack, Settings]
) -> None:
    conversation_id, db = await store_conversation(engine[1])
    try:
        chat = Conversation(rasa, CAR_PARTS)
        chat.id = conversation_id
        buttons = await two_unusable_answers(chat)
        assert list(buttons) == ["Try again", "Talk to a person", "Something else"]
        answer = await chat.say_text(buttons["Talk to a person"])
        [escalation] = await escalations_of(db, conversation_id)
        assert escalation.reason == "shopper_request"
        assert f"I've asked a person from the store to help you (reference E-{escalation.id})." in answer
        # The lookup was left.
        assert await chat.say_text("where is my order?") == replies.ASK_ORDER_NUMBER
    finally:
        await db.dispose()


async def test_after_two_unusable_answers_try_again_and_something_else_work_tapped_or_typed(rasa: RasaClient) -> None:
    chat = Conversation(rasa, CAR_PARTS)
    buttons = await two_unusable_answers(chat)
    assert await chat.say_text(buttons["Try again"]) == replies.ASK_ORDER_NUMBER
    # A fresh run: the next unusable answer says why, the one after offers the choices.
    assert replies.NOT_AN_ORDER_NUMBER in await chat.say_text(NOT_NUMBERS[0])
    assert await chat.say_text(NOT_NUMBERS[1]) == replies.FORM_CHOICES
    assert await chat.say_text("try again") == replies.ASK_ORDER_NUMBER
    await chat.say_text(NOT_NUMBERS[0])
    assert await chat.say_text(NOT_NUMBERS[1]) == replies.FORM_CHOICES
    assert await chat.say_text(buttons["Something else"]) == LOOKUP_STOPPED
    assert await chat.say_text("where is my order FZ-20931") == replies.ASK_ORDER_VERIFICATION


async def test_where_is_my_order_during_the_review_switches_to_the_lookup(
    rasa: RasaClient, engine: tuple[Stack, Settings]
) -> None:
    # Alex's own conversation with the store, as the store's review invitation finds it.
    db = create_engine(engine[1].database_url)
    try:
        alex_chat = await ConversationService(create_sessionmaker(db)).for_shopper("yangteng-auto", "alex@example.com")
    finally:
        await db.dispose()
    chat = Conversation(rasa, ALEX)
    chat.id = alex_chat.conversation_id
    assert replies.ASK_REVIEW_RATING in await chat.say_text("i want to leave a review")
    [question] = await chat.say("where is my order?")
    assert question["text"] == replies.CHOOSE_ORDER  # the lookup's own question: no "back to your review"
    payloads = {b["title"].split(" ·")[0]: b["payload"] for b in question["buttons"]}
    assert "9400111899223100000000" in await chat.say_text(payloads["FZ-20931"])


async def test_a_damaged_item_during_the_lookup_starts_the_problem_report_with_the_same_order(rasa: RasaClient) -> None:
    chat = Conversation(rasa, CAR_PARTS)
    assert await chat.say_text("where is my order FZ-20931") == replies.ASK_ORDER_VERIFICATION
    # The problem report replaces the lookup and keeps the number given: it asks for the proof.
    assert await chat.say_text("the oil pan arrived damaged") == replies.ASK_ORDER_VERIFICATION
    assert await chat.say_text("alex@example.com") == replies.ASK_PROBLEM_DESCRIPTION["damaged"]
