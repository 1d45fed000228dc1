"""One-click unsubscribe from review requests by email (RFC 8058).

A review invitation's email carries ``List-Unsubscribe: <{public}/email/unsubscribe/TOKEN>``
and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``. The token is signed
(:mod:`bot.email.signed_links`, purpose ``unsubscribe``) over the store and the address, so it
opts out that one address of that one store, and nothing else.

The opt-out is the one the chat writes (``review_opt_outs``): a shopper who declined reviews in
the chat gets no review email, and one who unsubscribed by email is not asked in the chat either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import Store
from bot.email.signed_links import UNSUBSCRIBE, BadSignedLink, SignedLinks
from bot.email.suppressions import address_key
from bot.reviews.shopper_reviews import opt_out_of_reviews

#: How long an unsubscribe link works: an old email in the inbox must still let the shopper out.
UNSUBSCRIBE_LINK_DAYS = 365


def unsubscribe_url(public_base: str, token: str) -> str:
    return f"{public_base.rstrip('/')}/email/unsubscribe/{token}"


def unsubscribe_token(links: SignedLinks, store_id: str, address: str, now: dt.datetime) -> str:
    return links.sign(UNSUBSCRIBE, [store_id, address_key(address)], now + dt.timedelta(days=UNSUBSCRIBE_LINK_DAYS))


@dataclass(frozen=True)
class Unsubscription:
    store_id: str
    store_name: str
    #: Whether this request opted the address out (False: it already was, or only asked).
    opted_out_now: bool = False


class Unsubscribes:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], links: SignedLinks) -> None:
        self._sessions = sessions
        self._links = links

    def _fields(self, token: str, now: dt.datetime) -> tuple[str, str]:
        """The store and address the token names; :class:`BadSignedLink` unless it is genuine and live."""
        fields = self._links.verify(UNSUBSCRIBE, token, now)
        if len(fields) != 2:
            # Signed by this deployment, so never expected: still a link that does not work, not an error.
            raise BadSignedLink("email_link_invalid")
        return fields[0], fields[1]

    async def ask(self, token: str, now: dt.datetime) -> Unsubscription | None:
        """What the link would unsubscribe from (changes nothing); None: the store is gone."""
        store_id, _address = self._fields(token, now)
        async with self._sessions() as session:
            name = await session.scalar(select(Store.name).where(Store.id == store_id))
        return None if name is None else Unsubscription(store_id, name)

    async def confirm(self, token: str, now: dt.datetime) -> Unsubscription | None:
        """Opt the address out of the store's review requests (again is harmless); None: the store is gone."""
        store_id, address = self._fields(token, now)
        async with self._sessions() as session, session.begin():
            name = await session.scalar(select(Store.name).where(Store.id == store_id))
            if name is None:
                return None
            opted_out_now = await opt_out_of_reviews(session, store_id, address, now)
        return Unsubscription(store_id, name, opted_out_now)
