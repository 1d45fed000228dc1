"""Raw request bodies larger than the gateway's JSON limit (a photo, a year of shop orders), read
with their own cap: the app-wide ``client_max_size`` is for JSON requests, so these handlers read
the stream themselves and stop as soon as the cap is passed, whatever Content-Length claimed."""

from __future__ import annotations

from aiohttp import web

CHUNK_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    """More than the handler's cap was announced or sent."""


async def read_capped(request: web.Request, limit: int) -> bytes:
    """The whole body, or :class:`BodyTooLarge` once more than ``limit`` bytes are announced or read
    (a chunked body announces nothing, so the count is kept as it arrives)."""
    if (request.content_length or 0) > limit:
        raise BodyTooLarge
    data = bytearray()
    async for chunk in request.content.iter_chunked(CHUNK_BYTES):
        data += chunk
        if len(data) > limit:
            raise BodyTooLarge
    return bytes(data)
