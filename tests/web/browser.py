"""Shared by the browser tests: Debian's Chromium under Playwright (never a
downloaded browser), and the widget's moves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect, sync_playwright

from bot.core.config import PROJECT_ROOT
from bot.web.console_auth import STATIC

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = PROJECT_ROOT / "artifacts" / "screenshots"


@contextmanager
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (make test and .ci/run do this)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def shoot(page: Page, name: str) -> None:
    """A screenshot once the widget panel's opening animation has finished."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function(
        """() => { const p = document.querySelector('[data-testid="asw-panel"]');
                   return !p || p.hidden || getComputedStyle(p).opacity === '1'; }"""
    )
    page.screenshot(path=str(SCREENSHOTS / name))


def watch_problems(page: Page) -> list[str]:
    """The page's console errors and uncaught exceptions, collected from now on."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.text} [{m.location.get('url', '')}]") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def wait_until_panel_fills(page: Page, width: int, height: int) -> None:
    """Wait until the widget panel covers the whole width × height viewport (once its opening animation settles)."""
    page.wait_for_function(
        """([width, height]) => {
            const r = document.querySelector('[data-testid="asw-panel"]').getBoundingClientRect();
            return r.left <= 0.5 && r.top <= 0.5 && r.width >= width - 0.5 && r.height >= height - 0.5;
        }""",
        arg=[width, height],
        timeout=5_000,
    )


def send(page: Page, text: str) -> None:
    box = page.get_by_test_id("asw-input")
    box.fill(text)
    box.press("Enter")


def bot_messages(page: Page):  # type: ignore[no-untyped-def]
    return page.locator('[data-testid="asw-message"][data-sender="bot"]')


#: A page and the console's static files served by the browser itself (Playwright's routing): no gateway.
STATIC_ORIGIN = "https://console.test"
_CONTENT_TYPES = {".js": "application/javascript", ".json": "application/json"}


@contextmanager
def static_module_page(browser: Browser, title: str) -> Iterator[Page]:
    """A blank page at STATIC_ORIGIN that can import any module (and fetch any text) under
    bot/web/static, as the consoles do; anything else is a 404."""

    def serve(route: Route) -> None:
        path = route.request.url.removeprefix(STATIC_ORIGIN)
        file = (STATIC / path.lstrip("/")).resolve()
        if path == "/":
            route.fulfill(status=200, content_type="text/html", body=f"<!doctype html><title>{title}</title>")
        elif file.is_relative_to(STATIC) and file.is_file() and file.suffix in _CONTENT_TYPES:
            route.fulfill(status=200, content_type=_CONTENT_TYPES[file.suffix], body=file.read_text(encoding="utf-8"))
        else:
            route.fulfill(status=404, body="")

    context: BrowserContext = browser.new_context()
    try:
        page = context.new_page()
        page.route(f"{STATIC_ORIGIN}/**", serve)
        page.goto(f"{STATIC_ORIGIN}/")
        yield page
    finally:
        context.close()


def sign_in_to_seller_console(page: Page, gateway_url: str, email: str, password: str, name: str) -> None:
    """Open the seller console and sign in, as a seller does; returns once it greets ``name``."""
    page.goto(f"{gateway_url}/seller")
    page.get_by_test_id("seller-login-email").fill(email)
    page.get_by_test_id("seller-login-password").fill(password)
    page.get_by_test_id("seller-login-submit").click()
    expect(page.get_by_test_id("seller-name")).to_have_text(name)
