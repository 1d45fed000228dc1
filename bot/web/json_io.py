"""JSON in and out of the gateway's handlers: one way to read a body and one way to refuse."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_error(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> web.Response:
    """``{"error": message, ...}`` with the status: every refusal of the API looks the same."""
    return web.json_response({"error": message, **extra}, status=status, headers=headers)


async def read_json(request: web.Request) -> Any:
    """The body as JSON; a 400 that says so if it isn't."""
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise web.HTTPBadRequest(reason="the body is not valid JSON") from None


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object; a 400 for anything else."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="the body must be a JSON object")
    return body


def version_number(body: Any) -> int | None:
    """The N of a ``{"version": N}`` rollback request (a whole number, 0 or more), or None."""
    version = body.get("version") if isinstance(body, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        return None
    return version
