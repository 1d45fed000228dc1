"""The seller console's Email section in a real browser (Debian's Chromium): turn review emails off,
name the sender, save, reload and find them kept; the email preview as text (the seller's markup
shown as typed, never rendered); a refused field shown beside it, in both languages; and the store's
own sending server, whose password is never shown back. The gateway runs on a thread of this process
(tests/web/threaded_gateway.py), without Rasa."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.core.models import Store
from bot.support.accounts import AgentAccounts
from tests.web.browser import sign_in_to_seller_console, watch_problems
from tests.web.threaded_gateway import Sessions, ThreadedGateway

STORE = "yangteng-auto"
SELLER_NAME = "Wang Email"
EMAIL, PASSWORD = "email.seller@yangteng-auto.example", "a long enough password"
SMTP_PASSWORD = "smtp password 42"


async def a_seller(sessions: Sessions) -> None:
    await AgentAccounts(sessions).add(EMAIL, SELLER_NAME, PASSWORD, [STORE], role="seller_admin")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedGateway[None]]:
    with ThreadedGateway(tmp_path_factory.mktemp("seller-email"), a_seller) as gateway:
        yield gateway


def _kind(page: Page, kind: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-testid="seller-email-kind"][data-kind="{kind}"]')


def test_a_seller_turns_review_emails_off_names_the_sender_and_sees_the_email(
    gateway: ThreadedGateway[None], browser: Browser
) -> None:
    page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    problems = watch_problems(page)
    try:
        sign_in_to_seller_console(page, gateway.url, EMAIL, PASSWORD, SELLER_NAME)
        expect(page.get_by_test_id("seller-email-heading")).to_have_text("Email")
        expect(_kind(page, "review_invitation")).to_be_checked()
        expect(page.locator('label[for="email-kind-review_invitation"]')).to_have_text("Review invitations and reminders")
        # The preview: a delivery confirmation of the store, as text.
        expect(page.get_by_test_id("seller-email-preview-subject")).to_have_text("Your messages from Yangteng Auto Parts")
        preview = page.get_by_test_id("seller-email-preview-text")
        expect(preview).to_contain_text("was delivered")
        expect(preview).to_contain_text("Yangteng Auto Parts:")

        _kind(page, "review_invitation").uncheck()
        page.get_by_test_id("seller-email-sender-name").fill("Yangteng Service")
        expect(page.get_by_test_id("seller-save-status")).to_have_text("Unsaved changes: 2.")
        page.get_by_test_id("seller-save").click()
        expect(page.get_by_test_id("seller-save-status")).to_have_text("Saved as version 1.")
        expect(page.get_by_test_id("seller-history-summary").first).to_have_text(
            "Changed: email of review invitations, email sender name"
        )

        page.reload()
        expect(page.get_by_test_id("seller-name")).to_have_text(SELLER_NAME)
        expect(_kind(page, "review_invitation")).not_to_be_checked()
        expect(_kind(page, "delivery_confirmation")).to_be_checked()
        expect(page.get_by_test_id("seller-email-sender-name")).to_have_value("Yangteng Service")
        expect(page.get_by_test_id("seller-save-status")).to_have_text("No unsaved changes. Current version: 1.")

        # An unsaved footer with markup: the preview shows it as typed, never as HTML.
        footer = page.locator('[data-testid="seller-template"][data-key="email_footer"]')
        expect(footer.get_by_test_id("seller-template-title")).to_have_text("Email footer")
        footer.get_by_test_id("seller-template-text").fill("<b>See you</b> at {store_name}")
        expect(preview).to_contain_text("<b>See you</b> at Yangteng Auto Parts")
        assert preview.locator("b").count() == 0

        # A refused field says why beside it, in either language.
        page.get_by_test_id("seller-email-reply-domain").fill("not a domain")
        page.get_by_test_id("seller-save").click()
        error = page.get_by_test_id("seller-email-error-reply_domain")
        expect(error).to_be_visible()
        expect(error).to_contain_text("domain name like mail.example.com")
        expect(page.get_by_test_id("seller-email-reply-domain")).to_have_attribute("aria-invalid", "true")
        page.get_by_test_id("seller-lang-zh").click()
        expect(error).to_contain_text("必须是域名")
        expect(page.locator('label[for="email-kind-review_invitation"]')).to_have_text("评价邀请和提醒")
        page.get_by_test_id("seller-lang-en").click()
        page.get_by_test_id("seller-discard").click()
        expect(error).to_be_hidden()
        # (The browser logs the refused save and the sign-in page's first "who am I?" as failed loads.)
        assert [p for p in problems if not p.startswith("Failed to load resource")] == [], problems
    finally:
        page.context.close()


def test_the_sending_servers_password_is_written_and_never_shown_back(
    gateway: ThreadedGateway[None], browser: Browser
) -> None:
    page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    try:
        sign_in_to_seller_console(page, gateway.url, EMAIL, PASSWORD, SELLER_NAME)
        page.get_by_test_id("seller-tab-team").click()
        expect(page.get_by_test_id("seller-smtp-state")).to_have_text("The assistant's server")
        page.get_by_test_id("seller-smtp-host").fill("127.0.0.1")
        page.get_by_test_id("seller-smtp-save").click()
        expect(page.locator("#smtp-error-host")).to_contain_text("domain name")

        page.get_by_test_id("seller-smtp-host").fill("smtp.yangteng-auto.example")
        page.get_by_test_id("seller-smtp-username").fill("mailer")
        page.get_by_test_id("seller-smtp-password").fill(SMTP_PASSWORD)
        page.get_by_test_id("seller-smtp-save").click()
        expect(page.get_by_test_id("seller-smtp-state")).to_have_text("Your store's server")
        expect(page.get_by_test_id("seller-smtp-password-state")).to_have_text(
            "A password is saved. Leave this empty to keep it."
        )
        expect(page.get_by_test_id("seller-smtp-password")).to_have_value("")

        page.reload()
        page.get_by_test_id("seller-tab-team").click()
        expect(page.get_by_test_id("seller-smtp-host")).to_have_value("smtp.yangteng-auto.example")
        expect(page.get_by_test_id("seller-smtp-port")).to_have_value("587")
        expect(page.get_by_test_id("seller-smtp-password")).to_have_value("")
        assert SMTP_PASSWORD not in page.content()

        async def saved_password() -> str | None:
            async with gateway.sessions() as session:
                store = await session.get(Store, STORE)
                return store.smtp_password if store else None

        assert gateway.run(saved_password()) == SMTP_PASSWORD
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_test_id("seller-smtp-clear").click()
        expect(page.get_by_test_id("seller-smtp-state")).to_have_text("The assistant's server")
        assert gateway.run(saved_password()) is None
    finally:
        page.context.close()
