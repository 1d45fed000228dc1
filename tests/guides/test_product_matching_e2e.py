"""End to end: the products a seller adds are found in the shopper's words on the next message.

Real processes: the gateway (seller API and shopper chat API), the Rasa server with the trained
model and the action server. The model knows no store's catalogue: the seller pushes a tent and
its footprint, and "how do I install the tent?" at once asks which one, with buttons; the button
gets that tent's guide.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.chat import replies
from bot.core.config import Settings
from bot.runtime.stack import Stack
from tests.gateway_chat import GatewayChat, gateway_chat

pytestmark = pytest.mark.engine

STORE = "summit-outdoor"
#: A shopper with no orders at the store: only the catalogue can tell which product.
SHOPPER = "sam.new@example.com"
TENT = {
    "type": "product",
    "sku": "ST-TN400",
    "name": "4-person dome tent",
    "install_steps": ["Lay out the footprint", "Clip the inner tent to the two crossing poles", "Peg out the guy lines"],
}
FOOTPRINT = {
    "type": "product",
    "sku": "ST-FP410",
    "name": "Tent footprint",
    "install_steps": ["Unfold it shiny side down"],
}


#: The conftest engine fixture starts these processes too.
ENGINE_PROCESSES = {"with_gateway": True}


@pytest.fixture
async def chat(engine: tuple[Stack, Settings]) -> AsyncIterator[GatewayChat]:
    async with gateway_chat(engine[1], STORE, SHOPPER) as chat:
        yield chat


async def test_a_tent_the_seller_adds_is_asked_about_then_its_guide_sent(chat: GatewayChat) -> None:
    before = await chat.send({"text": "how do I install the tent?"})
    assert before[0]["text"] == replies.GUIDE_UNKNOWN_PRODUCT.format(product="tent")

    await chat.import_lines(TENT, FOOTPRINT)  # no retraining, no restart

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
