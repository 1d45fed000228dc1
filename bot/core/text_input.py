"""Text that comes from outside, checked once where it arrives.

Every entry point that reads JSON (the gateway's bodies, websocket frames, tracking webhooks,
the importer and the seller API's order push) reads it through :func:`loads`, or checks what it
parsed with :func:`check_json`. Both refuse, naming the field:

- a lone UTF-16 surrogate (``"\\ud800"``): valid JSON, but not text. Python keeps it in a ``str``,
  and it fails much later, when a database driver, a log or a JSON encoder has to write it as
  UTF-8 (an error 500, or one stored template breaking every chat of a store);
- nesting deeper than :data:`MAX_DEPTH` (the parser's own limit is a ``RecursionError``);
- integers beyond 64 bits (no database column holds them) and NaN or infinite numbers
  (not JSON at all, and PostgreSQL refuses them).

What the bot itself says is cleaned instead (:func:`without_surrogates`): a reply is never
refused, its broken characters become U+FFFD.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from bot.core.refusals import ParamValue, Refusal

#: Deep enough for every document the API takes (settings are 3 levels), far below the parser's limit.
MAX_DEPTH = 32
#: The largest integer a database column (BIGINT) holds.
MAX_INT = 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadInput(Refusal, ValueError):
    """Input that is not usable text; ``field`` names where it is (``templates.greeting``), or None
    for the document as a whole."""

    def __init__(self, field: str | None, code: str, /, **params: ParamValue) -> None:
        super().__init__(code, **params)
        self.field = field


def _quoted(field: str) -> str:
    # ASCII only, quotes and control characters escaped: safe in any message, log or header.
    # Without its quotes: the refusal's English puts them around it.
    return json.dumps(field)[1:-1]


def _child(where: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    key = str(key).encode("utf-8", "backslashreplace").decode("utf-8")
    return f"{where}.{key}" if where else key


def surrogate_at(text: str) -> int | None:
    """The index of the first lone surrogate in ``text``, or None."""
    found = _SURROGATE.search(text)
    return found.start() if found else None


def check_text(text: str, field: str) -> str:
    """``text`` if it holds no lone surrogate; :class:`BadInput` naming ``field`` otherwise."""
    at = surrogate_at(text)
    if at is not None:
        raise BadInput(field, "text_lone_surrogate", field=_quoted(field), codepoint=f"{ord(text[at]):04x}", position=at + 1)
    return text


def check_json(value: Any, field: str = "") -> Any:
    """``value`` (parsed JSON) if every string, key and number in it is usable; :class:`BadInput`
    naming the first field that is not. ``field`` is where ``value`` itself is (``""``: the body)."""
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack:  # no recursion: the depth is what is being checked
        item, where, depth = stack.pop()
        name = where or "body"
        if isinstance(item, str):
            check_text(item, name)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -MAX_INT - 1 <= item <= MAX_INT:
                raise BadInput(where or None, "number_too_large", field=_quoted(name))
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise BadInput(where or None, "number_not_finite", field=_quoted(name))
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                raise BadInput(where or None, "json_too_deep_at", limit=MAX_DEPTH, field=_quoted(name))
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str):
                    check_text(key, f"{name} (a key)")
                stack.append((child, _child(where, key), depth + 1))
    return value


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def loads(data: str | bytes, field: str = "") -> Any:
    """JSON from outside, parsed and checked (:func:`check_json`). Raises ``json.JSONDecodeError``
    (or ``UnicodeDecodeError`` for bytes) for what is not JSON, as ``json.loads`` does, and
    :class:`BadInput` for JSON that is not usable."""
    try:
        value = json.loads(data, parse_constant=_not_json)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise BadInput(field or None, "json_too_deep", limit=MAX_DEPTH) from None
    except ValueError as exc:  # NaN, Infinity, an integer of thousands of digits
        raise BadInput(field or None, "json_not_usable", detail=str(exc)) from None
    return check_json(value, field)


def without_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys included) replaced by U+FFFD:
    for what the bot says, which is cleaned rather than refused."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {without_surrogates(key): without_surrogates(item) for key, item in value.items()}
    return value


def received_bytes(text: str) -> bytes:
    """A header or cookie value as bytes, for hashing or comparing. aiohttp decodes headers as UTF-8
    with ``surrogateescape``, so a byte that is not UTF-8 arrives as a lone surrogate, which a plain
    ``.encode()`` refuses (an error 500 for a bad token)."""
    return text.encode("utf-8", "surrogatepass")
