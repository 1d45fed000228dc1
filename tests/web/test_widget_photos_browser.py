"""The widget's photos in a real browser (Debian's Chromium): picked with the paper clip, dropped on
the chat or pasted, each uploaded at once with its progress bar, removed or sent with a message, and
shown in the conversation from the gateway (with the conversation's token, as object URLs) on the
demo store's page, whose policy allows them; the widget refuses a sixth photo, a file over 10 MB and
shows the gateway's refusal of a file that is not a photo.

The gateway, Rasa, the action server and the worker run as real processes over the demo stores: the
damaged-item report asks for photos, and the photos sent become part of the report."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect

from bot.chat.conversations import ConversationService, NewMessage
from bot.chat.replies import AGENT_PHOTO_REQUEST, PHOTOS_KEPT, PHOTOS_WITH_REPORT
from bot.core.config import Settings
from bot.core.db import create_engine, create_sessionmaker
from bot.core.refusals import REFUSALS
from bot.photos.conversation_photos import ConversationPhotos, photo_json
from bot.photos.images import THUMBNAIL_EDGE, prepare_photo
from bot.photos.storage import photo_storage
from tests.engine import running_engine
from tests.photos.sample_images import BLUE, image_bytes
from tests.web.browser import bot_messages, send, shoot, wait_until_panel_fills, watch_problems

pytestmark = pytest.mark.engine

STORE = "yangteng-auto"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
AGENT_NOTE = "Is this the bracket you mean?"
#: The paper clip's class while the bot's latest message asks for photos.
SUGGESTED = re.compile(r"\basw-is-suggested\b")


@dataclass(frozen=True)
class Seeded:
    """A conversation where an agent has sent the shopper a photo and asked for more: its id and the shopper's token."""

    conversation: str
    token: str


@dataclass(frozen=True)
class Gateway:
    url: str
    seeded: Seeded


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with running_engine(tmp_path_factory.mktemp("widget-photos-browser"), with_gateway=True, with_worker=True) as (
        _,
        settings,
    ):
        yield Gateway(settings.gateway_url, asyncio.run(agent_sent_a_photo(settings)))


async def agent_sent_a_photo(settings: Settings) -> Seeded:
    """A conversation where an agent sent the shopper a photo, then asked for more."""
    database = create_engine(settings.database_url)
    try:
        sessions = create_sessionmaker(database)
        conversations = ConversationService(sessions)
        chat, token = await conversations.start(STORE)
        # Kept where the gateway keeps photos: the same settings.
        photos = ConversationPhotos(sessions, photo_storage(settings, sessions), 30)
        photo = await photos.add(
            STORE, chat.conversation_id, "agent", prepare_photo(image_bytes("JPEG", (800, 600), colour=BLUE))
        )
        attachment = {"type": "photos", "photos": [photo_json(photo)]}
        stored = await conversations.append(
            chat, [NewMessage(sender="agent", text=AGENT_NOTE, attachment=attachment, author="Kim Ho")]
        )
        await photos.attach_to_message(STORE, chat.conversation_id, stored[0].seq, [photo.id])
        # Then the agent console's "Ask for more photos" (bot/support/handoff.py ask_for_photos).
        request = NewMessage(sender="agent", text=AGENT_PHOTO_REQUEST, attachment={"type": "photo_request"}, author="Kim Ho")
        await conversations.append(chat, [request])
        return Seeded(chat.conversation_id, token)
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def photo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real photos to pick: a JPEG and a PNG (the two of a message), more JPEGs, one over 10 MB, and
    a file named and typed as a JPEG that is not an image."""
    folder = tmp_path_factory.mktemp("photos")
    files = {
        "crack.jpg": image_bytes("JPEG", (1600, 1200)),
        "label.png": image_bytes("PNG", (640, 480), colour=BLUE),
        **{f"extra-{n}.jpg": image_bytes("JPEG", (320, 240), colour=(20 * n, 120, 60)) for n in range(1, 7)},
        # A real JPEG's header with 11 MB after it: only the size matters, the widget refuses it unsent.
        "huge.jpg": image_bytes("JPEG", (64, 64)) + bytes(11 * 1024 * 1024),
        "notes.jpg": b"not a photo at all, only text saved with a .jpg name",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in files}


def open_chat(browser: Browser, gateway: Gateway, viewport: dict[str, int]) -> Page:
    """The demo store's page, browsing anonymously, with the chat open (filling the screen of a phone)."""
    phone = viewport["width"] < 480
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.goto(f"{gateway.url}/?shopper=anonymous")
    page.get_by_test_id("asw-launcher").click()
    expect(page.get_by_test_id("asw-panel")).to_be_visible()
    if phone:
        wait_until_panel_fills(page, viewport["width"], viewport["height"])
    return page


def photo_uploads(page: Page) -> list[str]:
    """The photo uploads the page makes from now on (their URLs)."""
    made: list[str] = []

    def seen(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/photos"):
            made.append(request.url)

    page.on("request", seen)
    return made


def expect_all_loaded(page: Page, selector: str, count: int) -> None:
    """``count`` images match ``selector`` and each has loaded (a picture, not a broken icon)."""
    expect(page.locator(selector)).to_have_count(count)
    page.wait_for_function(
        """([selector, count]) => { const images = [...document.querySelectorAll(selector)];
              return images.length === count && images.every(img => img.complete && img.naturalWidth > 0); }""",
        arg=[selector, count],
        timeout=15_000,
    )


def expect_uploaded(page: Page, count: int) -> None:
    tiles = page.get_by_test_id("asw-photo-tile")
    expect(tiles).to_have_count(count)
    for i in range(count):
        expect(tiles.nth(i)).to_have_attribute("data-state", "uploaded", timeout=15_000)
        expect(tiles.nth(i).get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_shopper_attaches_two_photos_removes_one_adds_it_back_and_sends_them(
    gateway: Gateway, browser: Browser, photo_files: dict[str, Path], device: str
) -> None:
    page = open_chat(browser, gateway, DESKTOP if device == "desktop" else PHONE)
    problems = watch_problems(page)
    try:
        attach = page.get_by_role("button", name="Attach photos")
        expect(attach).to_be_visible()  # always, not only when asked
        picker = page.get_by_test_id("asw-photo-input")
        expect(picker).to_have_attribute("accept", "image/jpeg,image/png,image/webp,image/heic,image/heif")
        expect(picker).to_have_attribute("multiple", "")
        # No `capture`: a phone offers its gallery as well as its camera.
        assert picker.get_attribute("capture") is None

        # The damaged-item report, as an anonymous shopper: the order, its proof, what happened.
        for said, asked in (
            ("The oil pan arrived cracked", "order number"),
            ("FZ-20931", "postcode"),
            ("10027", "describe the damage"),
        ):
            send(page, said)
            expect(bot_messages(page).last).to_contain_text(asked, timeout=15_000)
        expect(attach).not_to_have_class(SUGGESTED)
        send(page, "The flange is cracked next to the drain plug")
        expect(bot_messages(page).last).to_contain_text("paper clip", timeout=15_000)
        expect(attach).to_have_class(SUGGESTED)  # the shopper is shown where it is

        picker.set_input_files([photo_files["crack.jpg"], photo_files["label.png"]])
        expect_uploaded(page, 2)
        expect_all_loaded(page, '[data-testid="asw-photo-preview"]', 2)
        expect(page.get_by_test_id("asw-send")).to_be_enabled()

        page.get_by_role("button", name="Remove photo label.png").click()
        expect(page.get_by_test_id("asw-photo-tile")).to_have_count(1)
        expect(attach).to_be_focused()  # where the next photo comes from
        picker.set_input_files([photo_files["label.png"]])
        expect_uploaded(page, 2)
        expect(page.get_by_test_id("asw-photo-preview").nth(1)).to_have_attribute("alt", "label.png")
        shoot(page, f"widget-photos-{device}.png")

        send(page, "Here they are")
        sent = page.locator('[data-testid="asw-message"][data-sender="shopper"]').filter(has_text="Here they are")
        expect(sent).to_have_count(1, timeout=15_000)
        expect_all_loaded(page, '[data-testid="asw-message"][data-sender="shopper"] [data-testid="asw-photo-thumb"]', 2)
        thumbnail = sent.get_by_test_id("asw-photo-thumb").first
        assert (thumbnail.get_attribute("src") or "").startswith("blob:")  # fetched with the token, not by URL
        assert thumbnail.evaluate("img => img.naturalWidth") == THUMBNAIL_EDGE  # the thumbnail, not the full photo
        expect(page.get_by_test_id("asw-photo-tray")).to_be_hidden()  # the tray is cleared
        expect(page.get_by_test_id("asw-photo-tile")).to_have_count(0)
        # The report is recorded with them: the bot says where they went, never what they show.
        expect(bot_messages(page).last.get_by_test_id("asw-message-text")).to_have_text(
            PHOTOS_WITH_REPORT.format(count=2), timeout=15_000
        )
        expect(bot_messages(page).nth(-2)).to_contain_text("passed this to the store's team")
        shoot(page, f"widget-photos-sent-{device}.png")

        # The full photo, over everything; Escape closes it (and only it), back to the thumbnail.
        sent.get_by_role("button", name="Open photo 1 of 2").click()
        expect_all_loaded(page, '[data-testid="asw-lightbox-photo"]', 1)
        assert page.get_by_test_id("asw-lightbox-photo").evaluate("img => img.naturalWidth") == 1600
        shoot(page, f"widget-photos-lightbox-{device}.png")
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("asw-lightbox")).to_have_count(0)
        expect(page.get_by_test_id("asw-panel")).to_be_visible()
        expect(sent.get_by_role("button", name="Open photo 1 of 2")).to_be_focused()
        # The bot's next message asks for nothing: the paper clip is plain again.
        expect(attach).not_to_have_class(SUGGESTED)
        assert problems == []
    finally:
        page.context.close()


def test_a_sixth_photo_and_an_11_mb_file_are_refused_before_any_upload(
    gateway: Gateway, browser: Browser, photo_files: dict[str, Path]
) -> None:
    page = open_chat(browser, gateway, DESKTOP)
    uploads = photo_uploads(page)
    try:
        picker = page.get_by_test_id("asw-photo-input")
        notice = page.get_by_test_id("asw-photo-notice")

        # Send waits for an upload under way: held here until the test lets it through.
        held: list[Route] = []
        page.route("**/photos", lambda route: held.append(route))
        picker.set_input_files([photo_files["extra-1.jpg"]])
        for _ in range(200):  # Playwright hands the route over while the test waits on the page
            if held:
                break
            page.wait_for_timeout(50)
        assert len(held) == 1
        expect(page.get_by_test_id("asw-photo-tile")).to_have_attribute("data-state", "uploading")
        expect(page.get_by_test_id("asw-send")).to_be_disabled()
        expect(page.get_by_test_id("asw-send")).to_have_attribute(
            "aria-label", "Send message (waiting for photos to upload)"
        )
        held[0].continue_()
        page.unroute("**/photos")
        expect_uploaded(page, 1)
        expect(page.get_by_test_id("asw-send")).to_be_enabled()

        # Five photos picked at once with the one in the tray: four are taken, the sixth refused.
        picker.set_input_files([photo_files[f"extra-{n}.jpg"] for n in range(2, 7)])
        expect(notice).to_have_text("You can send up to 5 photos in one message.")
        expect_uploaded(page, 5)
        picker.set_input_files([photo_files["crack.jpg"]])
        expect(notice).to_have_text("You can send up to 5 photos in one message.")
        expect(page.get_by_test_id("asw-photo-tile")).to_have_count(5)
        assert len(uploads) == 5

        # Room again, but not for a file over 10 MB: refused here, never sent.
        page.get_by_role("button", name="Remove photo extra-5.jpg").click()
        expect(notice).to_be_hidden()
        picker.set_input_files([photo_files["huge.jpg"]])
        expect(notice).to_have_text("huge.jpg is larger than 10 MB: please send a smaller photo.")
        expect(page.get_by_test_id("asw-photo-tile")).to_have_count(4)
        assert len(uploads) == 5

        # A file the gateway refuses: its words on that photo's tile; the rest can still be sent.
        picker.set_input_files([photo_files["notes.jpg"]])
        failed = page.get_by_test_id("asw-photo-tile").nth(4)
        expect(failed).to_have_attribute("data-state", "failed", timeout=15_000)
        expect(failed.get_by_test_id("asw-photo-error")).to_have_text(
            f"Not uploaded: {REFUSALS['photo_not_an_image'].english}."
        )
        assert len(uploads) == 6
        expect(page.get_by_test_id("asw-send")).to_be_enabled()
        shoot(page, "widget-photos-refused.png")
    finally:
        page.context.close()


def test_an_agents_photo_and_request_then_photos_picked_dropped_and_pasted_go_alone(
    gateway: Gateway, browser: Browser, photo_files: dict[str, Path]
) -> None:
    """On the gateway's page of the store's chat (its own policy), in the conversation where an
    agent sent a photo and asked for more: a photo picked from the request's button, one dropped on
    the chat and one pasted go as a message of photos alone."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    problems = watch_problems(page)
    stored = json.dumps({"conversation_id": gateway.seeded.conversation, "token": gateway.seeded.token, "lastReadSeq": 0})
    page.add_init_script(f"localStorage.setItem({json.dumps(f'asw:{gateway.url}:{STORE}')}, {json.dumps(stored)})")
    try:
        page.goto(f"{gateway.url}/chat/{STORE}")
        agent_message = page.locator('[data-testid="asw-message"][data-sender="agent"]')
        expect(agent_message.first).to_contain_text(AGENT_NOTE)
        expect_all_loaded(page, '[data-testid="asw-message"][data-sender="agent"] [data-testid="asw-photo-thumb"]', 1)
        attach = page.get_by_role("button", name="Attach photos")
        expect(attach).to_have_class(SUGGESTED)  # the agent's request lights the paper clip up
        with page.expect_file_chooser() as chooser:
            agent_message.last.get_by_role("button", name="Add photos").click()
        assert chooser.value.is_multiple()
        chooser.value.set_files([photo_files["crack.jpg"]])
        expect_uploaded(page, 1)

        png = base64.b64encode(image_bytes("PNG", (300, 200), colour=BLUE)).decode()
        jpeg = base64.b64encode(image_bytes("JPEG", (300, 200))).decode()
        page.evaluate(
            """([png, jpeg]) => {
                const file = (b64, name, type) =>
                    new File([Uint8Array.from(atob(b64), c => c.charCodeAt(0))], name, { type });
                const dropped = new DataTransfer();
                dropped.items.add(file(png, 'dropped.png', 'image/png'));
                const panel = document.querySelector('[data-testid="asw-panel"]');
                for (const type of ['dragenter', 'dragover', 'drop']) {
                    panel.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dropped }));
                }
                const pasted = new DataTransfer();
                pasted.items.add(file(jpeg, 'image.jpg', 'image/jpeg'));
                document.querySelector('[data-testid="asw-input"]').dispatchEvent(
                    new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: pasted }));
            }""",
            [png, jpeg],
        )
        expect_uploaded(page, 3)
        expect_all_loaded(page, '[data-testid="asw-photo-preview"]', 3)
        expect(page.get_by_test_id("asw-input")).to_have_value("")  # the paste added a photo, no text

        page.get_by_test_id("asw-send").click()
        sent = page.locator('[data-testid="asw-message"][data-sender="shopper"]').last
        expect(sent.get_by_test_id("asw-message-text")).to_have_count(0)  # photos alone: no empty bubble
        expect_all_loaded(page, '[data-testid="asw-message"][data-sender="shopper"] [data-testid="asw-photo-thumb"]', 3)
        expect(bot_messages(page).last.get_by_test_id("asw-message-text")).to_have_text(PHOTOS_KEPT, timeout=15_000)
        expect(attach).not_to_have_class(SUGGESTED)
        shoot(page, "widget-photos-dropped-phone.png")
        assert problems == []
    finally:
        context.close()
