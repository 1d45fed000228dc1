"""JSON in and out of the gateway's handlers: one way to read a body and one way to refuse."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.text_input import BadInput, loads

#: The largest value of an INTEGER column (sequence numbers, ids, versions): a larger one is no
#: row's, and PostgreSQL refuses to even compare with it.
MAX_ROW_NUMBER = 2**31 - 1


def json_error(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> web.Response:
    """``{"error": message, ...}`` with the status: every refusal of the API looks the same."""
    return web.json_response({"error": message, **extra}, status=status, headers=headers)


class RefusedInput(web.HTTPBadRequest):
    """A 400 for a body that is JSON but not usable text; ``field`` names where (see :mod:`bot.text_input`)."""

    def __init__(self, refused: BadInput) -> None:
        super().__init__(reason=str(refused))
        self.field = refused.field


def error_response(exc: web.HTTPException) -> web.Response:
    """An HTTP exception as the API's JSON error (with ``field`` when the exception names one)."""
    field = getattr(exc, "field", None)
    return json_error(exc.status, exc.reason, **({"field": field} if field else {}))


async def read_json(request: web.Request) -> Any:
    """The body as JSON, every string in it checked (:func:`bot.text_input.loads`): a 400 that says
    what is wrong, and where, if it isn't usable."""
    try:
        return loads(await request.text())
    except (json.JSONDecodeError, UnicodeDecodeError, LookupError):  # LookupError: an unknown charset
        raise web.HTTPBadRequest(reason="the body is not valid JSON") from None
    except BadInput as refused:
        raise RefusedInput(refused) from None


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object; a 400 for anything else."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="the body must be a JSON object")
    return body


def version_number(body: Any) -> int | None:
    """The N of a ``{"version": N}`` rollback request (a whole number, 0 or more), or None."""
    version = body.get("version") if isinstance(body, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version <= MAX_ROW_NUMBER:
        return None
    return version


def whole_number(raw: str) -> int | None:
    """A query or path value that must be a whole number, 0 or more, that an INTEGER column can hold
    (ASCII digits only, at most :data:`MAX_ROW_NUMBER`); None for anything else."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    number = int(raw)
    return number if number <= MAX_ROW_NUMBER else None
