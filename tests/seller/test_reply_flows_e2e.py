"""End to end: a seller's change reaches the very next message, with no restart.

Real processes: the gateway (seller API and shopper chat API), the Rasa
server, the action server and the worker. The seller changes the greeting,
the delivery confirmation and a product guide through the seller API; the
shopper's next message (or the next delivery) uses them; a rollback brings
the old words back on the message after that.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.core.config import Settings
from bot.runtime.stack import Stack
from tests.engine import bot_cli
from tests.gateway_chat import GatewayChat, gateway_chat

pytestmark = pytest.mark.engine

STORE = "yangteng-auto"
ALEX = "alex@example.com"
NEW_GREETING = "您好 {shopper_first_name}！欢迎光临 {store_name}。Ask me about your order or how to install it."
NEW_DELIVERY = (
    "Good news {shopper_first_name}: order {order_number} ({item_names}) arrived via {carrier}. Track it at {tracking_url}"
)


#: The conftest engine fixture starts these processes too.
ENGINE_PROCESSES = {"with_gateway": True, "with_worker": True}


@pytest.fixture
async def gateway(engine: tuple[Stack, Settings]) -> AsyncIterator[GatewayChat]:
    async with gateway_chat(engine[1], STORE, ALEX) as gateway:
        yield gateway


async def test_a_changed_template_and_guide_apply_to_the_very_next_message(
    engine: tuple[Stack, Settings], gateway: GatewayChat
) -> None:
    before = await gateway.say("hi")
    assert before and not any("欢迎光临" in text for text in before)

    changed = await gateway.seller_call("PATCH", "/settings", {"templates": {"greeting": NEW_GREETING}})
    version = changed["version"]
    # The very next message: no retraining, no restart.
    assert "您好 Alex！欢迎光临 Yangteng Auto Parts。Ask me about your order or how to install it." in await gateway.say(
        "hello"
    )

    # A guide changed through the API is what the next shopper who asks gets.
    await gateway.seller_call(
        "PUT",
        "/products/GK-2040/guide",
        {
            "video_url": "https://videos.yangteng-auto.example/gk-2040-v2.mp4",
            "install_steps": ["Clean both faces.", "Fit the gasket printed side down and torque to 10 N·m."],
        },
    )
    guide = "\n".join(await gateway.say("how do I install the oil pan gasket?"))
    assert "1. Clean both faces.\n2. Fit the gasket printed side down and torque to 10 N·m." in guide
    assert "3." not in guide

    # Rolling back brings the old greeting back on the message after that.
    await gateway.seller_call("POST", "/settings/rollback", {"version": version - 1})
    after = await gateway.say("hi")
    assert after == before


async def test_the_next_delivery_confirmation_uses_the_changed_template(
    engine: tuple[Stack, Settings], gateway: GatewayChat
) -> None:
    settings = engine[1]
    await gateway.seller_call("PATCH", "/settings", {"templates": {"delivery_confirmation": NEW_DELIVERY}})
    delivered_at = dt.datetime(2026, 11, 27, 21, 40, tzinfo=dt.UTC)
    result = bot_cli(
        settings,
        "tracking-event",
        "--store",
        STORE,
        "--tracking-number",
        "9400111899223100000000",
        "--tag",
        "Delivered",
        "--message",
        "Delivered, in/at mailbox",
        "--time",
        delivered_at.isoformat(),
        "--event-id",
        "e2e-reply-flows-1",
    )
    assert result.returncode == 0, result.stderr
    for _ in range(120):
        store_messages = [m for m in await gateway.transcript() if m["sender"] == "store"]
        if store_messages:
            break
        await asyncio.sleep(0.5)
    assert store_messages, "no delivery confirmation within 60 s"
    assert store_messages[0]["text"] == (
        "Good news Alex: order FZ-20931 (1 × Aluminium oil pan) arrived via USPS. "
        "Track it at https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223100000000"
    )
