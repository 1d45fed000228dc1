"""Tracking webhooks: carriers and tracking providers tell a store where its parcels are.

Each is signed with the store's webhook secret (AfterShip, the simple JSON) or the connector's own
key (EasyPost, 17TRACK); every live key is tried, in constant time. Each is
stored before it is answered, so that a retried delivery is a duplicate and never a second message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.core.text_input import BadInput, loads
from bot.integrations.easypost import EASYPOST_HEADER, easypost_signature, parse_easypost
from bot.integrations.seventeen_track import SEVENTEEN_TRACK_HEADER, parse_seventeen_track, seventeen_track_signature
from bot.shipping.tracking_updates import (
    BadUpdate,
    aftership_signature,
    aftership_version,
    parse_aftership,
    parse_simple,
    signature_matches,
    simple_signature,
)
from bot.web.json_io import error_response, json_error, refusal_response
from bot.web.services import services


class _WebhookRefused(Exception):
    """A webhook refused before anything is stored, with the answer to give."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


async def _tracking_webhook(
    request: web.Request,
    source: str,
    header: str,
    sign: Callable[[str, bytes], str],
    parse: Callable[[Any, bytes], Any],
) -> web.Response:
    """Verify, then store the update at once; answer as soon as it is stored. ``parse`` gets the JSON
    and the raw body (17TRACK's event id is the body's hash)."""
    # Read before the transaction: a slow sender must not hold a database connection.
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        # Over the gateway's body limit. Not under /api/, whose middleware says it in JSON: said here.
        return error_response(exc)
    given = request.headers.get(header)

    def verify(secrets: list[str]) -> Any:
        # Every live key is checked (no early exit), each in constant time.
        matches = [signature_matches(sign(secret, body), given) for secret in secrets]
        if not any(matches):
            raise _WebhookRefused(json_error(401, "webhook_signature_wrong", {"header": header}))
        try:
            return parse(loads(body), body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _WebhookRefused(json_error(400, "body_not_json")) from None
        except BadInput as exc:
            raise _WebhookRefused(refusal_response(400, exc, field=exc.field)) from None
        except BadUpdate as exc:
            raise _WebhookRefused(refusal_response(400, exc)) from None

    store_id = request.match_info["store_id"]
    try:
        outcome = await services(request).tracking.apply_signed(store_id, source, verify)
    except _WebhookRefused as refused:
        await record_refusal(request, store_id, source, refused.response)
        return refused.response
    if outcome is None:
        return json_error(404, "store_unknown")
    if outcome.result == "ignored":
        # Accepted, so the provider stops retrying, but not acted on: the reason says why.
        await services(request).integrations.record_problem(store_id, source, 202, "ignored", outcome.reason or "")
        return web.json_response({"result": outcome.result, "reason": outcome.reason}, status=202)
    return web.json_response({"result": outcome.result})


async def record_refusal(request: web.Request, store_id: str, provider: str, response: web.Response) -> None:
    """Keep a refused delivery's code, params and English for the seller's console (never its body)."""
    answer = json.loads(response.body) if isinstance(response.body, bytes) else {}
    params = answer.get("params")
    await services(request).integrations.record_problem(
        store_id,
        provider,
        response.status,
        str(answer.get("code", "")),
        str(answer.get("error", "")),
        params if isinstance(params, dict) else None,
    )


async def aftership_webhook(request: web.Request) -> web.Response:
    """AfterShip's legacy v4-style body, or a dated version named by ``as-webhook-version``."""
    version = request.headers.get("as-webhook-version")

    def parse(payload: Any, _: bytes) -> Any:
        # Checked with the body, after the signature: an unsigned caller learns nothing from it.
        return parse_aftership(payload, aftership_version(version))

    return await _tracking_webhook(request, "aftership", "aftership-hmac-sha256", aftership_signature, parse)


async def easypost_webhook(request: web.Request) -> web.Response:
    """EasyPost's ``tracker.created`` and ``tracker.updated`` events, keyed with the connector's key."""
    return await _tracking_webhook(
        request, "easypost", EASYPOST_HEADER, easypost_signature, lambda payload, _: parse_easypost(payload)
    )


async def seventeen_track_webhook(request: web.Request) -> web.Response:
    """17TRACK's pushes, signed with the seller's 17TRACK API key (pasted into the connector)."""
    return await _tracking_webhook(
        request, "17track", SEVENTEEN_TRACK_HEADER, seventeen_track_signature, parse_seventeen_track
    )


async def simple_tracking_webhook(request: web.Request) -> web.Response:
    return await _tracking_webhook(
        request, "json", "X-Signature", simple_signature, lambda payload, _: parse_simple(payload)
    )


def add_webhooks(app: web.Application) -> None:
    app.router.add_post("/webhooks/tracking/aftership/{store_id}", aftership_webhook)
    app.router.add_post("/webhooks/tracking/easypost/{store_id}", easypost_webhook)
    app.router.add_post("/webhooks/tracking/17track/{store_id}", seventeen_track_webhook)
    app.router.add_post("/webhooks/tracking/{store_id}", simple_tracking_webhook)
