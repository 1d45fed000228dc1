"""Chat with the assistant in a terminal, as a shopper of one store."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp

from bot.chat.rasa_client import RasaClient
from bot.core.config import Settings


def _print_replies(replies: list[dict]) -> list[dict]:
    buttons: list[dict] = []
    for reply in replies:
        if reply.get("text"):
            for line in str(reply["text"]).splitlines() or [""]:
                print(f"  bot> {line}")
        for button in reply.get("buttons") or []:
            buttons.append(button)
            print(f"       [{len(buttons)}] {button.get('title')}")
    return buttons


async def chat(settings: Settings, store: str, shopper_email: str | None) -> int:
    metadata = {"store_id": store}
    if shopper_email:
        metadata["shopper_email"] = shopper_email
    conversation_id = f"terminal-{uuid.uuid4().hex[:12]}"
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        rasa = RasaClient(settings, http)
        if not await rasa.is_up():
            print(f"The assistant is not running at {settings.rasa_url}. Start it with `make run`.")
            return 1
        who = f"as {shopper_email}" if shopper_email else "as an anonymous shopper"
        print(f"Chatting with store {store!r} {who}. Type a message; a number clicks a button; Ctrl-D quits.")
        buttons: list[dict] = []
        while True:
            try:
                text = await loop.run_in_executor(None, input, "you> ")
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if text.strip().isdigit() and 0 < int(text) <= len(buttons):
                text = buttons[int(text) - 1].get("payload", text)
            try:
                replies = await rasa.send_message(conversation_id, text, metadata)
            except aiohttp.ClientError as exc:
                print(f"  (the assistant did not answer: {exc})")
                continue
            buttons = _print_replies(replies)
