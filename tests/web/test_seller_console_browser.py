"""The seller console in a real browser (Debian's Chromium), in English and
Simplified Chinese, against the gateway as a real process, with the demo
seller admin whose password was generated at setup: edit a template with a
live preview, save, see the version in the history, roll back."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.config import Settings
from bot.demo import read_demo_agents
from bot.templates import TEMPLATES
from tests.engine import running_engine
from tests.web.browser import SCREENSHOTS

pytestmark = pytest.mark.engine

SELLER = "wang.fang@yangteng-auto.example"
DEFAULT_THANKS = "Thank you for your review, it's saved."


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with running_engine(tmp_path_factory.mktemp("seller-browser"), with_gateway=True) as (_, settings):
        yield settings


def _page(browser: Browser) -> Page:
    page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems  # type: ignore[attr-defined]
    return page


def _card(page: Page, key: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-testid="seller-template"][data-key="{key}"]')


def _settled(page: Page) -> None:
    """Every preview rendered, scrolled to the top: ready for a screenshot."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="seller-template-preview"]')]
                   .every(p => p.textContent && !p.hasAttribute('aria-busy'))"""
    )
    page.evaluate("window.scrollTo(0, 0)")


def test_a_seller_edits_a_template_in_both_languages(gateway: Settings, browser: Browser) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    password = read_demo_agents(gateway.var_dir)[SELLER]
    page = _page(browser)
    try:
        # Sign in (in English, the default).
        page.goto(f"{gateway.gateway_url}/seller")
        expect(page.get_by_test_id("seller-login-title")).to_have_text("Seller console")
        page.get_by_test_id("seller-login-email").fill(SELLER)
        page.get_by_test_id("seller-login-password").fill(password)
        page.get_by_test_id("seller-login-submit").click()
        expect(page.get_by_test_id("seller-name")).to_have_text("Wang Fang")
        expect(page.get_by_test_id("seller-store-name")).to_have_text("Yangteng Auto Parts")
        expect(page.get_by_test_id("seller-store-picker")).to_be_hidden()  # one store: no picker
        expect(page.get_by_test_id("seller-template")).to_have_count(len(TEMPLATES))
        thanks = _card(page, "review_thanks")
        expect(thanks.get_by_test_id("seller-template-title")).to_have_text("Review thank-you")
        expect(thanks.get_by_test_id("seller-template-preview")).to_have_text(DEFAULT_THANKS)
        # The delivery confirmation's preview is one of the store's own orders.
        expect(_card(page, "delivery_confirmation").get_by_test_id("seller-template-preview")).to_contain_text(
            re.compile(r"your order FZ-\d+ was delivered")
        )
        expect(page.get_by_test_id("seller-history-item")).to_have_count(1)  # as imported
        expect(page.get_by_test_id("seller-save")).to_be_disabled()

        # 简体中文: every console text switches, and the choice survives a reload.
        page.get_by_test_id("seller-lang-zh").click()
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        expect(page.get_by_test_id("seller-save")).to_have_text("保存")
        expect(page.get_by_test_id("seller-templates-heading")).to_have_text("消息模板")
        expect(page.get_by_test_id("seller-review-heading")).to_have_text("评价邀请")
        expect(page.get_by_test_id("seller-escalation-heading")).to_have_text("转接人工客服")
        expect(page.get_by_test_id("seller-history-heading")).to_have_text("历史版本")
        expect(page.get_by_test_id("seller-logout")).to_have_text("退出登录")
        expect(thanks.get_by_test_id("seller-template-title")).to_have_text("评价感谢")
        expect(page.get_by_test_id("seller-history-summary").first).to_have_text("导入时的设置")
        assert page.title() == "卖家控制台"
        page.reload()
        expect(page.get_by_test_id("seller-save")).to_have_text("保存")
        thanks = _card(page, "review_thanks")

        # A code-shaped placeholder: a clear inline error, and nothing can be saved.
        box = thanks.get_by_test_id("seller-template-text")
        box.fill("谢谢 {order_number.__class__}")
        expect(thanks.get_by_test_id("seller-template-error")).to_contain_text("不是占位符")
        expect(page.get_by_test_id("seller-save")).to_be_disabled()

        # The fixed text, with a placeholder inserted from its chip: the preview follows as the seller types.
        box.fill("谢谢 {shopper_first_name}！订单 {order_number} 的评价已保存。")
        expect(thanks.get_by_test_id("seller-template-error")).to_be_hidden()
        expect(thanks.get_by_test_id("seller-template-preview")).to_have_text(re.compile(r"^谢谢 \w+！订单 FZ-\d+ 的评价已保存。$"))
        box.press("End")
        chip = thanks.locator('[data-testid="seller-chip"][data-placeholder="store_name"]')
        expect(chip).to_have_attribute("title", "店铺名称")
        chip.click()
        expect(box).to_have_value("谢谢 {shopper_first_name}！订单 {order_number} 的评价已保存。{store_name}")
        expect(thanks.get_by_test_id("seller-template-preview")).to_contain_text("已保存。Yangteng Auto Parts")
        expect(thanks.get_by_test_id("seller-template-changed")).to_have_text("已修改")
        expect(page.get_by_test_id("seller-save-status")).to_have_text("未保存的更改：1 项。")

        page.get_by_test_id("seller-save").click()
        expect(page.get_by_test_id("seller-save-status")).to_have_text("已保存为版本 1。")
        latest = page.get_by_test_id("seller-history-item").first
        expect(latest).to_have_attribute("data-version", "1")
        expect(latest.get_by_test_id("seller-history-summary")).to_have_text("修改了：评价感谢")
        expect(latest.get_by_test_id("seller-history-meta")).to_contain_text("Wang Fang <wang.fang@yangteng-auto.example>")
        expect(page.get_by_test_id("seller-save")).to_be_disabled()
        _settled(page)
        page.screenshot(path=str(SCREENSHOTS / "seller-console-zh.png"), full_page=True)

        # Back to English; roll back to the store as imported.
        page.get_by_test_id("seller-lang-en").click()
        assert page.evaluate("document.documentElement.lang") == "en"
        expect(page.get_by_test_id("seller-save")).to_have_text("Save")
        expect(page.get_by_test_id("seller-templates-heading")).to_have_text("Message templates")
        expect(page.get_by_test_id("seller-history-heading")).to_have_text("History")
        expect(latest.get_by_test_id("seller-history-summary")).to_have_text("Changed: Review thank-you")
        imported = page.locator('[data-testid="seller-history-item"][data-version="0"]')
        imported.get_by_test_id("seller-rollback").click()
        expect(page.get_by_test_id("seller-save-status")).to_have_text("Rolled back: version 2 is now current.")
        expect(page.get_by_test_id("seller-history-item").first.get_by_test_id("seller-history-summary")).to_have_text(
            "Rolled back to version 0"
        )
        expect(_card(page, "review_thanks").get_by_test_id("seller-template-text")).to_have_value(DEFAULT_THANKS)
        expect(_card(page, "review_thanks").get_by_test_id("seller-template-preview")).to_have_text(DEFAULT_THANKS)
        _settled(page)
        page.screenshot(path=str(SCREENSHOTS / "seller-console-en.png"), full_page=True)

        assert not [p for p in page.problems if "Content Security Policy" in p or "Uncaught" in p], page.problems  # type: ignore[attr-defined]
    finally:
        page.context.close()


def test_a_plain_agent_sees_no_store_to_administer(gateway: Settings, browser: Browser) -> None:
    page = _page(browser)
    try:
        page.goto(f"{gateway.gateway_url}/seller")
        page.get_by_test_id("seller-login-email").fill("lin.wei@yangteng-auto.example")
        page.get_by_test_id("seller-login-password").fill(read_demo_agents(gateway.var_dir)["lin.wei@yangteng-auto.example"])
        page.get_by_test_id("seller-login-submit").click()
        expect(page.get_by_test_id("seller-no-stores")).to_be_visible()
        expect(page.get_by_test_id("seller-template")).to_have_count(0)
        page.get_by_test_id("seller-logout").click()
        expect(page.get_by_test_id("seller-login-email")).to_be_visible()
    finally:
        page.context.close()
