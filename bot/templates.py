"""Sellers' message templates: data, rendered by a small safe formatter.

A template is plain text with placeholders such as ``{order_number}``. It is
never evaluated: no ``str.format`` on objects (which would allow
``{order.__class__}``), no template engine. The only syntax is

- ``{name}`` for a known placeholder of that template,
- ``{{`` and ``}}`` for literal braces.

Anything else (an unknown name, attribute or index access, a format spec or
conversion, a positional ``{}``, an unmatched brace) is refused on save with a
message that says what and where, so a broken template never reaches a shopper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_TEMPLATE_CHARS = 2000

#: Every placeholder a seller may use, with what it becomes (shown in the console).
PLACEHOLDERS: dict[str, str] = {
    "shopper_first_name": "the shopper's first name (or \"there\" when unknown)",
    "store_name": "the store's name",
    "order_number": "the order number, like FZ-20931",
    "item_names": "the items, like \"Aluminium oil pan and Oil pan gasket\"",
    "tracking_url": "the carrier's tracking page for the parcel",
    "carrier": "the carrier, like USPS",
    "review_url": "the store's review link for the order",
    "reply_time": "how soon a person usually answers, like \"2 hours\"",
    "back_in": "when the team is back, like \"in about 9 hours (Monday 09:00, Asia/Shanghai time)\"",
    "reference": "the case reference, like E-12",
}


class TemplateError(ValueError):
    """A template that cannot be saved; ``str(error)`` says why, for the seller."""


@dataclass(frozen=True)
class _Piece:
    literal: str
    name: str | None


# One token at a time: an escaped brace, a placeholder-shaped thing, a lone brace, or text.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|\{|\}|[^{}]+")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _parse(text: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        where = f"at character {match.start() + 1}"
        if token == "{{":
            pieces.append(_Piece("{", None))
        elif token == "}}":
            pieces.append(_Piece("}", None))
        elif token == "{":
            raise TemplateError(f"unmatched '{{' {where}; write {{{{ for a literal brace")
        elif token == "}":
            raise TemplateError(f"unmatched '}}' {where}; write }}}} for a literal brace")
        elif match.group(1) is not None:
            inner = match.group(1).strip()
            if not inner:
                raise TemplateError(f"empty placeholder {{}} {where}; name it, like {{order_number}}")
            if not _NAME.fullmatch(inner):
                raise TemplateError(
                    f"{{{match.group(1)}}} {where} is not a placeholder: only names like {{order_number}} are allowed "
                    "(no attributes, indexes, formats or code)"
                )
            pieces.append(_Piece("", inner))
        else:
            pieces.append(_Piece(token, None))
    return pieces


def validate(text: object, allowed: frozenset[str] | set[str] | None = None) -> str:
    """The template, checked; :class:`TemplateError` if it cannot be saved."""
    if not isinstance(text, str):
        raise TemplateError("a template must be text")
    if not text.strip():
        raise TemplateError("a template cannot be empty")
    if len(text) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"a template can have at most {MAX_TEMPLATE_CHARS:,} characters")
    names = set(PLACEHOLDERS) if allowed is None else set(allowed)
    for piece in _parse(text):
        if piece.name is not None and piece.name not in names:
            raise TemplateError(
                f"unknown placeholder {{{piece.name}}}; this message can use "
                + ", ".join(f"{{{n}}}" for n in sorted(names))
            )
    return text


def placeholders_in(text: str) -> list[str]:
    return [piece.name for piece in _parse(text) if piece.name is not None]


def render(text: str, values: dict[str, str]) -> str:
    """Fill the placeholders with plain strings; a missing value renders as nothing.

    Values are inserted as they are: the result is text, and every surface
    that shows it (widget, console) renders text, never HTML.
    """
    return "".join(piece.literal if piece.name is None else str(values.get(piece.name, "")) for piece in _parse(text))
