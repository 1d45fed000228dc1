"""The one check for a link a shopper may be shown (a manual, a video, a tracking or review page).

Links reach shoppers as ``href`` and attachment URLs, so only absolute http(s)
links are stored: never ``javascript:``, ``data:``, ``file:`` or a relative path.
The guide API, the seller settings and the importer all call :func:`web_link`,
so a link refused by one is refused by all.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.core.refusals import Refusal

MAX_LINK_CHARS = 1000


class BadLink(Refusal, ValueError):
    """Why a text is not a link shoppers may be shown (the message is for the seller)."""


def web_link(value: str) -> str:
    """``value`` stripped, if it is an absolute http(s) link; :class:`BadLink` otherwise."""
    value = value.strip()
    if len(value) > MAX_LINK_CHARS:
        raise BadLink("link_too_long", limit=MAX_LINK_CHARS)
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or len(parts.netloc) < 3:
        raise BadLink("link_not_web")
    if any(c.isspace() or ord(c) < 32 or c in '<>"' for c in value):
        raise BadLink("link_unsafe_characters")
    return value
