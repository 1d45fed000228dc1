"""A store's own SMTP server for its emails: set, shown without its password, cleared.

The columns are ``Store.smtp_*`` (migration 0023). All of them None means the deployment's own
server (``SMTP_*``). The password is a secret like the signing keys: written, never read back by
any API (the status says only whether one is set), and never part of the versioned settings,
so it is in no settings history either.

A seller admin names the server, so the name is checked before the worker ever connects to it:
a public-looking domain name only (no IP address, no single-label or ``localhost`` name), so that
a store cannot point the deployment's worker at a service on its own network.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import Store
from bot.core.refusals import FieldRefusal

TLS_MODES = ("none", "starttls", "tls")
#: The usual port of each mode, when the seller names none.
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
DEFAULT_TLS = "starttls"
#: The columns' widths (bot/core/models/stores.py).
MAX_HOST_CHARS, MAX_USERNAME_CHARS, MAX_PASSWORD_CHARS = 253, 320, 500
FIELDS = frozenset({"host", "port", "tls", "username", "password"})
_HOSTNAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
#: Names that always mean this machine or its own network, whatever DNS says.
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


class SmtpSettingsError(FieldRefusal, ValueError):
    """A store SMTP change that cannot be saved; ``field`` names which one (``port``), the code why."""


@dataclass(frozen=True)
class StoreSmtp:
    """A store's own SMTP server, as the sending side uses it."""

    host: str
    port: int
    tls: str
    username: str | None
    password: str | None = dataclasses.field(default=None, repr=False)

    def status(self) -> dict[str, Any]:
        """What any API shows: never the password, only whether there is one."""
        return {
            "host": self.host,
            "port": self.port,
            "tls": self.tls,
            "username": self.username,
            "password_set": bool(self.password),
        }


#: The status of a store that uses the deployment's server.
DEPLOYMENT_SERVER: dict[str, Any] = {"host": None, "port": None, "tls": None, "username": None, "password_set": False}


def _host(value: object) -> str:
    host = value.strip().lower().rstrip(".") if isinstance(value, str) else ""
    if not _HOSTNAME.fullmatch(host) or host.endswith(_LOCAL_SUFFIXES) or host.rsplit(".", 1)[-1].isdigit():
        raise SmtpSettingsError("host", "smtp_host_invalid")
    return host


def _printable(value: str, spaces: bool) -> bool:
    return value.isprintable() and (spaces or not any(c.isspace() for c in value))


def check_smtp(body: Any, current: StoreSmtp | None) -> StoreSmtp:
    """The server a change asks for: ``host`` is required; ``port`` defaults to the mode's usual one,
    ``tls`` to STARTTLS; ``username`` null (or left out) means no sign-in. ``password`` left out keeps
    the current one (while there is a user name), null removes it."""
    if not isinstance(body, dict):
        raise SmtpSettingsError("smtp", "setting_not_object")
    for key in body:
        if key not in FIELDS:
            raise SmtpSettingsError(str(key), "setting_unknown")
    host = _host(body.get("host"))
    tls = body.get("tls", DEFAULT_TLS)
    if tls not in TLS_MODES:
        raise SmtpSettingsError("tls", "smtp_tls_invalid")
    port = body.get("port", DEFAULT_PORTS[tls])
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise SmtpSettingsError("port", "smtp_port_invalid")
    username = body.get("username")
    if isinstance(username, str) and not username.strip():
        username = None
    if username is not None and (
        not isinstance(username, str) or len(username) > MAX_USERNAME_CHARS or not _printable(username, spaces=False)
    ):
        raise SmtpSettingsError("username", "smtp_username_invalid", limit=MAX_USERNAME_CHARS)
    if "password" in body:
        password = body["password"]
        if password is not None and (
            not isinstance(password, str)
            or not password
            or len(password) > MAX_PASSWORD_CHARS
            or not _printable(password, spaces=True)
        ):
            raise SmtpSettingsError("password", "smtp_password_invalid", limit=MAX_PASSWORD_CHARS)
    else:
        password = current.password if current is not None else None
    if password is not None and username is None:
        if "password" in body:
            raise SmtpSettingsError("username", "smtp_password_without_username")
        password = None  # the user name was removed: its password goes with it
    return StoreSmtp(host, port, tls, username, password)


def _of_store(store: Store) -> StoreSmtp | None:
    if not store.smtp_host:
        return None
    tls = store.smtp_tls if store.smtp_tls in TLS_MODES else DEFAULT_TLS
    return StoreSmtp(store.smtp_host, store.smtp_port or DEFAULT_PORTS[tls], tls, store.smtp_username, store.smtp_password)


async def store_smtp(session: AsyncSession, store_id: str) -> StoreSmtp | None:
    """The store's own server, or None for the deployment's."""
    store = await session.get(Store, store_id)
    return _of_store(store) if store is not None else None


async def smtp_status(sessions: async_sessionmaker[AsyncSession], store_id: str) -> dict[str, Any]:
    """The store's server without its password (all None: the deployment's)."""
    async with sessions() as session:
        smtp = await store_smtp(session, store_id)
    return smtp.status() if smtp is not None else dict(DEPLOYMENT_SERVER)


async def set_smtp(sessions: async_sessionmaker[AsyncSession], store_id: str, body: Any) -> StoreSmtp:
    """Check and save the store's own server; nothing changes if any part is wrong."""
    async with sessions() as session, session.begin():
        store = await session.get(Store, store_id)
        if store is None:
            raise LookupError(store_id)
        smtp = check_smtp(body, _of_store(store))
        store.smtp_host, store.smtp_port, store.smtp_tls = smtp.host, smtp.port, smtp.tls
        store.smtp_username, store.smtp_password = smtp.username, smtp.password
    return smtp


async def clear_smtp(sessions: async_sessionmaker[AsyncSession], store_id: str) -> bool:
    """Back to the deployment's server; returns whether the store had one of its own."""
    async with sessions() as session, session.begin():
        store = await session.get(Store, store_id)
        if store is None:
            raise LookupError(store_id)
        had = bool(store.smtp_host)
        store.smtp_host = store.smtp_port = store.smtp_tls = store.smtp_username = store.smtp_password = None
    return had
