"""End to end: a "Delivered" update puts the store's confirmation, with the
PDF manual, into the shopper's transcript — once — through the real worker,
Rasa server and action server."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.chat.conversations import ConversationService, StoredMessage
from bot.chat.rasa_client import RasaClient
from bot.core.config import Settings
from bot.core.db import create_engine, create_sessionmaker
from bot.runtime.stack import Stack
from tests.conftest import signed_shopper
from tests.engine import bot_cli

pytestmark = pytest.mark.engine

STORE = "yangteng-auto"
TRACKING = "9400111899223100000000"
DELIVERED = (
    "tracking-event",
    "--store",
    STORE,
    "--tracking-number",
    TRACKING,
    "--tag",
    "Delivered",
    "--message",
    "Delivered, in/at mailbox",
    "--location",
    "New York, NY 10027",
    "--time",
    "2026-11-27T21:40:00Z",
    "--event-id",
    "usps-delivered-1",
)


#: The conftest engine fixture starts these processes too.
ENGINE_PROCESSES = {"with_worker": True}


async def transcript(settings: Settings) -> tuple[str, list[StoredMessage]]:
    """What Alex sees when he opens the store's widget signed in."""
    db = create_engine(settings.database_url)
    try:
        service = ConversationService(create_sessionmaker(db))
        secret = await service.shopper_secret(STORE)
        assert secret
        shopper = signed_shopper(secret, "alex@example.com")
        chat, _ = await service.start(STORE, shopper["email"], shopper["signature"], shopper["ts"])
        return chat.conversation_id, await service.messages_after(chat)
    finally:
        await db.dispose()


async def test_delivered_parcel_brings_the_confirmation_with_the_manual_once(engine: tuple[Stack, Settings]) -> None:
    settings = engine[1]
    result = bot_cli(settings, *DELIVERED)
    assert result.returncode == 0 and "applied, now Delivered" in result.stdout, result.stderr

    messages: list[StoredMessage] = []
    for _ in range(120):  # the worker polls every half second
        conversation_id, messages = await transcript(settings)
        if any(m.attachment for m in messages) and len(messages) >= 4:
            break
        await asyncio.sleep(0.5)
    assert messages, "no message reached the transcript"
    assert all(m.sender == "store" for m in messages)
    assert messages[0].text.startswith("Hi Alex, good news from Yangteng Auto Parts: your order FZ-20931 was delivered")
    pdf = next(m.attachment for m in messages if m.attachment and m.attachment["type"] == "pdf")
    assert pdf["url"] == "https://yangteng-auto.example/manuals/op-1001.pdf"
    assert any(m.attachment and m.attachment["type"] == "video" for m in messages)
    count = len(messages)

    # The webhook is delivered again, and a second scan says Delivered too: nothing new.
    assert "duplicate" in bot_cli(settings, *DELIVERED).stdout
    again = list(DELIVERED)
    again[again.index("usps-delivered-1")] = "usps-delivered-2"
    assert bot_cli(settings, *again).returncode == 0
    await asyncio.sleep(3)
    same_conversation, later = await transcript(settings)
    assert same_conversation == conversation_id
    assert len(later) == count

    # The shopper answers in the same conversation and the bot goes on.
    async with aiohttp.ClientSession() as http:
        reply = await RasaClient(settings, http).send_message(
            conversation_id, "thank you!", {"store_id": STORE, "shopper_email": "alex@example.com"}
        )
    assert reply and "welcome" in reply[0]["text"].lower()


async def test_a_customs_hold_brings_a_notice_with_what_to_do(engine: tuple[Stack, Settings]) -> None:
    settings = engine[1]
    result = bot_cli(
        settings,
        "tracking-event",
        "--store",
        STORE,
        "--tracking-number",
        "784512369138",
        "--tag",
        "Exception",
        "--message",
        "Held by customs: import duty due",
        "--location",
        "Memphis, TN",
        "--time",
        "2026-11-27T09:00:00Z",
        "--event-id",
        "fedex-customs-1",
    )
    assert result.returncode == 0 and "applied, now Exception" in result.stdout, result.stderr
    db = create_engine(settings.database_url)
    try:
        service = ConversationService(create_sessionmaker(db))
        chat = await service.for_shopper(STORE, "jessica.carter@example.org")
        messages: list[StoredMessage] = []
        for _ in range(120):
            messages = await service.messages_after(chat)
            if len(messages) >= 2:
                break
            await asyncio.sleep(0.5)
    finally:
        await db.dispose()
    notice, offer = messages[:2]
    assert notice.sender == "store"
    assert "your order FZ-20588" in notice.text and "held up" in notice.text
    assert "(Held by customs: import duty due, Memphis, TN)" in notice.text
    assert [b["title"] for b in offer.buttons] == ["Where is my order?", "Talk to a person"]


def test_worker_logs_never_contain_the_rasa_token(engine: tuple[Stack, Settings]) -> None:
    settings = engine[1]
    for log in (settings.var_dir / "logs").glob("*.log"):
        if log.name == "rasa.log":
            continue
        assert settings.rasa_token not in log.read_text(errors="replace"), log.name
