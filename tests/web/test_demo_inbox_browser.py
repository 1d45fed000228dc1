"""The demo inbox in Chromium: a kept email's links are real anchors, hostile text in a subject or a
body stays text, and the reply form passes the reply on (to a stand-in inbound webhook here)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.sync_api import Browser, expect

from bot.core.config import load_settings
from bot.core.db import create_engine, create_sessionmaker
from bot.runtime.stack import free_port
from bot.web.app import create_app
from tests.web.browser import shoot, watch_problems
from tests.web.test_demo_inbox import INBOUND_SECRET, StandInWebhook, delivery_email, keep

PAYLOAD = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'


class DemoGateway:
    """The gateway with DEMO=1 and a stand-in inbound webhook, served on a thread of their own."""

    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir
        self.webhook = StandInWebhook()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _start(self) -> None:
        webhook_port, self.port = free_port(), free_port()
        standin = web.Application()
        standin.router.add_post("/webhooks/email/inbound/{secret}", self.webhook.handle)
        settings = load_settings(
            {
                "VAR_DIR": str(self.var_dir),
                "DEMO": "1",
                "EMAIL_INBOUND_SECRET": INBOUND_SECRET,
                "MAIL_SINK_DIR": str(self.var_dir / "sink"),
                # The inbox posts replies to {gateway_url}/webhooks/email/inbound/…: the stand-in's port.
                "GATEWAY_PORT": str(webhook_port),
            }
        )
        self.engine = create_engine(f"sqlite+aiosqlite:///{self.var_dir / 'unused.db'}")
        self.runners = [web.AppRunner(standin), web.AppRunner(create_app(settings, create_sessionmaker(self.engine)))]
        for runner, port in zip(self.runners, (webhook_port, self.port), strict=True):
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()

    async def _stop(self) -> None:
        for runner in self.runners:
            await runner.cleanup()
        await self.engine.dispose()

    def __enter__(self) -> DemoGateway:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=60)
        return self

    def __exit__(self, *_: object) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(timeout=60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[DemoGateway]:
    with DemoGateway(tmp_path) as gateway:
        yield gateway


def test_the_inbox_shows_a_kept_email_with_its_links_and_hostile_text_as_text(
    browser: Browser, gateway: DemoGateway
) -> None:
    keep(gateway.var_dir / "sink", delivery_email())
    keep(gateway.var_dir / "sink", delivery_email(subject=PAYLOAD, text=f"{PAYLOAD}\nhttps://shop.example/a?b=<c>\n"))
    page = browser.new_page()
    problems = watch_problems(page)
    page.goto(f"{gateway.url}/demo/inbox")

    listed = page.get_by_test_id("inbox-message")
    expect(listed).to_have_count(2)
    page.locator('[data-testid="inbox-message"]', has_text="Your messages from Yangteng Auto Parts").click()
    expect(page.get_by_test_id("inbox-subject")).to_have_text("Your messages from Yangteng Auto Parts")
    links = page.get_by_test_id("inbox-text").locator("a")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_attribute("href", "https://yangteng-auto.example/manuals/OP-1001.pdf")
    expect(links.nth(1)).to_have_attribute("href", "http://127.0.0.1:8080/continue/tok123")
    expect(links.nth(0)).to_have_attribute("rel", "noopener noreferrer")
    # javascript: is text, never an anchor.
    expect(page.get_by_test_id("inbox-text")).to_contain_text("Not a link: javascript:alert(1)")
    expect(page.get_by_test_id("inbox-attachments")).to_contain_text("OP-1001.pdf · application/pdf · 13 bytes")
    shoot(page, "demo-inbox.png")

    page.locator('[data-testid="inbox-message"]', has_text="onerror").click()
    expect(page.get_by_test_id("inbox-subject")).to_have_text(PAYLOAD)
    expect(page.get_by_test_id("inbox-text")).to_contain_text(PAYLOAD)
    assert page.locator("img, script:not([type=module])").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert problems == []
    page.close()


def test_the_reply_form_passes_the_reply_on_to_the_inbound_webhook(browser: Browser, gateway: DemoGateway) -> None:
    keep(gateway.var_dir / "sink", delivery_email())
    page = browser.new_page()
    page.goto(f"{gateway.url}/demo/inbox")
    page.get_by_test_id("inbox-message").first.click()
    page.get_by_test_id("inbox-reply-text").fill("Thanks! Which gasket do I need?")
    page.get_by_test_id("inbox-reply-send").click()
    expect(page.get_by_test_id("inbox-reply-status")).to_contain_text("Sent.")
    [(secret, _, form)] = gateway.webhook.forms
    assert secret == INBOUND_SECRET
    assert (form["from"], form["to"]) == ("alex@example.com", "reply+abc234@demo.localhost")
    assert form["text"].startswith("Thanks! Which gasket do I need?\n\nOn ")
    page.close()
