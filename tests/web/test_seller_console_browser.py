"""The seller console in a real browser (Debian's Chromium), in English and
Simplified Chinese, against the gateway as a real process, with the demo
seller admin whose password was generated at setup: edit a template with a
live preview, save, see the version in the history, roll back; set how long
shoppers' photos are kept; edit and restore a product guide, upload a manual;
rotate a secret, add and remove a team member; chat with the assistant in the
test conversation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.core.config import Settings
from bot.runtime.demo import read_demo_agents
from bot.seller.templates import TEMPLATES
from bot.support.credentials import MIN_PASSWORD_CHARS
from tests.engine import running_engine
from tests.web.browser import SCREENSHOTS, watch_problems

pytestmark = pytest.mark.engine

SELLER = "wang.fang@yangteng-auto.example"
DEFAULT_THANKS = "Thank you for your review, it's saved."


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with running_engine(tmp_path_factory.mktemp("seller-browser"), with_gateway=True) as (_, settings):
        yield settings


def _page(browser: Browser, permissions: list[str] | None = None, phone: bool = False) -> Page:
    screen: dict[str, Any] = (
        {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
        if phone
        else {"viewport": {"width": 1440, "height": 1000}}
    )
    page = browser.new_context(permissions=permissions or [], **screen).new_page()
    page.problems = watch_problems(page)  # type: ignore[attr-defined]
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

        # A placeholder this message cannot use: the server's refusal (code template_unknown_placeholder),
        # said in Chinese from its code, with its params filled in; a language switch re-words it.
        box.fill("谢谢 {password}")
        allowed = "{order_number}, {shopper_first_name}, {store_name}"
        error = thanks.get_by_test_id("seller-template-error")
        expect(error).to_have_text(f"此模板无法保存：未知占位符 {{password}}；此消息可以使用 {allowed}")
        page.get_by_test_id("seller-lang-en").click()
        expect(error).to_have_text(
            f"This template cannot be saved: unknown placeholder {{password}}; this message can use {allowed}"
        )
        page.get_by_test_id("seller-lang-zh").click()
        expect(error).to_have_text(f"此模板无法保存：未知占位符 {{password}}；此消息可以使用 {allowed}")
        expect(page.get_by_test_id("seller-save")).to_be_disabled()

        # The fixed text, with a placeholder inserted from its chip: the preview follows as the seller types.
        box.fill("谢谢 {shopper_first_name}！订单 {order_number} 的评价已保存。")
        expect(thanks.get_by_test_id("seller-template-error")).to_be_hidden()
        expect(thanks.get_by_test_id("seller-template-preview")).to_have_text(
            re.compile(r"^谢谢 \w+！订单 FZ-\d+ 的评价已保存。$")
        )
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


# --- the other tabs: product guides, team and security, the test conversation ---

GUIDE_SKU = "OP-1001"
MANUAL_SKU = "GK-2040"
NEW_VIDEO = "https://videos.yangteng-auto.example/op-1001-fitting-2.mp4"
OLD_VIDEO = "https://yangteng-auto.example/videos/op-1001-install.mp4"
SECOND_STEP = "Remove the drain plug and drain the old oil completely into a drain pan, then refit the plug loosely"
SMALL_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
#: Words that stay as they are in the Chinese console (file types, units, link schemes).
NOT_ENGLISH = r"\b(?:PDF|KB|MB|https?)\b"


def _sign_in(page: Page, gateway: Settings) -> None:
    page.goto(f"{gateway.gateway_url}/seller")
    page.get_by_test_id("seller-login-email").fill(SELLER)
    page.get_by_test_id("seller-login-password").fill(read_demo_agents(gateway.var_dir)[SELLER])
    page.get_by_test_id("seller-login-submit").click()
    expect(page.get_by_test_id("seller-name")).to_have_text("Wang Fang")


def _tab(page: Page, name: str) -> None:
    page.get_by_test_id(f"seller-tab-{name}").click()
    expect(page.get_by_test_id(f"seller-tab-{name}")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id(f"seller-panel-{name}")).to_be_visible()


def _english_left(page: Page, panel: str) -> list[str]:
    """Visible console text (and labels for assistive tech) still in English, in a panel and the tab bar.
    Data is marked translate="no" (product names, SKUs, emails, links, secrets) and is left out."""
    return page.evaluate(
        """([panel, allowed]) => {
            const english = /[A-Za-z]{2,}/;
            const strip = (text) => text.replace(new RegExp(allowed, 'g'), '');
            const bad = [];
            for (const root of [document.getElementById(panel), document.querySelector('[data-testid="seller-tabs"]')]) {
              const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
              for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const parent = node.parentElement;
                if (!parent || parent.closest('[translate="no"]')) continue;
                const shown = parent.tagName === 'OPTION' ? parent.closest('select').checkVisibility()
                                                          : parent.checkVisibility();
                if (shown && english.test(strip(node.textContent))) bad.push(node.textContent.trim());
              }
              for (const element of root.querySelectorAll('[aria-label], [title], [placeholder]')) {
                if (element.closest('[translate="no"]') || !element.checkVisibility()) continue;
                for (const name of ['aria-label', 'title', 'placeholder']) {
                  const value = element.getAttribute(name);
                  if (value && english.test(strip(value))) bad.push(`${name}="${value}"`);
                }
              }
            }
            return bad;
        }""",
        [panel, NOT_ENGLISH],
    )


def _problems(page: Page, *expected_statuses: int) -> list[str]:
    """Console errors, less the browser's own notes about the requests a test made to fail on purpose
    and about the console's session check before signing in (401 from /seller/api/me)."""
    allowed = tuple(f"the server responded with a status of {s} " for s in expected_statuses)
    return [
        p
        for p in page.problems  # type: ignore[attr-defined]
        if not any(a in p for a in allowed) and not ("status of 401 " in p and p.endswith("/seller/api/me]"))
    ]


def test_a_seller_edits_a_product_guide_and_restores_it(gateway: Settings, browser: Browser) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = _page(browser)
    try:
        _sign_in(page, gateway)
        _tab(page, "guides")
        assert page.url.endswith("#guides")
        product = page.locator(f'[data-testid="seller-product"][data-sku="{GUIDE_SKU}"]')
        product.click()
        expect(product).to_have_attribute("aria-current", "true")
        expect(page.get_by_test_id("seller-guide-title")).to_have_text("Aluminium oil pan")
        expect(page.get_by_test_id("seller-guide-sku")).to_have_text(GUIDE_SKU)
        expect(page.get_by_test_id("seller-guide-version")).to_have_text("As imported")
        expect(page.get_by_test_id("seller-guide-video")).to_have_value(OLD_VIDEO)
        link = page.get_by_test_id("seller-guide-video-link")
        expect(link).to_have_attribute("href", OLD_VIDEO)
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
        expect(page.get_by_test_id("seller-guide-history-empty")).to_have_text("No changes yet: the guide is as imported.")
        steps = page.get_by_test_id("seller-guide-step-text")
        expect(steps).to_have_count(8)
        expect(page.get_by_test_id("seller-guide-save")).to_be_disabled()

        # A link that is not http(s): the server's 400 lands under its field, and nothing is saved.
        video = page.get_by_test_id("seller-guide-video")
        video.fill("videos.yangteng-auto.example/op-1001.mp4")
        expect(page.get_by_test_id("seller-guide-status")).to_have_text("Unsaved changes.")
        page.get_by_test_id("seller-guide-save").click()
        expect(page.get_by_test_id("seller-guide-video-error")).to_contain_text("must be an http(s) link")
        expect(video).to_have_attribute("aria-invalid", "true")
        expect(video).to_be_focused()
        video.fill(NEW_VIDEO)
        expect(page.get_by_test_id("seller-guide-video-error")).to_be_hidden()

        # The steps: reword the first, drop the last, move the second up, add two (Enter starts the next one).
        steps.nth(0).fill("Warm the engine, then switch it off")
        page.get_by_test_id("seller-guide-step-remove").nth(7).click()
        expect(steps).to_have_count(7)
        page.get_by_test_id("seller-guide-step-up").nth(1).click()
        expect(steps.nth(0)).to_have_value(SECOND_STEP)
        expect(steps.nth(1)).to_have_value("Warm the engine, then switch it off")
        expect(page.get_by_test_id("seller-guide-step-up").nth(0)).to_be_disabled()
        expect(page.get_by_test_id("seller-guide-step-down").nth(0)).to_be_focused()  # the focus follows the step
        page.get_by_test_id("seller-guide-add-step").click()
        expect(steps).to_have_count(8)
        expect(steps.nth(7)).to_be_focused()
        page.keyboard.type("Check the pan for leaks after a short drive")
        page.keyboard.press("Enter")
        expect(steps).to_have_count(9)
        expect(steps.nth(8)).to_be_focused()
        page.keyboard.type("Take the old oil to a recycling point")
        page.keyboard.press("Enter")  # an empty last step is left out when saving
        expect(steps).to_have_count(10)

        page.get_by_test_id("seller-guide-save").click()
        expect(page.get_by_test_id("seller-guide-status")).to_have_text("Saved as version 1.")
        expect(page.get_by_test_id("seller-guide-version")).to_have_text("Version 1")
        expect(steps).to_have_count(9)
        history = page.get_by_test_id("seller-guide-history-item")
        expect(history).to_have_count(2)
        expect(history.first.get_by_test_id("seller-guide-history-summary")).to_have_text(
            "Changed: video link, install steps"
        )
        expect(history.first).to_contain_text("by Wang Fang <wang.fang@yangteng-auto.example>")
        expect(history.nth(1).get_by_test_id("seller-guide-history-summary")).to_have_text("As imported")
        expect(product).to_contain_text("9 steps")

        # Saved for real: a reload comes back to this tab and this product, as saved.
        page.reload()
        expect(page.get_by_test_id("seller-panel-guides")).to_be_visible()
        expect(page.get_by_test_id("seller-guide-title")).to_have_text("Aluminium oil pan")
        expect(page.get_by_test_id("seller-guide-video")).to_have_value(NEW_VIDEO)
        expect(page.get_by_test_id("seller-guide-video-link")).to_have_attribute("href", NEW_VIDEO)
        expect(steps).to_have_count(9)
        expect(steps.nth(0)).to_have_value(SECOND_STEP)
        expect(steps.nth(1)).to_have_value("Warm the engine, then switch it off")
        expect(steps.nth(7)).to_have_value("Check the pan for leaks after a short drive")
        expect(steps.nth(8)).to_have_value("Take the old oil to a recycling point")
        expect(history).to_have_count(2)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "seller-guides-en.png"), full_page=True)

        # Restore the guide as imported: saved again as a new version.
        page.locator('[data-testid="seller-guide-history-item"][data-version="0"]').get_by_test_id(
            "seller-guide-restore"
        ).click()
        expect(page.get_by_test_id("seller-guide-status")).to_have_text("Version 0 restored (saved as version 2).")
        expect(page.get_by_test_id("seller-guide-status")).to_be_focused()
        expect(page.get_by_test_id("seller-guide-video")).to_have_value(OLD_VIDEO)
        expect(steps).to_have_count(8)
        expect(steps.nth(0)).to_have_value(re.compile(r"^Warm the engine for 2–3 minutes"))
        expect(history).to_have_count(3)
        expect(history.first.get_by_test_id("seller-guide-history-summary")).to_have_text("Restored version 0")

        # 简体中文: every label of the tab, the history included.
        page.get_by_test_id("seller-lang-zh").click()
        expect(page.get_by_test_id("seller-tab-guides")).to_have_text("商品安装指南")
        expect(page.get_by_test_id("seller-guides-heading")).to_have_text("商品安装指南")
        expect(page.get_by_test_id("seller-guide-save")).to_have_text("保存指南")
        expect(page.get_by_test_id("seller-guide-version")).to_have_text("版本 2")
        expect(history.first.get_by_test_id("seller-guide-history-summary")).to_have_text("恢复到版本 0")
        expect(history.nth(1).get_by_test_id("seller-guide-history-summary")).to_have_text("修改了：视频链接、安装步骤")
        expect(page.get_by_test_id("seller-guide-step-up").nth(1)).to_have_attribute("aria-label", "将第 2 步上移")
        expect(product).to_contain_text("8 个步骤")
        assert _english_left(page, "panel-guides") == []
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "seller-guides-zh.png"), full_page=True)

        assert _problems(page, 400) == []
    finally:
        page.context.close()


def test_a_seller_uploads_a_manual_as_a_pdf(gateway: Settings, browser: Browser) -> None:
    page = _page(browser)
    try:
        _sign_in(page, gateway)
        _tab(page, "guides")
        page.locator(f'[data-testid="seller-product"][data-sku="{MANUAL_SKU}"]').click()
        expect(page.get_by_test_id("seller-guide-title")).to_have_text("Oil pan gasket")
        manual = page.get_by_test_id("seller-guide-manual-link")
        expect(manual).to_have_attribute("href", "https://yangteng-auto.example/manuals/gk-2040.pdf")

        upload = page.get_by_test_id("seller-guide-upload")
        expect(upload).to_have_attribute("accept", re.compile(r"application/pdf"))
        upload.set_input_files(files=[{"name": "gasket-fitting.pdf", "mimeType": "application/pdf", "buffer": SMALL_PDF}])
        expect(page.get_by_test_id("seller-guide-upload-status")).to_have_text(
            f"Uploaded gasket-fitting.pdf ({len(SMALL_PDF)} B): shoppers now get this manual."
        )
        uploaded = re.compile(re.escape(gateway.public_base_url) + r"/files/manuals/\d+/gk-2040-[0-9a-f]+\.pdf$")
        expect(manual).to_have_attribute("href", uploaded)
        expect(page.get_by_test_id("seller-guide-manual")).to_have_value(uploaded)
        expect(page.get_by_test_id("seller-guide-version")).to_have_text("Version 1")
        expect(page.get_by_test_id("seller-guide-status")).to_have_text("Saved as version 1.")
        latest = page.get_by_test_id("seller-guide-history-item").first
        expect(latest.get_by_test_id("seller-guide-history-summary")).to_have_text(
            re.compile(r"^Uploaded the manual gk-2040-[0-9a-f]+\.pdf$")
        )
        # What shoppers open is the file itself.
        answer = page.request.get(manual.get_attribute("href") or "")
        assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
        assert answer.body() == SMALL_PDF

        # In Chinese: a file that is not a PDF is refused in the browser, a fake one by the server; both say why.
        page.get_by_test_id("seller-lang-zh").click()
        expect(page.get_by_test_id("seller-guide-upload").locator("xpath=following-sibling::label[1]")).to_have_text(
            "上传 PDF…"
        )
        upload.set_input_files(files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a manual"}])
        error = page.get_by_test_id("seller-guide-upload-error")
        expect(error).to_have_text("“notes.txt” 不是 PDF 文件，请选择 PDF 格式的说明书。")
        upload.set_input_files(
            files=[{"name": "fake.pdf", "mimeType": "application/pdf", "buffer": b"<html>not a pdf</html>"}]
        )
        expect(error).to_have_text("说明书未上传：这个文件不是 PDF（说明书必须是 PDF 文件）")
        expect(manual).to_have_attribute("href", uploaded)  # unchanged
        expect(page.get_by_test_id("seller-guide-history-item")).to_have_count(2)
        assert _english_left(page, "panel-guides") == []
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "seller-guides-upload-zh.png"), full_page=True)

        assert _problems(page, 415) == []
    finally:
        page.context.close()


def test_a_seller_rotates_a_secret_and_manages_the_team(gateway: Settings, browser: Browser) -> None:
    page = _page(browser, permissions=["clipboard-read", "clipboard-write"])
    try:
        _sign_in(page, gateway)
        _tab(page, "team")
        webhook = page.get_by_test_id("seller-secret-webhook")
        shopper = page.get_by_test_id("seller-secret-shopper")
        expect(webhook).to_contain_text("Tracking webhook secret")
        expect(shopper).to_contain_text("sign the shopper's email")
        expect(page.get_by_test_id("seller-secret-shopper-state")).to_have_text("Set")
        expect(page.get_by_test_id("seller-secret-shopper-grace")).to_have_value("24")
        # The demo store has no webhook secret yet: made here, with no old one to keep.
        expect(page.get_by_test_id("seller-secret-webhook-state")).to_have_text("Not set")
        expect(page.get_by_test_id("seller-secret-webhook-grace")).to_be_hidden()

        # Thinking better of it: nothing happens.
        page.get_by_test_id("seller-secret-shopper-rotate").click()
        expect(page.get_by_test_id("seller-secret-shopper-confirm")).to_be_visible()
        page.get_by_test_id("seller-secret-shopper-confirm-no").click()
        expect(page.get_by_test_id("seller-secret-shopper-confirm")).to_be_hidden()
        expect(page.get_by_test_id("seller-secret-shopper-new")).to_be_hidden()
        expect(page.get_by_test_id("seller-secret-shopper-rotate")).to_be_focused()

        # The first webhook secret.
        expect(page.get_by_test_id("seller-secret-webhook-rotate")).to_have_text("Create secret…")
        page.get_by_test_id("seller-secret-webhook-rotate").click()
        expect(page.get_by_test_id("seller-secret-webhook-confirm")).to_contain_text("Make a secret now?")
        page.get_by_test_id("seller-secret-webhook-confirm-yes").click()
        value = page.get_by_test_id("seller-secret-webhook-value")
        expect(value).to_have_value(re.compile(r"^[0-9a-f]{64}$"))
        first = value.input_value()
        expect(page.get_by_test_id("seller-secret-webhook-until")).to_have_text(
            "There was no secret before: nothing else needs to switch over."
        )
        expect(page.get_by_test_id("seller-secret-webhook-state")).to_have_text("Set")
        page.get_by_test_id("seller-secret-webhook-done").click()
        expect(page.get_by_test_id("seller-secret-webhook-new")).to_be_hidden()
        expect(value).to_have_value("")
        expect(page.get_by_test_id("seller-secret-webhook-rotate")).to_be_focused()

        # A grace period out of range is caught before anything is sent.
        expect(page.get_by_test_id("seller-secret-webhook-grace")).to_have_value("24")
        page.get_by_test_id("seller-secret-webhook-grace").fill("200")
        page.get_by_test_id("seller-secret-webhook-rotate").click()
        expect(page.get_by_test_id("seller-secret-webhook-error")).to_have_text(
            "Enter a whole number of hours from 0 to 168."
        )
        expect(page.get_by_test_id("seller-secret-webhook-confirm")).to_be_hidden()

        # Rotate it with a 12-hour grace period: shown once, copied.
        page.get_by_test_id("seller-secret-webhook-grace").fill("12")
        expect(page.get_by_test_id("seller-secret-webhook-rotate")).to_have_text("Rotate secret…")
        page.get_by_test_id("seller-secret-webhook-rotate").click()
        confirm = page.get_by_test_id("seller-secret-webhook-confirm")
        expect(confirm).to_contain_text("The current one keeps working for 12 hours")
        expect(page.get_by_test_id("seller-secret-webhook-confirm-yes")).to_be_focused()
        page.get_by_test_id("seller-secret-webhook-confirm-yes").click()
        expect(value).to_have_value(re.compile(r"^[0-9a-f]{64}$"))
        expect(value).to_have_attribute("readonly", "")
        secret = value.input_value()
        assert secret != first
        expect(page.get_by_test_id("seller-secret-webhook-new")).to_contain_text("it will not be shown again")
        expect(page.get_by_test_id("seller-secret-webhook-until")).to_contain_text("The old secret keeps working until")
        expect(page.get_by_test_id("seller-secret-webhook-previous")).to_contain_text(
            "The previous secret still works until"
        )
        webhook.get_by_test_id("seller-secret-webhook-copy").click()
        expect(webhook).to_contain_text("Copied.")
        assert page.evaluate("navigator.clipboard.readText()") == secret

        # The team: the seller admin herself cannot be removed here.
        members = page.get_by_test_id("seller-team-member")
        me = page.locator(f'[data-testid="seller-team-member"][data-email="{SELLER}"]')
        expect(me.get_by_test_id("seller-team-you")).to_have_text("You")
        expect(me.get_by_test_id("seller-team-remove")).to_have_count(0)
        expect(me.get_by_test_id("seller-team-member-role")).to_have_text("Seller admin")
        before = members.count()

        page.get_by_test_id("seller-team-add").click()
        expect(page.get_by_test_id("seller-team-error")).to_have_text("Enter a name and an email address.")
        page.get_by_test_id("seller-team-name").fill("Chen Jing")
        page.get_by_test_id("seller-team-email").fill("chen.jing@yangteng-auto.example")
        page.get_by_test_id("seller-team-role").select_option("agent")
        page.get_by_test_id("seller-team-add").click()
        # Adding is an invitation: a one-time link to pass on, never a password.
        expect(page.get_by_test_id("seller-team-created-text")).to_have_text(
            "Invitation for chen.jing@yangteng-auto.example is ready."
        )
        link = page.get_by_test_id("seller-team-link")
        expect(link).to_have_value(re.compile(r"^http://\S+/agent#invitation=[\w-]{40,}$"))
        expect(link).to_be_focused()
        chen_link = link.input_value()
        expect(page.get_by_test_id("seller-team-created")).to_contain_text("it will not be shown again")
        expect(page.get_by_test_id("seller-team-created")).to_contain_text("You never see a password.")
        invitations = page.get_by_test_id("seller-team-invitation")
        chen = page.locator('[data-testid="seller-team-invitation"][data-email="chen.jing@yangteng-auto.example"]')
        expect(chen.get_by_test_id("seller-team-member-role")).to_have_text("Support agent Invited")
        expect(members).to_have_count(before)  # not a member until they answer the link
        expect(page.get_by_test_id("seller-team-name")).to_have_value("")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "seller-team-en.png"), full_page=True)

        # Someone with an account at another store: exactly the same answer (nothing is revealed).
        page.get_by_test_id("seller-team-created-done").click()
        expect(page.get_by_test_id("seller-team-created")).to_be_hidden()
        expect(link).to_have_value("")
        page.get_by_test_id("seller-team-name").fill("Mei Chen")
        page.get_by_test_id("seller-team-email").fill("mei.chen@bloomkids-baby.example")
        page.get_by_test_id("seller-team-add").click()
        expect(page.get_by_test_id("seller-team-created-text")).to_have_text(
            "Invitation for mei.chen@bloomkids-baby.example is ready."
        )
        expect(link).to_have_value(re.compile(r"^http://\S+/agent#invitation=[\w-]{40,}$"))
        expect(invitations).to_have_count(2)
        expect(members).to_have_count(before)
        page.get_by_test_id("seller-team-created-done").click()

        # Withdrawing an invitation kills its link.
        mei = page.locator('[data-testid="seller-team-invitation"][data-email="mei.chen@bloomkids-baby.example"]')
        mei.get_by_test_id("seller-team-withdraw").click()
        expect(page.get_by_test_id("seller-team-status")).to_have_text("The invitation for Mei Chen was withdrawn.")
        expect(mei).to_have_count(0)

        # 简体中文, with Chen Jing's invitation about to be withdrawn.
        page.get_by_test_id("seller-lang-zh").click()
        expect(page.get_by_test_id("seller-secrets-heading")).to_have_text("密钥")
        expect(page.get_by_test_id("seller-team-heading")).to_have_text("团队成员")
        expect(me.get_by_test_id("seller-team-you")).to_have_text("您本人")
        expect(chen.get_by_test_id("seller-team-member-role")).to_have_text("客服 已邀请")
        expect(page.get_by_test_id("seller-secret-webhook-state")).to_have_text("已设置")
        page.get_by_test_id("seller-secret-shopper-rotate").click()
        expect(page.get_by_test_id("seller-secret-shopper-confirm")).to_contain_text("当前密钥还能继续使用 24 小时")
        assert _english_left(page, "panel-team") == []
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "seller-team-zh.png"), full_page=True)
        page.get_by_test_id("seller-secret-shopper-confirm-no").click()
        chen.get_by_test_id("seller-team-withdraw").click()
        expect(page.get_by_test_id("seller-team-status")).to_have_text("已撤回对 Chen Jing 的邀请。")
        expect(invitations).to_have_count(0)
        expect(members).to_have_count(before)
        assert chen_link  # withdrawn: the link no longer works (tests/security/test_account_isolation.py)

        assert _problems(page) == []
    finally:
        page.context.close()


def _invite(page: Page, name: str, email: str, role: str) -> str:
    """Invite someone from the team tab; the link the console shows once."""
    _tab(page, "team")
    page.get_by_test_id("seller-team-name").fill(name)
    page.get_by_test_id("seller-team-email").fill(email)
    page.get_by_test_id("seller-team-role").select_option(role)
    page.get_by_test_id("seller-team-add").click()
    link = page.get_by_test_id("seller-team-link")
    expect(link).to_have_value(re.compile(r"#invitation="))
    url = link.input_value()
    page.get_by_test_id("seller-team-created-done").click()
    return url


def test_invitation_links_a_new_person_joins_and_an_existing_account_accepts_signed_in(
    gateway: Settings, browser: Browser
) -> None:
    admin = _page(browser)
    newcomer = _page(browser)
    other_admin = _page(browser)
    try:
        _sign_in(admin, gateway)
        url = _invite(admin, "Gao Yan", "gao.yan@yangteng-auto.example", "seller_admin")
        assert "/seller#invitation=" in url

        # A new person: the link opens the join form; they choose their own password.
        newcomer.goto(url)
        expect(newcomer.get_by_test_id("seller-join-text")).to_have_text(
            "Yangteng Auto Parts invites gao.yan@yangteng-auto.example to join as Seller admin."
        )
        assert "#invitation=" not in newcomer.url  # taken out of the address at once
        expect(newcomer.get_by_test_id("seller-join-name")).to_have_value("Gao Yan")
        # The password minimum is the one the server sent with the invitation (bot/support/credentials.py).
        expect(newcomer.locator("#join-hint")).to_contain_text(f"a password of at least {MIN_PASSWORD_CHARS} characters")
        newcomer.get_by_test_id("seller-join-password").fill("short")
        newcomer.get_by_test_id("seller-join-submit").click()
        expect(newcomer.locator("#alert-text")).to_have_text("The password needs at least 10 characters.")
        newcomer.get_by_test_id("seller-join-password").fill("gao-yans-own-password")
        newcomer.get_by_test_id("seller-join-submit").click()
        expect(newcomer.get_by_test_id("seller-name")).to_have_text("Gao Yan")
        expect(newcomer.get_by_test_id("seller-store-name")).to_contain_text("Yangteng Auto Parts")
        # Used: the same link now says so.
        newcomer.context.clear_cookies()
        newcomer.goto("about:blank")  # a fresh page load, not a same-page fragment change
        newcomer.goto(url)
        expect(newcomer.locator("#alert-text")).to_have_text(re.compile("^This invitation link does not work"))

        # Someone who already administers another store: signed in, they see the invitation but
        # only the link accepts it.
        url = _invite(admin, "Huang Jie", "huang.jie@summit-outdoor.example", "seller_admin")
        other_admin.goto(f"{gateway.gateway_url}/seller")
        other_admin.get_by_test_id("seller-login-email").fill("huang.jie@summit-outdoor.example")
        other_admin.get_by_test_id("seller-login-password").fill(
            read_demo_agents(gateway.var_dir)["huang.jie@summit-outdoor.example"]
        )
        other_admin.get_by_test_id("seller-login-submit").click()
        invites = other_admin.get_by_test_id("seller-my-invites")
        expect(invites).to_contain_text(
            "Yangteng Auto Parts invites you as Seller admin (from Wang Fang <wang.fang@yangteng-auto.example>)."
        )
        expect(invites).to_contain_text("To accept, open the invitation link the store sent you.")
        expect(other_admin.get_by_test_id("seller-invite-accept")).to_have_count(0)
        other_admin.goto(url)
        expect(other_admin.get_by_test_id("seller-invite-opened")).to_contain_text("You opened an invitation link.")
        other_admin.get_by_test_id("seller-lang-zh").click()
        expect(other_admin.get_by_test_id("seller-invite-accept")).to_have_text("接受")
        other_admin.get_by_test_id("seller-lang-en").click()
        other_admin.get_by_test_id("seller-invite-accept").click()
        expect(other_admin.get_by_test_id("seller-my-invites-status")).to_have_text(
            "You joined Yangteng Auto Parts as Seller admin."
        )
        expect(other_admin.get_by_test_id("seller-store-picker").locator("option")).to_have_count(2)
        other_admin.screenshot(path=str(SCREENSHOTS / "seller-invitation-accepted-en.png"), full_page=True)

        # An agent's link opens the support console's join form.
        url = _invite(admin, "Xu Lei", "xu.lei@yangteng-auto.example", "agent")
        assert "/agent#invitation=" in url
        agent = newcomer
        agent.context.clear_cookies()
        agent.goto("about:blank")
        agent.goto(url)
        expect(agent.get_by_test_id("agent-join-text")).to_have_text(
            "Yangteng Auto Parts invites xu.lei@yangteng-auto.example to join as Support agent."
        )
        expect(agent.locator("#join-hint")).to_contain_text(f"a password of at least {MIN_PASSWORD_CHARS} characters")
        agent.get_by_test_id("agent-join-password").fill("xu-leis-own-password")
        agent.get_by_test_id("agent-join-submit").click()
        expect(agent.get_by_test_id("agent-name")).to_have_text("Xu Lei")
        expect(agent.get_by_test_id("agent-stores")).to_have_text("Yangteng Auto Parts")
        agent.screenshot(path=str(SCREENSHOTS / "agent-joined-by-invitation.png"))

        assert _problems(admin) == [] and _problems(other_admin) == []
        assert _problems(newcomer, 401, 404) == []  # the used link (404); the agent console's check before signing in (401)
    finally:
        for page in (admin, newcomer, other_admin):
            page.context.close()


def test_the_test_conversation_greets_with_the_saved_greeting(gateway: Settings, browser: Browser) -> None:
    page = _page(browser)
    greeting = "Hello from the Fuzhou workshop, {shopper_first_name}! How can {store_name} help today?"
    try:
        _sign_in(page, gateway)
        # An unsaved greeting: the test tab says it is not in use yet.
        box = _card(page, "greeting").get_by_test_id("seller-template-text")
        box.fill(greeting)
        _tab(page, "test")
        expect(page.get_by_test_id("seller-test-unsaved")).to_be_visible()
        expect(page.get_by_test_id("seller-test-start")).to_have_text("Start over")  # the tab started one
        _tab(page, "settings")
        page.get_by_test_id("seller-save").click()
        expect(page.get_by_test_id("seller-save-status")).to_have_text(re.compile(r"^Saved as version \d+\.$"))

        _tab(page, "test")
        expect(page.get_by_test_id("seller-test-unsaved")).to_be_hidden()
        run = int(page.get_by_test_id("seller-test-frame").get_attribute("data-run") or "0")
        page.get_by_test_id("seller-test-start").click()
        frame_element = page.locator(f'[data-testid="seller-test-frame"][data-run="{run + 1}"]')
        expect(frame_element).to_have_attribute("title", "Test conversation with your assistant")
        expect(page.get_by_test_id("seller-test-frame")).to_have_count(1)  # a new frame, not one more
        size = frame_element.bounding_box()
        assert size and 380 <= size["width"] <= 420 and size["height"] >= 560, size
        chat = page.frame_locator(f'[data-testid="seller-test-frame"][data-run="{run + 1}"]')
        # The widget is open from the start and fills the frame: no launcher, no close button.
        expect(chat.get_by_test_id("asw-panel")).to_be_visible()
        expect(chat.get_by_test_id("asw-launcher")).to_be_hidden()
        expect(chat.get_by_test_id("asw-close")).to_be_hidden()
        panel = chat.get_by_test_id("asw-panel").bounding_box()
        assert panel and abs(panel["width"] - size["width"]) <= 2 and abs(panel["height"] - size["height"]) <= 2, (
            panel,
            size,
        )

        chat.get_by_test_id("asw-input").fill("hi")
        chat.get_by_test_id("asw-input").press("Enter")
        reply = chat.locator('[data-testid="asw-message"][data-sender="bot"]').last
        expect(reply).to_contain_text("Hello from the Fuzhou workshop, ", timeout=30_000)
        expect(reply).to_contain_text("How can Yangteng Auto Parts help today?")
        page.screenshot(path=str(SCREENSHOTS / "seller-test-chat-en.png"), full_page=True)

        page.get_by_test_id("seller-lang-zh").click()
        expect(page.get_by_test_id("seller-test-heading")).to_have_text("测试对话")
        expect(page.get_by_test_id("seller-test-start")).to_have_text("重新开始")
        expect(frame_element).to_have_attribute("title", "与智能助手的测试对话")
        assert _english_left(page, "panel-test") == []
        page.screenshot(path=str(SCREENSHOTS / "seller-test-chat-zh.png"), full_page=True)

        assert _problems(page) == []
    finally:
        page.context.close()


def test_a_seller_sets_how_long_shoppers_photos_are_kept(gateway: Settings, browser: Browser) -> None:
    page = _page(browser)
    retention = page.get_by_test_id("seller-data-retention")
    try:
        _sign_in(page, gateway)
        expect(page.get_by_test_id("seller-privacy-heading")).to_have_text("Privacy")
        expect(page.get_by_test_id("seller-data-retention-label")).to_have_text("Keep shoppers' photos for (days)")
        expect(retention).to_have_value("365")  # the default: a year, long enough for a warranty claim

        # Out of range: the server's refusal beside the save button, naming the field, and nothing saved.
        retention.fill("0")
        expect(page.get_by_test_id("seller-save-status")).to_have_text("Unsaved changes: 1.")
        page.get_by_test_id("seller-save").click()
        expect(page.get_by_test_id("seller-save-error")).to_have_text(
            "Nothing was saved: photo retention: must be a whole number of days from 1 to 3,650"
        )

        retention.fill("90")
        page.get_by_test_id("seller-save").click()
        expect(page.get_by_test_id("seller-save-status")).to_have_text(re.compile(r"^Saved as version \d+\.$"))
        expect(page.get_by_test_id("seller-history-item").first.get_by_test_id("seller-history-summary")).to_have_text(
            "Changed: photo retention"
        )

        # Kept: a reload shows the saved value, in Chinese too.
        page.reload()
        expect(retention).to_have_value("90")
        page.get_by_test_id("seller-lang-zh").click()
        expect(page.get_by_test_id("seller-privacy-heading")).to_have_text("隐私")
        expect(page.get_by_test_id("seller-data-retention-label")).to_have_text("买家照片保留天数")
        expect(page.get_by_test_id("seller-history-item").first.get_by_test_id("seller-history-summary")).to_have_text(
            "修改了：照片保留天数"
        )
        expect(page.get_by_test_id("seller-save-status")).to_have_text(re.compile(r"^没有未保存的更改。当前版本：\d+。$"))

        # Back to a year, for the tests after this one.
        retention.fill("365")
        page.get_by_test_id("seller-save").click()
        expect(page.get_by_test_id("seller-save-status")).to_have_text(re.compile(r"^已保存为版本 \d+。$"))
        page.get_by_test_id("seller-lang-en").click()
        assert _problems(page, 400) == []
    finally:
        page.context.close()


def test_the_console_fits_a_phone_in_chinese(gateway: Settings, browser: Browser) -> None:
    """Sellers check things from their phones: at 390 px every tab is reachable and no panel
    makes the page scroll sideways (the tab bar scrolls on its own)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = _page(browser, phone=True)
    try:
        _sign_in(page, gateway)
        page.get_by_test_id("seller-lang-zh").click()
        expect(page.get_by_test_id("seller-tab-settings")).to_have_text("消息与设置")
        _settled(page)
        for name in ("settings", "guides", "team", "test"):
            _tab(page, name)  # each tab is scrolled into view and clicked like a finger would
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"the {name} tab makes the page {overflow}px wider than the phone"
            panel = page.get_by_test_id(f"seller-panel-{name}").bounding_box()
            assert panel and panel["x"] >= 0 and panel["x"] + panel["width"] <= 390 + 1, (name, panel)
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(SCREENSHOTS / f"seller-phone-{name}-zh.png"))
        assert _problems(page) == []
    finally:
        page.context.close()
