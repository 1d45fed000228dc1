"""JSON in and out of the gateway's handlers: one way to read a body and one way to refuse."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.core.refusals import REFUSALS, FieldRefusal, ParamValue, Refusal, english
from bot.core.text_input import BadInput, loads

#: The largest value of an INTEGER column (sequence numbers, ids, versions): a larger one is no
#: row's, and PostgreSQL refuses to even compare with it.
MAX_ROW_NUMBER = 2**31 - 1


def json_error(
    status: int,
    code: str,
    params: dict[str, ParamValue] | None = None,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    context: str = "",
) -> web.Response:
    """``{"error": English, "code": code, "params": {...}, "field"?: ...}`` with the status: every
    refusal of the API looks the same, and clients translate it by ``code`` (:mod:`bot.core.refusals`).
    ``context`` goes before the English (``nothing saved: templates.greeting: ``)."""
    return web.json_response(refusal_body(code, params, field=field, context=context), status=status, headers=headers)


def refusal_body(
    code: str, params: dict[str, ParamValue] | None = None, *, field: str | None = None, context: str = ""
) -> dict[str, Any]:
    """The JSON of a refusal (also the chat websocket's error frames, beside their ``type``)."""
    params = dict(params or {})
    body: dict[str, Any] = {"error": context + english(code, params), "code": code, "params": params}
    if field:
        body["field"] = field
    if context:
        # Said apart too, so that a client can show the English beside its field without the words
        # saying where, and need not know them (a pattern over the English breaks when it is reworded).
        body["context"] = context
    return body


def refusal_response(
    status: int, refused: Refusal, *, field: str | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    """A service's refusal as the API's JSON error."""
    return json_error(status, refused.code, refused.params, field=field, headers=headers)


def nothing_saved(refused: FieldRefusal) -> web.Response:
    """A settings or guide change refused: a 400 naming the field, the English saying nothing was saved."""
    return json_error(400, refused.code, refused.params, field=refused.field, context=f"nothing saved: {refused.field}: ")


class RefusedRequest(web.HTTPError):
    """A refusal raised from deep in a handler (a wrong token, a body that is not JSON), which the
    middlewares answer as the API's JSON error (:func:`error_response`)."""

    def __init__(
        self, status: int, code: str, params: dict[str, ParamValue] | None = None, field: str | None = None
    ) -> None:
        self.status_code = status
        self.code = code
        self.params = dict(params or {})
        self.field = field
        super().__init__(reason=english(code, self.params))


class RefusedInput(RefusedRequest):
    """A 400 for a body that is JSON but not usable text; ``field`` names where (see :mod:`bot.core.text_input`)."""

    def __init__(self, refused: BadInput) -> None:
        super().__init__(400, refused.code, refused.params, field=refused.field)


#: aiohttp's own refusals (the router's 404 and 405, a body over the size limit…) by status.
HTTP_REFUSALS = {
    400: "http_bad_request",
    404: "http_not_found",
    405: "http_method_not_allowed",
    413: "http_body_too_large",
    415: "http_unsupported_media_type",
}


def error_response(exc: web.HTTPException) -> web.Response:
    """An HTTP exception as the API's JSON error: ours with its code, aiohttp's own by its status
    (``http_error`` with aiohttp's reason for a status without a code of its own)."""
    if isinstance(exc, RefusedRequest):
        return json_error(exc.status, exc.code, exc.params, field=exc.field)
    code = HTTP_REFUSALS.get(exc.status)
    if code is not None and exc.reason == REFUSALS[code].english:
        return json_error(exc.status, code)
    return json_error(exc.status, "http_error", {"reason": exc.reason})


async def read_json(request: web.Request) -> Any:
    """The body as JSON, every string in it checked (:func:`bot.core.text_input.loads`): a 400 that says
    what is wrong, and where, if it isn't usable."""
    try:
        return loads(await request.text())
    except (json.JSONDecodeError, UnicodeDecodeError, LookupError):  # LookupError: an unknown charset
        raise RefusedRequest(400, "body_not_json") from None
    except BadInput as refused:
        raise RefusedInput(refused) from None


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object; a 400 for anything else."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise RefusedRequest(400, "body_not_object")
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
