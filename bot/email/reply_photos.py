"""Photos attached to a shopper's emailed reply: which files of a mail may be photos, and keeping
them in the conversation through the very checks of a photo uploaded in the chat.

Which files are *tried* is what the mail declares: a MIME part given as an attachment or inline
(or an inbound-parse form's attachment file), of an ``image/*`` type or
``application/octet-stream`` (what mail programs call a file they do not know). Anything else (a
PDF, a calendar invite, a vCard) is no photo anyone meant to send, and is left alone. Whether a
tried file *is* a photo is judged by its bytes alone, never by that type or its name:
:func:`~bot.photos.images.prepare_photo` in a worker thread, under the process's bound on decodes,
then :meth:`~bot.photos.conversation_photos.ConversationPhotos.add` under the conversation's daily
limit, exactly as a chat upload.

At most ``per_message`` files of one reply are tried (the chat's ``MAX_PHOTOS_PER_MESSAGE``, given
by the web layer); the others are not even decoded. A file not taken does not refuse the reply:
its words and the photos that were taken still are, and the conversation tells the shopper which
file was not taken and why (:func:`not_taken_notice`), in the answer that is emailed to them. A
photo storage that fails is no fault of the file: :class:`PhotoStorageUnavailable` ends the keeping
(the mailbox then gives the mail back for the provider to retry).
"""

from __future__ import annotations

import asyncio
import email.errors
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import Message

from bot.chat.conversations import ChatSession
from bot.core.models import Photo
from bot.core.refusals import Refusal
from bot.photos.conversation_photos import ConversationPhotos, PhotoLimitReached, PhotoStorageUnavailable
from bot.photos.images import PhotoRefused, prepare_photo

log = logging.getLogger(__name__)

#: How a part that is a file says so (RFC 2183); the mail's own text has neither, or no file type.
FILE_DISPOSITIONS = ("attachment", "inline")
#: The longest file name the notice repeats; a name is the sender's, shown back to them only.
MAX_SHOWN_NAME_CHARS = 80
#: File names the notice lists per reason, before "and N more".
NAMES_PER_REASON = 5


@dataclass(frozen=True)
class MailAttachment:
    """A file of a mail that may be a photo: its bytes, and the name its sender gave it (cleaned for
    showing back to them; nothing else reads it)."""

    filename: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class NotTaken:
    """A file of a reply that did not become a photo, and why."""

    filename: str
    refusal: Refusal


@dataclass(frozen=True)
class KeptPhotos:
    """What became of a reply's files: the photos kept (in the order of the mail) and the files not taken."""

    photos: tuple[Photo, ...] = ()
    not_taken: tuple[NotTaken, ...] = ()

    @property
    def photo_ids(self) -> tuple[str, ...]:
        return tuple(photo.id for photo in self.photos)


NOTHING_KEPT = KeptPhotos()


def may_be_photo(content_type: str) -> bool:
    """Whether a file declared as ``content_type`` (parameters allowed) is tried as a photo."""
    maintype, _, subtype = content_type.split(";", 1)[0].strip().lower().partition("/")
    return maintype == "image" or (maintype, subtype) == ("application", "octet-stream")


def shown_name(filename: str | None) -> str:
    """A file name as the notice may repeat it: printable characters only (no line breaks, no
    right-to-left overrides that would disguise it), spaces collapsed, and short. A file's name has
    no folder, so ``/`` and ``\\`` become ``_``: a name can then never read as a link (the widget and
    the emails make links of the store's words, and this notice speaks for the store)."""
    spaced = " ".join((filename or "").split())  # line breaks and tabs become one space
    printable = "".join(c for c in spaced if c.isprintable())
    return printable.replace("/", "_").replace("\\", "_")[:MAX_SHOWN_NAME_CHARS].strip()


def mime_photo_candidates(message: Message) -> tuple[MailAttachment, ...]:
    """The files of a MIME mail to try as photos, in the mail's order."""
    found: list[MailAttachment] = []
    # A stack rather than recursion: a crafted mail may nest its parts deeper than Python recurses.
    pending: list[Message] = [message]
    while pending:
        part = pending.pop()
        try:
            if part.get_content_maintype() == "message":
                # A mail attached to this one (forwarded, or returned with a bounce): its files are
                # that mail's, not photos the shopper sends with this reply.
                continue
            if part.is_multipart():
                children = part.get_payload()
                if isinstance(children, list):
                    pending.extend(child for child in reversed(children) if isinstance(child, Message))
                continue
            if part.get_content_disposition() not in FILE_DISPOSITIONS or not may_be_photo(part.get_content_type()):
                continue
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and data:
                found.append(MailAttachment(shown_name(part.get_filename()), data))
        except (LookupError, ValueError, TypeError, IndexError, AttributeError, email.errors.MessageError) as exc:
            # A part whose headers cannot be read is as if absent, as the mail's unreadable text is.
            log.info("a part of an inbound mail could not be read (%s); skipped", type(exc).__name__)
    return tuple(found)


def not_taken_notice(not_taken: Sequence[NotTaken]) -> str:
    """What the conversation tells the shopper of the files of their emailed reply that were not
    taken: how many, then each reason with the files it concerns."""
    by_reason: dict[str, list[str]] = {}
    for item in not_taken:
        by_reason.setdefault(item.refusal.english, []).append(item.filename)
    count = len(not_taken)
    lines = [f"{count} attachment{'' if count == 1 else 's'} of your email could not be added to this conversation:"]
    for reason, names in by_reason.items():
        listed = ", ".join(f'"{name}"' if name else "(no name)" for name in names[:NAMES_PER_REASON])
        more = f" and {len(names) - NAMES_PER_REASON} more" if len(names) > NAMES_PER_REASON else ""
        lines.append(f"- {listed}{more}: {reason}.")
    return "\n".join(lines)


class ReplyPhotos:
    def __init__(self, photos: ConversationPhotos, decodes: asyncio.Semaphore, per_message: int) -> None:
        """``decodes``: the process's bound on photos decoded at once (shared with chat uploads);
        ``per_message``: the most photos one message carries."""
        self._photos = photos
        self._decodes = decodes
        self._per_message = per_message

    async def keep(self, chat: ChatSession, attachments: Sequence[MailAttachment]) -> KeptPhotos:
        """Each file tried in turn and, if it is a photo, kept in the conversation as a photo not yet
        sent (the turn then sends it). If this fails part-way (the storage down:
        :class:`PhotoStorageUnavailable`), the photos it kept are deleted."""
        kept: list[Photo] = []
        not_taken: list[NotTaken] = []
        limit_reached: PhotoLimitReached | None = None
        try:
            for attachment in attachments[: self._per_message]:
                if limit_reached is not None:
                    # The conversation's daily limit holds for the rest too: no point decoding them.
                    not_taken.append(NotTaken(attachment.filename, limit_reached))
                    continue
                try:
                    async with self._decodes:
                        prepared = await asyncio.to_thread(prepare_photo, attachment.data)
                    kept.append(await self._photos.add(chat.store_id, chat.conversation_id, "shopper", prepared))
                except PhotoStorageUnavailable:
                    raise  # the whole mail waits for the storage, rather than being told of a good file
                except PhotoLimitReached as refused:
                    limit_reached = refused
                    not_taken.append(NotTaken(attachment.filename, refused))
                except PhotoRefused as refused:
                    not_taken.append(NotTaken(attachment.filename, refused))
        except BaseException:
            await self.discard(chat, KeptPhotos(tuple(kept)))
            raise
        beyond = attachments[self._per_message :]
        if beyond:
            too_many = Refusal("message_photos_too_many", limit=self._per_message)
            not_taken += [NotTaken(attachment.filename, too_many) for attachment in beyond]
        for item in not_taken:
            log.info("an attachment of a reply to %s was not taken: %s", chat.conversation_id, item.refusal.code)
        return KeptPhotos(tuple(kept), tuple(not_taken))

    async def discard(self, chat: ChatSession, kept: KeptPhotos) -> None:
        """Delete the photos kept for a reply that was then not taken (those no message carries)."""
        await self._photos.discard_unsent(chat.store_id, chat.conversation_id, kept.photo_ids)
