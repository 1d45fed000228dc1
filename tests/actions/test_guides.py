"""Installation guides in the chat, driven with trackers built from dicts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions import guides as guide_actions
from bot.chat import replies
from bot.guides.in_chat import GuideService, choose_product_message
from bot.guides.product_matching import ProductMatcher
from bot.orders.lookup import OrderService

STORE = "yangteng-auto"
ALEX = {"store_id": STORE, "shopper_email": "alex@example.com"}


@pytest.fixture(autouse=True)
def service(demo_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guide_actions, "guide_service", lambda: GuideService(demo_sessions))
    monkeypatch.setattr(guide_actions, "order_service", lambda: OrderService(demo_sessions))
    monkeypatch.setattr(guide_actions, "product_matcher", lambda: ProductMatcher(demo_sessions))


def tracker(
    text: str, *, product: str | None = None, slots: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None
) -> Tracker:
    metadata = {"store_id": STORE} if metadata is None else metadata
    entities = [{"entity": "product", "value": product}] if product else []
    return Tracker.from_dict(
        {
            "sender_id": "guide-test",
            "slots": slots or {},
            "latest_message": {
                "text": text,
                "intent": {"name": "request_installation_guide"},
                "entities": entities,
                "metadata": metadata,
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


async def run(t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await guide_actions.ActionSendInstallationGuide().run(dispatcher, t, {})
    return dispatcher.messages, events


def attachments(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["custom"]["attachment"] for m in messages if m.get("custom")]


async def test_the_verified_orders_only_item_gets_manual_video_and_numbered_steps() -> None:
    messages, events = await run(tracker("how do i install it", slots={"verified_order_number": "FZ-20931"}, metadata=ALEX))
    assert messages[0]["text"] == "Here's how to install the Aluminium oil pan."
    pdf, video = attachments(messages)
    assert pdf == {
        "type": "pdf",
        "url": "https://yangteng-auto.example/manuals/op-1001.pdf",
        "title": "Aluminium oil pan — installation manual (PDF)",
    }
    assert video["type"] == "video" and video["url"].endswith("op-1001-install.mp4")
    steps = next(m["text"] for m in messages if m.get("text", "").startswith(replies.GUIDE_STEPS_TITLE))
    lines = steps.splitlines()[1:]
    assert len(lines) == 8 and lines[0].startswith("1. Warm the engine") and lines[7].startswith("8. ")
    assert "\n\n" not in steps  # Rasa's REST channel would split the message there
    assert events == [SlotSet("guide_product", "OP-1001")]


async def test_several_items_ask_which_one() -> None:
    # Alex's latest delivered order FZ-20412 holds a gasket and a drain plug.
    messages, events = await run(tracker("how do i install this", metadata=ALEX))
    assert [m["text"] for m in messages] == [replies.GUIDE_WHICH_ITEM]
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        '/request_installation_guide{"product":"GK-2040"}',
        '/request_installation_guide{"product":"DP-3102"}',
    ]
    assert events == [SlotSet("guide_product", None)]


async def test_a_named_product_gets_its_guide_even_without_a_video() -> None:
    messages, events = await run(tracker("how do i fit the drain plug"))
    assert messages[0]["text"] == "Here's how to install the Magnetic oil drain plug M14×1.5."
    assert [a["type"] for a in attachments(messages)] == ["pdf"]
    assert events == [SlotSet("guide_product", "DP-3102")]


async def test_the_button_payload_sku_picks_the_item() -> None:
    messages, events = await run(
        tracker('/request_installation_guide{"product":"GK-2040"}', product="GK-2040", metadata=ALEX)
    )
    assert messages[0]["text"] == "Here's how to install the Oil pan gasket."
    assert events == [SlotSet("guide_product", "GK-2040")]


async def test_a_typed_name_prefers_the_product_it_ends_with() -> None:
    messages, _ = await run(tracker("how do i install the oil pan"))
    assert messages[0]["text"] == "Here's how to install the Aluminium oil pan."


async def test_stuck_at_step_n_gets_that_step_again_with_the_video() -> None:
    messages, events = await run(tracker("i'm stuck at step 3", slots={"guide_product": "OP-1001"}))
    assert messages[0]["text"].startswith("Step 3 of 8 for the Aluminium oil pan: Undo the old oil pan bolts")
    assert [a["type"] for a in attachments(messages)] == ["video"]
    assert messages[-1]["text"] == replies.GUIDE_STILL_STUCK
    assert messages[-1]["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]
    assert events == [SlotSet("guide_product", "OP-1001")]


async def test_a_step_that_does_not_exist_is_named() -> None:
    messages, _ = await run(tracker("stuck on step twelve", slots={"guide_product": "OP-1001"}))
    assert [m["text"] for m in messages] == [
        "The Aluminium oil pan guide has 8 steps, so there's no step 12. Which step are you at?"
    ]


async def test_a_product_without_a_guide_gets_an_honest_answer_and_a_person() -> None:
    messages, events = await run(tracker("how do i install the air filter"))
    assert len(messages) == 1
    assert messages[0]["text"] == replies.GUIDE_MISSING.format(product_name="Engine air filter")
    assert messages[0]["buttons"] == [{"title": "Talk to a person", "payload": "/request_human"}]
    assert "guide" in messages[0]["text"] and not attachments(messages)
    assert events == []


async def test_knowing_neither_order_nor_product_asks_with_this_stores_products() -> None:
    messages, _ = await run(tracker("is there a manual"))
    assert messages[0]["text"] == replies.GUIDE_WHICH_PRODUCT
    skus = [b["payload"].split('"')[-2] for b in messages[0]["buttons"]]
    assert skus == ["OP-1001", "GK-2040", "DP-3102", "BP-4410", "AF-5205"]


async def test_another_stores_product_is_not_found_here() -> None:
    messages, events = await run(tracker("how do i put on the rain jacket"))
    assert messages[0]["text"] == replies.GUIDE_UNKNOWN_PRODUCT.format(product="rain jacket")
    assert all("ST-" not in b["payload"] for b in messages[1]["buttons"])
    assert events == [SlotSet("guide_product", None)]


async def test_no_store_no_guide() -> None:
    messages, events = await run(tracker("how do i install it", metadata={}))
    assert [m["text"] for m in messages] == [replies.NO_STORE] and events == []


def payload_skus(message: dict[str, Any]) -> list[str]:
    """The SKUs of a message's buttons, each payload's JSON parsed as Rasa parses it."""
    prefix = "/request_installation_guide"
    assert all(b["payload"].startswith(prefix) for b in message["buttons"])
    return [json.loads(b["payload"][len(prefix) :])["product"] for b in message["buttons"]]


async def test_a_misspelt_name_gets_its_guide() -> None:
    messages, events = await run(tracker("how do i put the oil pna on"))
    assert messages[0]["text"] == "Here's how to install the Aluminium oil pan."
    assert events == [SlotSet("guide_product", "OP-1001")]


async def test_a_generic_name_that_fits_two_products_asks_which_with_buttons() -> None:
    messages, events = await run(tracker("how do I install the stroller?", metadata={"store_id": "bloomkids-baby"}))
    assert [m["text"] for m in messages] == [replies.GUIDE_WHICH_MATCH]
    assert payload_skus(messages[0]) == ["BK-ST300", "BK-RC310"]
    assert [b["title"] for b in messages[0]["buttons"]] == ["Compact travel stroller", "Stroller rain cover"]
    assert events == [SlotSet("guide_product", None)]


async def test_the_pressed_button_then_gets_that_guide() -> None:
    pressed = tracker(
        '/request_installation_guide{"product":"BK-RC310"}', product="BK-RC310", metadata={"store_id": "bloomkids-baby"}
    )
    messages, events = await run(pressed)
    assert messages[0]["text"] == "Here's how to install the Stroller rain cover."
    assert events == [SlotSet("guide_product", "BK-RC310")]


async def test_the_orders_own_item_settles_a_generic_name() -> None:
    # "The pan" is the oil pan or the gasket in the catalogue; order FZ-20931 holds only the oil pan.
    asked, _ = await run(tracker("how do i install the pan"))
    assert asked[0]["text"] == replies.GUIDE_WHICH_MATCH and payload_skus(asked[0]) == ["OP-1001", "GK-2040"]
    in_order = tracker("how do i install the pan", slots={"verified_order_number": "FZ-20931"}, metadata=ALEX)
    messages, _ = await run(in_order)
    assert messages[0]["text"] == "Here's how to install the Aluminium oil pan."


async def test_stuck_at_a_step_of_a_named_product_beats_the_last_guide() -> None:
    messages, events = await run(tracker("stuck at step 3 of the gasket", slots={"guide_product": "OP-1001"}))
    assert messages[0]["text"].startswith("Step 3 of 5 for the Oil pan gasket: Lay the new gasket")
    assert events == [SlotSet("guide_product", "GK-2040")]


async def test_a_typed_payload_with_another_stores_sku_reveals_nothing_of_it() -> None:
    typed = tracker('/request_installation_guide{"product":"ST-RJ110"}', product="ST-RJ110")
    messages, events = await run(typed)
    everything = json.dumps(messages)
    assert "Stormline" not in everything and "ST-RJ110" not in everything and not attachments(messages)
    assert messages[0]["text"] == replies.GUIDE_WHICH_PRODUCT
    assert payload_skus(messages[0]) == ["OP-1001", "GK-2040", "DP-3102", "BP-4410", "AF-5205"]
    assert events == [SlotSet("guide_product", None)]


@pytest.mark.parametrize("value", [["OP-1001"], {"sku": "OP-1001"}, 1001, "", "x" * 10_000])
async def test_a_typed_payload_with_junk_is_asked_about(value: Any) -> None:
    typed = tracker("/request_installation_guide" + json.dumps({"product": value}))
    typed.latest_message["entities"] = [{"entity": "product", "value": value}]
    messages, _ = await run(typed)
    assert messages[0]["text"] == replies.GUIDE_WHICH_PRODUCT and not attachments(messages)


async def test_a_name_the_store_does_not_sell_is_said_and_the_choices_offered() -> None:
    messages, _ = await run(tracker("how do i install the headlight"))
    assert messages[0]["text"] == replies.GUIDE_UNKNOWN_PRODUCT.format(product="headlight")
    assert messages[1]["text"] == replies.GUIDE_WHICH_PRODUCT and len(payload_skus(messages[1])) == 5


async def test_button_payloads_stay_json_whatever_the_sku() -> None:
    message = choose_product_message([('X"},"evil":"1', "Odd SKU")], question=replies.GUIDE_WHICH_MATCH)
    assert payload_skus({"buttons": message.buttons}) == ['X"},"evil":"1']
