"""End to end: the products a seller adds are found in the shopper's words on the next message.

Real processes: the gateway (seller API and shopper chat API), the Rasa server with the trained
model and the action server. The model knows no store's catalogue: the seller pushes a tent and
its footprint, and "how do I install the tent?" at once asks which one, with buttons; the button
gets that tent's guide.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from bot import replies
from bot.api_tokens import ApiTokens
from bot.config import Settings
from bot.conversations import ConversationService
from bot.db import create_engine, create_sessionmaker
from bot.stack import Stack
from tests.conftest import signed_shopper
from tests.engine import running_engine

pytestmark = pytest.mark.engine

STORE = "summit-outdoor"
#: A shopper with no orders at the store: only the catalogue can tell which product.
SHOPPER = "sam.new@example.com"
TENT = {
    "type": "product", "sku": "ST-TN400", "name": "4-person dome tent",
    "install_steps": ["Lay out the footprint", "Clip the inner tent to the two crossing poles",
                      "Peg out the guy lines"],
}
FOOTPRINT = {
    "type": "product", "sku": "ST-FP410", "name": "Tent footprint", "install_steps": ["Unfold it shiny side down"],
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Settings]]:
    with running_engine(tmp_path_factory.mktemp("product-matching"), with_gateway=True) as engine:
        yield engine


class Chat:
    """The seller (with an API token) and one signed-in shopper, both over the gateway's HTTP API."""

    def __init__(self, settings: Settings, http: aiohttp.ClientSession, seller_token: str) -> None:
        self.settings, self.http = settings, http
        self.seller = {"Authorization": f"Bearer {seller_token}"}
        self.conversation_id, self.chat_token = "", ""

    async def open(self, secret: str) -> None:
        async with self.http.post(
            f"{self.settings.gateway_url}/api/v1/stores/{STORE}/conversations",
            json={"shopper": signed_shopper(secret, SHOPPER)},
        ) as r:
            assert r.status == 201, await r.text()
            body = await r.json()
        self.conversation_id, self.chat_token = body["conversation_id"], body["token"]

    async def push_products(self, *products: dict[str, Any]) -> None:
        lines = "\n".join(json.dumps(p) for p in products)
        url = f"{self.settings.gateway_url}/api/v1/seller/imports"
        async with self.http.post(url, headers=self.seller, data=lines) as r:
            assert r.status == 200, await r.text()

    async def send(self, body: dict[str, str]) -> list[dict[str, Any]]:
        async with self.http.post(
            f"{self.settings.gateway_url}/api/v1/conversations/{self.conversation_id}/messages",
            headers={"Authorization": f"Bearer {self.chat_token}"}, json=body,
        ) as r:
            assert r.status == 200, await r.text()
            return [m for m in (await r.json())["messages"] if m["sender"] != "shopper"]


@pytest.fixture
async def chat(engine: tuple[Stack, Settings]) -> AsyncIterator[Chat]:
    settings = engine[1]
    db = create_engine(settings.database_url)
    try:
        sessions = create_sessionmaker(db)
        token = await ApiTokens(sessions).create(STORE, "product matching e2e")
        secret = await ConversationService(sessions).shopper_secret(STORE)
        assert secret
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90)) as http:
            chat = Chat(settings, http, token)
            await chat.open(secret)
            yield chat
    finally:
        await db.dispose()


async def test_a_tent_the_seller_adds_is_asked_about_then_its_guide_sent(chat: Chat) -> None:
    before = await chat.send({"text": "how do I install the tent?"})
    assert before[0]["text"] == replies.GUIDE_UNKNOWN_PRODUCT.format(product="tent")

    await chat.push_products(TENT, FOOTPRINT)  # no retraining, no restart

    asked = await chat.send({"text": "how do I install the tent?"})
    assert [m["text"] for m in asked] == [replies.GUIDE_WHICH_MATCH]
    buttons = asked[0]["buttons"]
    assert [b["title"] for b in buttons] == ["4-person dome tent", "Tent footprint"]
    assert buttons[0]["payload"] == '/request_installation_guide{"product":"ST-TN400"}'

    guide = await chat.send({"payload": buttons[0]["payload"], "title": buttons[0]["title"]})
    texts = "\n".join(m["text"] for m in guide)
    assert "Here's how to install the 4-person dome tent." in texts
    steps = "1. Lay out the footprint\n2. Clip the inner tent to the two crossing poles\n3. Peg out the guy lines"
    assert steps in texts

    # Named well enough, typo and all: no question.
    direct = "\n".join(m["text"] for m in await chat.send({"text": "im stuck at step 2 of the dome tnet"}))
    assert direct.startswith("Step 2 of 3 for the 4-person dome tent: Clip the inner tent")
