"""Links in an email that open something without a password: "continue in chat" (one
conversation) and one-click unsubscribe (one address of one store).

A link's token is its purpose's fields and an expiry, in URL-safe base64, and an HMAC-SHA256
over them with ``EMAIL_LINK_SECRET``, compared in constant time. The purpose is inside the
HMAC, so a token made for one purpose opens nothing else; the fields are inside it too, so a
token opens only the conversation (or address) it names.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

from bot.core.refusals import Refusal

#: What a token opens.
CONTINUE_CHAT, UNSUBSCRIBE = "continue_chat", "unsubscribe"
PURPOSES = (CONTINUE_CHAT, UNSUBSCRIBE)
#: A token longer than this is refused unread (a link is at most a few hundred characters).
MAX_TOKEN_CHARS = 1024
_DIGEST_BYTES = 32


class BadSignedLink(Refusal, ValueError):
    """The token is malformed, forged, made for another purpose, or expired."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SignedLinks:
    secret: str

    def _digest(self, purpose: str, body: bytes) -> bytes:
        return hmac.new(self.secret.encode(), purpose.encode() + b"\x00" + body, hashlib.sha256).digest()

    def sign(self, purpose: str, fields: list[str], expires_at: dt.datetime) -> str:
        """A token for ``purpose`` over ``fields`` (a store id, a conversation id), valid until ``expires_at``."""
        if purpose not in PURPOSES:
            raise ValueError(f"purpose: one of {', '.join(PURPOSES)}")
        body = json.dumps([*fields, int(expires_at.timestamp())], separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(self._digest(purpose, body))}"

    def verify(self, purpose: str, token: str, now: dt.datetime) -> list[str]:
        """The fields the token was signed over; :class:`BadSignedLink` unless it is genuine,
        made for ``purpose`` and not expired."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            raise BadSignedLink("email_link_invalid")
        body_text, digest_text = token.split(".")
        try:
            body, digest = _unb64(body_text), _unb64(digest_text)
        except (binascii.Error, ValueError):
            raise BadSignedLink("email_link_invalid") from None
        if len(digest) != _DIGEST_BYTES or not hmac.compare_digest(digest, self._digest(purpose, body)):
            raise BadSignedLink("email_link_invalid")
        try:
            decoded = json.loads(body)
        except ValueError:
            raise BadSignedLink("email_link_invalid") from None
        if (
            not isinstance(decoded, list)
            or not decoded
            or not isinstance(decoded[-1], int)
            or not all(isinstance(field, str) for field in decoded[:-1])
        ):
            raise BadSignedLink("email_link_invalid")
        if decoded[-1] <= now.timestamp():
            raise BadSignedLink("email_link_expired")
        return list(decoded[:-1])
