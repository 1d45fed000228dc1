"""The seller console's requests when things go wrong, in a real browser (Debian's Chromium): a change
refused for a stale CSRF token is sent again with the current one (as in the agent console: the shared
client does it), a sign-out the server did not take leaves the seller signed in and says so, and a
guide saved while the seller moves to another product does not leave the editor stuck "saving".
The gateway runs on a thread of this process (tests/web/threaded_gateway.py), without Rasa."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from bot.support.accounts import AgentAccounts
from tests.web.browser import sign_in_to_seller_console, watch_problems
from tests.web.threaded_gateway import Sessions, ThreadedGateway

STORE = "yangteng-auto"
SELLER_NAME = "Wang Requests"


async def a_seller(sessions: Sessions) -> tuple[str, str]:
    email, password = "requests.seller@yangteng-auto.example", "a long enough password"
    await AgentAccounts(sessions).add(email, SELLER_NAME, password, [STORE], role="seller_admin")
    return email, password


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedGateway[tuple[str, str]]]:
    with ThreadedGateway(tmp_path_factory.mktemp("seller-requests"), a_seller) as gateway:
        yield gateway


def _signed_in(browser: Browser, gateway: ThreadedGateway[tuple[str, str]]) -> Page:
    page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    email, password = gateway.seeded
    sign_in_to_seller_console(page, gateway.url, email, password, SELLER_NAME)
    return page


def test_a_change_refused_for_a_stale_csrf_token_is_sent_again_with_the_current_one(
    gateway: ThreadedGateway[tuple[str, str]], browser: Browser
) -> None:
    page = _signed_in(browser, gateway)
    try:
        problems = watch_problems(page)
        sent_tokens: list[str] = []

        def stale_token_first(route: Route) -> None:
            if route.request.method != "POST":
                route.continue_()
                return
            sent_tokens.append(route.request.headers.get("x-csrf-token", ""))
            if len(sent_tokens) == 1:
                route.continue_(headers={**route.request.headers, "x-csrf-token": "stale"})
            else:
                route.continue_()

        page.route(f"**/seller/api/stores/{STORE}/team", stale_token_first)
        page.get_by_test_id("seller-tab-team").click()
        page.get_by_test_id("seller-team-name").fill("Kim Ho")
        page.get_by_test_id("seller-team-email").fill("kim.ho@yangteng-auto.example")
        page.get_by_test_id("seller-team-add").click()
        expect(page.get_by_test_id("seller-team-created")).to_be_visible()
        expect(page.get_by_test_id("seller-team-link")).to_have_value(re.compile(r"#invitation=[A-Za-z0-9_-]{20,}$"))
        assert len(sent_tokens) == 2 and sent_tokens[0] == sent_tokens[1]  # refused once, then the current token
        expect(page.get_by_test_id("seller-error")).to_be_empty()
        # The browser logs the refused request itself, and nothing else went wrong.
        assert [p for p in problems if "status of 403 (Forbidden)" not in p] == [], problems
    finally:
        page.context.close()


def test_a_sign_out_the_server_did_not_take_leaves_the_seller_signed_in_and_says_so(
    gateway: ThreadedGateway[tuple[str, str]], browser: Browser
) -> None:
    page = _signed_in(browser, gateway)
    try:
        page.route("**/seller/api/logout", lambda route: route.fulfill(status=500, body=""))
        page.get_by_test_id("seller-logout").click()
        expect(page.get_by_test_id("seller-error")).to_have_text("Something went wrong on the server (500). Try again.")
        # Still signed in on the server: the page does not pretend otherwise.
        expect(page.get_by_test_id("seller-logout")).to_be_enabled()
        expect(page.get_by_test_id("seller-login-email")).to_be_hidden()

        page.unroute("**/seller/api/logout")
        page.get_by_test_id("seller-logout").click()
        expect(page.get_by_test_id("seller-login-email")).to_be_visible()
        page.reload()  # the server ended the session: a reload stays signed out
        expect(page.get_by_test_id("seller-login-email")).to_be_visible()
        expect(page.get_by_test_id("seller-name")).to_be_hidden()
    finally:
        page.context.close()


def test_a_guide_saved_while_the_seller_opens_another_product_leaves_the_editor_usable(
    gateway: ThreadedGateway[tuple[str, str]], browser: Browser
) -> None:
    page = _signed_in(browser, gateway)
    try:
        held: list[Route] = []

        def hold_the_save(route: Route) -> None:
            if route.request.method == "PUT":
                held.append(route)  # answered below, once the seller has moved on
            else:
                route.continue_()

        page.route("**/seller/api/stores/*/products/*/guide", hold_the_save)
        page.get_by_test_id("seller-tab-guides").click()
        page.locator('[data-testid="seller-product"][data-sku="OP-1001"]').click()
        expect(page.get_by_test_id("seller-guide-title")).to_have_text("Aluminium oil pan")
        page.get_by_test_id("seller-guide-video").fill("https://yangteng-auto.example/videos/op-1001-new.mp4")
        page.get_by_test_id("seller-guide-save").click()
        expect(page.get_by_test_id("seller-guide-status")).to_have_text("Saving…")
        for _ in range(100):
            if held:
                break
            page.wait_for_timeout(50)
        assert held, "the save never left the page"

        page.locator('[data-testid="seller-product"][data-sku="GK-2040"]').click()  # unsaved edits: confirmed
        expect(page.get_by_test_id("seller-guide-title")).to_have_text("Oil pan gasket")
        held[0].continue_()
        page.wait_for_load_state("networkidle")

        page.get_by_test_id("seller-guide-video").fill("https://yangteng-auto.example/videos/gk-2040-new.mp4")
        expect(page.get_by_test_id("seller-guide-save")).to_be_enabled()
        expect(page.get_by_test_id("seller-guide-status")).not_to_have_text("Saving…")
    finally:
        page.context.close()


def test_an_invitation_link_opened_without_a_network_says_so(
    gateway: ThreadedGateway[tuple[str, str]], browser: Browser
) -> None:
    page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    try:
        page.route("**/seller/api/invitation", lambda route: route.abort("internetdisconnected"))
        page.goto(f"{gateway.url}/seller#invitation={'a' * 32}")
        expect(page.get_by_test_id("seller-error")).to_have_text(
            "The server cannot be reached. Check your connection and try again."
        )  # not "Something went wrong on the server (0)"
        expect(page.get_by_test_id("seller-login-email")).to_be_visible()
    finally:
        page.context.close()


def test_a_template_is_limited_in_characters_as_the_server_counts_them(
    gateway: ThreadedGateway[tuple[str, str]], browser: Browser
) -> None:
    """1,500 emoji are 1,500 characters to the server (of the 2,000 a template may have), 3,000 UTF-16
    units to a maxlength: nothing is cut off, and only the server's refusal says when it is too long."""
    page = _signed_in(browser, gateway)
    try:
        card = page.locator('[data-testid="seller-template"][data-key="greeting"]')
        area = card.get_by_test_id("seller-template-text")
        text = "🙂" * 1500
        area.fill(text)
        assert area.input_value() == text
        expect(card.get_by_test_id("seller-template-preview")).to_have_text(text)
        expect(card.get_by_test_id("seller-template-error")).to_be_hidden()
        expect(page.get_by_test_id("seller-save")).to_be_enabled()

        area.fill("a" * 2001)
        expect(card.get_by_test_id("seller-template-error")).to_have_text(
            "This template cannot be saved: a template can have at most 2,000 characters"
        )
        expect(page.get_by_test_id("seller-save")).to_be_disabled()

        # A guide's step likewise (the server takes 1,000 characters).
        page.get_by_test_id("seller-discard").click()
        page.get_by_test_id("seller-tab-guides").click()
        page.locator('[data-testid="seller-product"][data-sku="GK-2040"]').click()
        step = page.get_by_test_id("seller-guide-step-text").first
        step.fill("🔧" * 600)
        assert step.input_value() == "🔧" * 600
    finally:
        page.context.close()


def test_a_sign_in_with_a_stale_login_token_fetches_a_fresh_one_and_goes_through(
    gateway: ThreadedGateway[tuple[str, str]], browser: Browser
) -> None:
    """The sign-in page outlived its login token (a sign-in since, in another tab, deleted its cookie):
    the shared client fetches a fresh one and signs in, as the agent console always did."""
    page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    try:
        page.goto(f"{gateway.url}/seller")
        page.evaluate("document.querySelector('meta[name=\"login-csrf\"]').setAttribute('content', 'stale')")
        email, password = gateway.seeded
        page.get_by_test_id("seller-login-email").fill(email)
        page.get_by_test_id("seller-login-password").fill(password)
        page.get_by_test_id("seller-login-submit").click()
        expect(page.get_by_test_id("seller-name")).to_have_text(SELLER_NAME)
        expect(page.get_by_test_id("seller-error")).to_be_empty()
    finally:
        page.context.close()


def test_a_console_opened_without_a_network_says_so_on_the_sign_in(
    gateway: ThreadedGateway[tuple[str, str]], browser: Browser
) -> None:
    page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    try:
        page.route("**/seller/api/me", lambda route: route.abort("internetdisconnected"))
        page.goto(f"{gateway.url}/seller")
        expect(page.get_by_test_id("seller-login-email")).to_be_visible()
        expect(page.get_by_test_id("seller-error")).to_have_text(
            "The server cannot be reached. Check your connection and try again."
        )
    finally:
        page.context.close()
