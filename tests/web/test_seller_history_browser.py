"""What the seller console says from what the server sends, never from English sentences or numbers
of its own, in a real browser (Debian's Chromium): each version in the histories is worded from the
summary code and params saved with it, in English and in Simplified Chinese (the English sentence
Python may reword is not read), and the guide editor's limits are the ones sent with the products.
The gateway runs on a thread of this process (tests/web/threaded_gateway.py), without Rasa."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from bot.guides.product_guides import ProductGuides
from bot.seller.store_settings import StoreSettingsService
from bot.support.accounts import AgentAccounts
from tests.web.browser import sign_in_to_seller_console, watch_problems
from tests.web.threaded_gateway import Sessions, ThreadedGateway

STORE = "yangteng-auto"
SKU = "GK-2040"
SELLER_NAME = "Wang History"
REWORDED = "a sentence Python reworded"


async def a_history(sessions: Sessions) -> tuple[str, str]:
    email, password = "history.seller@yangteng-auto.example", "a long enough password"
    await AgentAccounts(sessions).add(email, SELLER_NAME, password, [STORE], role="seller_admin")
    settings = StoreSettingsService(sessions)
    await settings.update(STORE, {"templates": {"review_thanks": "Thanks!"}, "review": {"delay_days": 9}}, SELLER_NAME)
    await settings.rollback(STORE, 0, SELLER_NAME)
    guides = ProductGuides(sessions)
    await guides.update(STORE, SKU, {"video_url": "https://yangteng-auto.example/videos/gk-2040-new.mp4"}, SELLER_NAME)
    await guides.rollback(STORE, SKU, 0, SELLER_NAME)
    return email, password


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedGateway[tuple[str, str]]]:
    with ThreadedGateway(tmp_path_factory.mktemp("seller-history"), a_history) as gateway:
        yield gateway


def _reword_the_english(route: Route) -> None:
    """The history as the server sends it, with every English summary reworded: only the codes are left
    to word it by."""
    response = route.fetch()
    body = response.json()
    for version in body["versions"]:
        assert version["summary_code"], version
        version["summary"] = REWORDED
    route.fulfill(response=response, body=json.dumps(body))


def _signed_in(browser: Browser, gateway: ThreadedGateway[tuple[str, str]]) -> Page:
    page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    page.route("**/seller/api/stores/*/settings/history", _reword_the_english)
    page.route("**/seller/api/stores/*/products/*/guide/history", _reword_the_english)
    email, password = gateway.seeded
    sign_in_to_seller_console(page, gateway.url, email, password, SELLER_NAME)
    return page


def test_the_histories_are_worded_from_their_codes_in_chinese_and_english(
    gateway: ThreadedGateway[tuple[str, str]], browser: Browser
) -> None:
    page = _signed_in(browser, gateway)
    try:
        problems = watch_problems(page)
        summaries = page.get_by_test_id("seller-history-summary")
        expect(summaries).to_have_text(
            ["Rolled back to version 0", "Changed: Review thank-you, days after delivery", "As imported"]
        )

        page.get_by_test_id("seller-lang-zh").click()
        expect(summaries).to_have_text(["回滚到版本 0", "修改了：评价感谢、签收后天数", "导入时的设置"])

        page.get_by_test_id("seller-tab-guides").click()
        page.locator(f'[data-testid="seller-product"][data-sku="{SKU}"]').click()
        guide_summaries = page.get_by_test_id("seller-guide-history-summary")
        expect(guide_summaries).to_have_text(["恢复到版本 0", "修改了：视频链接", "导入时的内容"])
        page.get_by_test_id("seller-lang-en").click()
        expect(guide_summaries).to_have_text(["Restored version 0", "Changed: video link", "As imported"])
        expect(page.get_by_text(REWORDED)).to_have_count(0)
        assert problems == [], problems
    finally:
        page.context.close()


def test_the_guide_editor_limits_are_the_ones_the_server_sends(
    gateway: ThreadedGateway[tuple[str, str]], browser: Browser
) -> None:
    page = _signed_in(browser, gateway)
    try:
        problems = watch_problems(page)

        def smaller_limits(route: Route) -> None:
            response = route.fetch()
            body = response.json()
            body["limits"].update(max_steps=8, max_manual_bytes=3 * 1024 * 1024)
            route.fulfill(response=response, body=json.dumps(body))

        page.route("**/seller/api/stores/*/products", smaller_limits)
        page.get_by_test_id("seller-tab-guides").click()
        page.locator('[data-testid="seller-product"][data-sku="OP-1001"]').click()
        expect(page.get_by_test_id("seller-guide-step-text")).to_have_count(8)
        expect(page.locator("#guide-add-step")).to_be_disabled()  # 8 steps: the limit the server said
        hint = page.locator("#guide-upload-hint")
        expect(hint).to_have_text("A PDF file of at most 3 MB. Once uploaded, it is the manual straight away.")
        page.get_by_test_id("seller-lang-zh").click()
        expect(hint).to_have_text("PDF 文件，最大 3 MB。上传后立即作为说明书使用。")
        page.get_by_test_id("seller-lang-en").click()
        assert problems == [], problems
    finally:
        page.context.close()
