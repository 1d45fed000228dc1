"""The agent console's photos in a real browser (Debian's Chromium): a damaged-item case shows its
photos as a gallery beside the problem type, the order and its items; the shopper's message shows
them too; one click asks the shopper for more photos; and the agent sends an image, which joins
the transcript. The gateway runs on a thread of this process (tests/web/threaded_gateway.py),
without Rasa: nothing here needs an answer from it (the agent's messages go to Rasa's tracker as
history only, and their delivery does not wait on it)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from bot.chat.conversations import ConversationService, NewMessage
from bot.core.models import Agent, Conversation, Escalation, EscalationStatus
from bot.photos.conversation_photos import ConversationPhotos, photo_json
from bot.photos.images import prepare_photo
from bot.photos.storage import DatabaseStorage
from bot.support.escalations import EscalationService
from tests.conftest import signed_shopper
from tests.photos.sample_images import image_bytes
from tests.web.browser import SCREENSHOTS, watch_problems
from tests.web.threaded_gateway import Sessions, ThreadedGateway, add_agent

STORE = "yangteng-auto"
SHOPPER = "alex@example.com"


@dataclass(frozen=True)
class Claim:
    agent: tuple[str, str]
    conversation_id: str
    reference: str
    photo_ids: tuple[str, ...]


async def damaged_with_photos(sessions: Sessions) -> Claim:
    """Alex reports the oil pan damaged with two photos; Lin Wei holds the conversation."""
    conversations = ConversationService(sessions)
    await conversations.ensure_shopper_secrets()
    shopper = signed_shopper(await conversations.shopper_secret(STORE) or "", SHOPPER)
    chat, _ = await conversations.start(STORE, SHOPPER, shopper["signature"], shopper["ts"])
    await conversations.append(chat, [NewMessage("shopper", "my oil pan arrived with a cracked flange")])
    case = await EscalationService(sessions).record(
        chat.conversation_id, "damaged", "the flange is cracked", order_number="FZ-20931"
    )
    assert case is not None
    photos = ConversationPhotos(sessions, DatabaseStorage(sessions))
    kept = [
        await photos.add(STORE, chat.conversation_id, "shopper", prepare_photo(image_bytes("JPEG", size, colour=colour)))
        for size, colour in (((1200, 900), (190, 40, 40)), ((900, 1200), (40, 60, 170)))
    ]
    ids = [photo.id for photo in kept]
    # As the chat API stores a message of photos (bot/web/turns.py): the message, then the photos attached to it and the case.
    attachment = {"type": "photos", "photos": [photo_json(photo) for photo in kept]}
    [sent] = await conversations.append(chat, [NewMessage("shopper", "", attachment=attachment)])
    await photos.attach_to_message(STORE, chat.conversation_id, sent.seq, ids)
    agent = await add_agent(sessions, STORE, "Lin Wei")
    async with sessions() as session, session.begin():
        holder = await session.scalar(select(Agent.id).where(Agent.email == agent[0]))
        await session.execute(update(Conversation).where(Conversation.id == chat.conversation_id).values(handled_by=holder))
        await session.execute(
            update(Escalation)
            .where(Escalation.id == case.id)
            .values(status=EscalationStatus.claimed.value, claimed_by=holder)
        )
    return Claim(agent, chat.conversation_id, case.reference, tuple(ids))


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedGateway[Claim]]:
    with ThreadedGateway(tmp_path_factory.mktemp("agent-photos-browser"), damaged_with_photos) as gateway:
        yield gateway


def _loaded(page: Page, testid: str) -> list[int]:
    """The natural widths of the images under ``testid`` once each has loaded (0: failed)."""
    images = page.get_by_test_id(testid).get_by_test_id("agent-photo")
    expect(images.first).to_be_visible()
    page.wait_for_function(
        "id => [...document.querySelectorAll(`[data-testid='${id}'] img`)].every(i => i.complete)", arg=testid
    )
    return [int(w) for w in images.evaluate_all("imgs => imgs.map(i => i.naturalWidth)")]


def test_the_agent_sees_the_claims_photos_asks_for_more_and_sends_an_image(
    gateway: ThreadedGateway[Claim], browser: Browser, tmp_path: Path
) -> None:
    claim = gateway.seeded
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        page.goto(f"{gateway.url}/agent#conversation={claim.conversation_id}")
        email, password = claim.agent
        page.get_by_test_id("agent-login-email").fill(email)
        page.get_by_test_id("agent-login-password").fill(password)
        page.get_by_test_id("agent-login-submit").click()
        expect(page.get_by_test_id("agent-name")).to_have_text("Lin Wei")
        problems = watch_problems(page)

        # The case: its problem type, its order's items, and its photos as a gallery.
        case = page.get_by_test_id("agent-escalation")
        expect(case).to_contain_text("Arrived damaged")
        expect(case).to_contain_text(claim.reference)
        expect(page.get_by_test_id("agent-order-number")).to_have_text("FZ-20931")
        expect(page.get_by_test_id("agent-order-item").first).to_be_visible()
        gallery = case.get_by_test_id("agent-case-photos")
        expect(gallery.get_by_test_id("agent-photo")).to_have_count(2)
        assert _loaded(page, "agent-case-photos") == [320, 240]  # the thumbnails, landscape then portrait
        links = gallery.locator("a").evaluate_all("links => links.map(a => [a.getAttribute('href'), a.target, a.rel])")
        assert [href for href, _, _ in links] == [f"/agent/api/photos/{p}" for p in claim.photo_ids]
        assert all(target == "_blank" and "noopener" in rel for _, target, rel in links)
        # The shopper's message shows the same two.
        assert _loaded(page, "agent-message-photos") == [320, 240]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "agent-console-claim-photos.png"))

        # One click asks for more photos.
        page.get_by_test_id("agent-ask-photos").click()
        expect(page.get_by_test_id("agent-photo-request")).to_have_count(1)
        expect(page.get_by_test_id("agent-photo-request")).to_contain_text("Asked the shopper for photos")

        # The agent sends a diagram of the right part.
        diagram = tmp_path / "right-part.png"
        diagram.write_bytes(image_bytes("PNG", (640, 400), colour=(20, 140, 60)))
        page.get_by_test_id("agent-send-image-file").set_input_files(str(diagram))
        agent_photos = page.locator('[data-testid="agent-message"][data-sender="agent"]').get_by_test_id("agent-photo")
        expect(agent_photos).to_have_count(1)
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-sender="agent"] img')].every(i => i.complete && i.naturalWidth > 0)"""
        )

        # A file that is no image is refused, and the agent is told why.
        script = tmp_path / "diagram.png"
        script.write_bytes(b"#!/bin/sh\nrm -rf /\n")
        page.get_by_test_id("agent-send-image-file").set_input_files(str(script))
        expect(page.get_by_role("alert")).to_contain_text("not an image")
        expect(agent_photos).to_have_count(1)
        page.screenshot(path=str(SCREENSHOTS / "agent-console-photo-sent.png"))
        assert [p for p in problems if "400" not in p] == []
    finally:
        page.context.close()
