"""Who acts for a store in a request, and the shape of a handler for one store's part of the API.

The seller API (a store's token) and the seller console (a signed-in seller admin) decide the
store and the actor their own way, then share the same handlers: settings, guides, manuals,
secrets, the team and failed jobs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the versions record it; ``email`` is a console account's (None for the API)."""

    label: str
    email: str | None = None


API_ACTOR = Actor("seller API")


def log_name(actor: Actor) -> str:
    """The actor as the log names it: a console account's label holds its email, which stays
    out of the log (the store's history in the database keeps who it was)."""
    return "a seller admin (console)" if actor.email is not None else actor.label


#: One store's part of a request: the seller API and the seller console decide the store (and the
#: actor) their own way, then share these handlers.
StoreHandler = Callable[[web.Request, str, Actor], Awaitable[web.StreamResponse]]
