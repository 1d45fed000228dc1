"""The seller console's Integrations tab in a real browser (Debian's Chromium), in English and Simplified
Chinese: a generated key shown once, a Shopify key pasted and never shown back, a shop bound, a refused
delivery listed. The gateway runs on a thread of this process (tests/web/threaded_gateway.py), without Rasa."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Route, expect
from sqlalchemy import update

from bot.core.models import Store
from bot.shipping.tracking_updates import aftership_signature
from bot.support.accounts import AgentAccounts
from tests.web.browser import sign_in_to_seller_console, watch_problems
from tests.web.threaded_gateway import Sessions, ThreadedGateway

STORE = "yangteng-auto"
SELLER_NAME = "Wang Connect"
PASTED = "shpss_browser_pasted_key_0123"
PUBLIC_URL = "https://help.yangteng-auto.example"
WEBHOOK_SECRET = "whsec-browser-7c1d"
#: A shipment of the demo store, and an AfterShip update for it.
TRACKING = "9400111899223100000000"
DELIVERED = json.dumps(
    {
        "event": "tracking_update",
        "event_id": "browser-1",
        "msg": {"tracking_number": TRACKING, "slug": "usps", "tag": "InTransit", "checkpoints": []},
    }
).encode()


async def a_seller(sessions: Sessions) -> tuple[str, str]:
    email, password = "connect.seller@yangteng-auto.example", "a long enough password"
    await AgentAccounts(sessions).add(email, SELLER_NAME, password, [STORE], role="seller_admin")
    async with sessions() as session, session.begin():
        await session.execute(update(Store).where(Store.id == STORE).values(webhook_secret=WEBHOOK_SECRET))
    return email, password


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedGateway[tuple[str, str]]]:
    with ThreadedGateway(tmp_path_factory.mktemp("seller-integrations"), a_seller, {"PUBLIC_URL": PUBLIC_URL}) as gateway:
        yield gateway


def test_a_seller_connects_a_shop_and_a_tracking_service(
    gateway: ThreadedGateway[tuple[str, str]], browser: Browser
) -> None:
    page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    try:
        email, password = gateway.seeded
        sign_in_to_seller_console(page, gateway.url, email, password, SELLER_NAME)
        problems = watch_problems(page)
        page.get_by_test_id("seller-tab-integrations").click()
        expect(page.get_by_test_id("seller-integrations-heading")).to_have_text("Integrations")
        expect(page.get_by_test_id("seller-integration-shopify-url")).to_have_value(
            f"{PUBLIC_URL}/webhooks/orders/shopify/{STORE}"
        )
        easypost = page.get_by_test_id("seller-integration-easypost")
        expect(easypost.get_by_test_id("seller-integration-easypost-key-state")).to_have_text("No key")

        page.get_by_test_id("seller-lang-zh").click()
        expect(page.get_by_test_id("seller-tab-integrations")).to_have_text("集成")
        expect(easypost.get_by_test_id("seller-integration-easypost-key-state")).to_have_text("未设置密钥")
        expect(easypost.get_by_test_id("seller-integration-easypost-new-key")).to_have_text("生成密钥")
        page.get_by_test_id("seller-lang-en").click()

        # A generated key: shown once, with the warning, then gone for good.
        easypost.get_by_test_id("seller-integration-easypost-new-key").click()
        key = easypost.get_by_test_id("seller-integration-easypost-key")
        expect(key).to_have_value(re.compile(r"^[A-Za-z0-9]{48}$"))
        made = key.input_value()
        expect(easypost.get_by_test_id("seller-integration-easypost-once")).to_contain_text("will not be shown again")
        expect(easypost.get_by_test_id("seller-integration-easypost-key-state")).to_have_text("Key set")
        easypost.get_by_test_id("seller-integration-easypost-done").click()
        expect(easypost.get_by_test_id("seller-integration-easypost-new")).to_be_hidden()

        # A pasted Shopify key is saved and never shown back; the shop domain is kept as Shopify sends it.
        shopify = page.get_by_test_id("seller-integration-shopify")
        shopify.get_by_test_id("seller-integration-shopify-paste-key").fill(PASTED)
        shopify.get_by_test_id("seller-integration-shopify-paste-save").click()
        expect(shopify.get_by_test_id("seller-integration-shopify-paste-status")).to_have_text(
            "The key is saved. It will not be shown again."
        )
        expect(shopify.get_by_test_id("seller-integration-shopify-key-state")).to_have_text("Key set")
        expect(shopify.get_by_test_id("seller-integration-shopify-paste-key")).to_have_value("")
        shopify.get_by_test_id("seller-integration-shopify-shop-value").fill("https://YangTeng.myshopify.com/admin")
        shopify.get_by_test_id("seller-integration-shopify-shop-save").click()
        expect(shopify.get_by_test_id("seller-integration-shopify-shop-value")).to_have_value("yangteng.myshopify.com")

        # Past orders from a file: the raw file goes to the backfill route (its own module answers; here a
        # stand-in does), and every bad line is listed.
        sent: list[str | None] = []

        def backfill(route: Route) -> None:
            sent.append(route.request.header_value("content-type"))
            errors = [{"line": 3, "error": "the email is missing", "code": "shop_field_missing"}]
            route.fulfill(
                status=400, json={"error": "bad lines", "code": "backfill_lines_bad", "params": {}, "errors": errors}
            )

        page.route(f"**/seller/api/stores/{STORE}/integrations/shopify/backfill", backfill)
        shopify.get_by_test_id("seller-integration-shopify-backfill-file").set_input_files(
            {"name": "orders_export.csv", "mimeType": "text/csv", "buffer": b"Name,Email\n#1001,a@b.example\n#1002,\n"}
        )
        shopify.get_by_test_id("seller-integration-shopify-backfill-send").click()
        expect(shopify.get_by_test_id("seller-integration-shopify-backfill-errors")).to_have_text(
            "Line 3: the email is missing"
        )
        assert sent == ["text/csv"]

        # A forged AfterShip delivery is refused, and the seller sees why.
        forged = page.request.post(
            f"{gateway.url}/webhooks/tracking/aftership/{STORE}",
            data=b'{"event": "tracking_update", "msg": {}}',
            headers={"Content-Type": "application/json", "aftership-hmac-sha256": "bm90IGEgc2lnbmF0dXJl"},
        )
        assert forged.status == 401
        signed = page.request.post(
            f"{gateway.url}/webhooks/tracking/aftership/{STORE}",
            data=DELIVERED,
            headers={
                "Content-Type": "application/json",
                "aftership-hmac-sha256": aftership_signature(WEBHOOK_SECRET, DELIVERED),
            },
        )
        assert signed.status == 200, signed.text()
        page.reload()
        expect(page.get_by_test_id("seller-integrations-heading")).to_be_visible()  # the tab is kept in the address
        expect(page.get_by_test_id("seller-integration-aftership-problems")).to_contain_text("401")
        expect(page.get_by_test_id("seller-integration-easypost-key-state")).to_have_text("Key set")
        assert made not in page.content() and PASTED not in page.content()
        last = page.get_by_test_id("seller-integration-aftership-last")
        expect(last).to_contain_text(f"applied · tracking {TRACKING}")
        page.get_by_test_id("seller-lang-zh").click()
        expect(last).to_contain_text(f"已应用 · 运单 {TRACKING}")
        expect(page.get_by_test_id("seller-integration-easypost-last")).to_have_text("尚未收到任何投递。")
        page.get_by_test_id("seller-lang-en").click()
        # The browser notes the 400 the stand-in gave on purpose; nothing else may go wrong.
        assert [p for p in problems if "status of 400" not in p or "/backfill" not in p] == [], problems
    finally:
        page.context.close()
