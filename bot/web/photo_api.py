"""Photos over HTTP: a shopper uploads one to their conversation and views the conversation's
photos; the store's agents (and seller admins, who sign in to the same console) view them in the
agent console (``GET /agent/api/photos/{photo_id}``, :mod:`bot.web.agent_api`, through :func:`photo_response`).

The upload is the photo's bytes as the raw body (the widget sends the File as it is; no multipart
to parse). It is refused in the cheapest order: a wrong conversation token (401) before anything is
read, then the address's upload rate (429), then the size (413, from Content-Length or while
reading), and only then are the bytes decoded (:func:`bot.photos.images.prepare_photo`), in a worker
thread and at most :data:`~bot.web.services.DECODES_AT_ONCE` at a time per process, so that a burst of large photos
cannot take the event loop or the memory. The type is judged by the bytes alone: the name and the
Content-Type the client gives are never read.

A photo is served only to those who may see it, and the same 404 answers a photo of another
conversation or store and one that does not exist, so that nobody learns which ids exist. It goes
out as ``image/jpeg`` with ``Content-Disposition``, ``nosniff`` (every response has it) and a
sandboxing CSP, so that even a file that somehow were not our own re-encoded JPEG could not run
as a page.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.core.models import Photo
from bot.photos.conversation_photos import Sender, Variant
from bot.photos.images import MAX_PHOTO_BYTES, PhotoRefused, prepare_photo
from bot.web.chat_api import authenticated_chat
from bot.web.client_address import client_key
from bot.web.json_io import json_error, refusal_response
from bot.web.middleware import too_many
from bot.web.raw_body import BodyTooLarge, read_capped
from bot.web.services import services

log = logging.getLogger(__name__)

#: What a photo response says: what it is, that it is a file (never a page), and that it runs nothing.
PHOTO_HEADERS = {
    "Content-Type": "image/jpeg",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    # Private: a shared cache must never hand one shopper's photo to another.
    "Cache-Control": "private, max-age=3600",
}


def _too_large() -> web.Response:
    return json_error(413, "photo_too_large", {"limit_mb": MAX_PHOTO_BYTES // (1024 * 1024)})


async def take_photo(request: web.Request, store_id: str, conversation_id: str, sender: Sender) -> Photo | web.Response:
    """The request's body kept as a photo of the conversation, or the refusal to answer with: the
    address's rate first, then the size, then the bytes, decoded in a worker thread under the
    process's bound. The caller has checked who is sending."""
    found = services(request)
    retry_after = found.photo_uploads.check(client_key(request))
    if retry_after:
        return too_many(retry_after)
    try:
        data = await read_capped(request, MAX_PHOTO_BYTES)
    except BodyTooLarge:
        return _too_large()
    try:
        async with found.photo_decodes:
            prepared = await asyncio.to_thread(prepare_photo, data)
        photo = await found.photos.add(store_id, conversation_id, sender, prepared)
    except PhotoRefused as refused:
        status = {"photo_too_large": 413, "photo_limit_reached": 429, "photo_storage_unavailable": 503}.get(
            refused.code, 400
        )
        if status == 503:
            log.exception("the photo storage did not keep a photo of %s", conversation_id)
            return refusal_response(503, refused, headers={"Retry-After": "30"})
        return refusal_response(status, refused)
    log.info("photo %s… kept in %s (%dx%d)", photo.id[:6], conversation_id, photo.width, photo.height)
    return photo


async def upload_photo(request: web.Request) -> web.Response:
    """201 with the kept photo's id and size; the shopper then sends it in a message
    (``photos`` in POST messages)."""
    chat = await authenticated_chat(request)
    photo = await take_photo(request, chat.store_id, chat.conversation_id, "shopper")
    if isinstance(photo, web.Response):
        return photo
    return web.json_response(
        {
            "photo": {
                "id": photo.id,
                "width": photo.width,
                "height": photo.height,
                "created_at": photo.created_at.isoformat(),
            }
        },
        status=201,
    )


def _variant(request: web.Request) -> Variant | None:
    asked = request.query.get("variant", "full")
    if asked == "full":
        return "full"
    if asked == "thumbnail":
        return "thumbnail"
    return None


async def photo_response(request: web.Request, *, store_ids: set[str] | None, conversation_id: str | None) -> web.Response:
    """The photo named in the path, ``?variant=full|thumbnail``, if it is of ``conversation_id`` (its
    shopper asks) or of one of ``store_ids`` (an agent asks); else the 404 of one that does not exist."""
    variant = _variant(request)
    if variant is None:
        return json_error(400, "photo_variant_invalid", field="variant")
    image = await services(request).photos.image(
        request.match_info["photo_id"], variant, store_ids=store_ids, conversation_id=conversation_id
    )
    if image is None:
        return json_error(404, "photo_unknown")
    name = "photo.jpg" if variant == "full" else "photo-thumbnail.jpg"
    return web.Response(body=image, headers={**PHOTO_HEADERS, "Content-Disposition": f'inline; filename="{name}"'})


async def shopper_photo(request: web.Request) -> web.Response:
    """A photo of the shopper's own conversation."""
    chat = await authenticated_chat(request)
    return await photo_response(request, store_ids=None, conversation_id=chat.conversation_id)


def add_photo_api(app: web.Application) -> None:
    app.router.add_post("/api/v1/conversations/{conversation_id}/photos", upload_photo)
    app.router.add_get("/api/v1/conversations/{conversation_id}/photos/{photo_id}", shopper_photo)
