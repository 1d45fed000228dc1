"""The store's uploaded PDF manuals, attached to the email whose messages link to them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.conversations import StoredMessage
from bot.core.models import ManualFile
from bot.email.composition import EmailAttachment
from bot.guides.manuals import Manuals

#: An uploaded manual's public path (``bot.guides.manuals.StoredManual.path``).
_MANUAL_PATH = re.compile(r"/files/manuals/([0-9]{1,18})/([A-Za-z0-9_.-]{1,200})")


class ManualAttachments:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], public_base_url: str, max_bytes: int) -> None:
        self._sessions = sessions
        self._manuals = Manuals(sessions)
        self._public_base_url = public_base_url
        self._max_bytes = max_bytes

    async def manual_attachments(self, store_id: str, messages: Sequence[StoredMessage]) -> list[EmailAttachment]:
        """The store's uploaded PDF manuals the messages link to, as files, while they fit in
        ``EMAIL_ATTACHMENT_MAX_BYTES`` together; a manual that does not fit stays a link only."""
        prefix = self._public_base_url
        budget = self._max_bytes
        attachments: list[EmailAttachment] = []
        seen: set[int] = set()
        for message in messages:
            url = (message.attachment or {}).get("url")
            if not isinstance(url, str) or not url.startswith(prefix):
                continue
            found = _MANUAL_PATH.fullmatch(url[len(prefix) :])
            if found is None or int(found.group(1)) in seen:
                continue
            file_id, name = int(found.group(1)), found.group(2)
            seen.add(file_id)
            async with self._sessions() as session:
                # The size first: a manual too big to attach is never loaded.
                size = await session.scalar(
                    select(ManualFile.size).where(ManualFile.id == file_id, ManualFile.store_id == store_id)
                )
            if size is None or size > budget:
                continue
            content = await self._manuals.read(file_id, name)
            if content is None or len(content) > budget:
                continue
            attachments.append(EmailAttachment(name, content))
            budget -= len(content)
        return attachments
