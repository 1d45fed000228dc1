"""The one way out for email: an SMTP server, through an async client (aiosmtplib)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage

import aiosmtplib

from bot.core.config import Settings
from bot.core.models import Store

#: Seconds for connecting and for each SMTP command: far below the job queue's 5-minute lease,
#: so a hung server fails this attempt (retried later) instead of letting another worker send too.
SMTP_TIMEOUT_SECONDS = 30.0


class EmailNotSent(RuntimeError):
    """The SMTP server could not be reached, or refused the email; the job tries again later."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    #: ``none``, ``starttls`` or ``tls`` (``SMTP_TLS``).
    tls: str = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = SMTP_TIMEOUT_SECONDS
    #: A store's own server: it must resolve to public addresses only, so that a seller cannot
    #: aim the worker at a service on the deployment's own network (its database, Redis).
    public_only: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpServer:
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_tls, settings.smtp_username, settings.smtp_password)

    @classmethod
    def of_store(cls, store: Store) -> SmtpServer | None:
        """The store's own server (its ``smtp_*`` columns), or None when it names none."""
        if not store.smtp_host:
            return None
        tls = store.smtp_tls if store.smtp_tls in ("none", "starttls", "tls") else "starttls"
        # The port each kind of connection usually listens on, when the store left it out.
        port = store.smtp_port or (465 if tls == "tls" else 587)
        return cls(store.smtp_host, port, tls, store.smtp_username or "", store.smtp_password or "", public_only=True)


class SmtpMailer:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def send(self, message: EmailMessage, mail_from: str | None = None) -> None:
        """Hand the email to the server; :class:`EmailNotSent` when that fails. ``mail_from``: the
        envelope sender (``MAIL FROM``, the ``Return-Path`` bounces go to); None: the ``From`` address."""
        server = self.server
        if server.public_only:
            await _refuse_private(server)
        try:
            await aiosmtplib.send(
                message,
                sender=mail_from,
                hostname=server.host,
                port=server.port,
                username=server.username or None,
                password=server.password or None,
                use_tls=server.tls == "tls",
                # "none" never upgrades, even if the server offers it; "starttls" insists on it.
                start_tls=server.tls == "starttls",
                timeout=server.timeout,
            )
        except aiosmtplib.SMTPException as exc:
            # Only the class and the reply code: a server's refusal often names the recipient,
            # and what this says reaches the worker's log and the job's last error.
            code = getattr(exc, "code", None)
            reason = exc.__class__.__name__ + (f" {code}" if code else "")
            raise EmailNotSent(f"{server.host}:{server.port}: {reason}") from exc
        except OSError as exc:
            raise EmailNotSent(f"{server.host}:{server.port}: {exc.__class__.__name__}: {exc}") from exc


async def _refuse_private(server: SmtpServer) -> None:
    """:class:`EmailNotSent` unless every address the host resolves to is a public one. (The
    console refuses IP addresses and local names; a public name can still resolve inward.)"""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(server.host, server.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise EmailNotSent(f"{server.host}:{server.port}: {exc.__class__.__name__}: {exc}") from exc
    for *_, address in infos:
        if not ipaddress.ip_address(address[0]).is_global:
            raise EmailNotSent(
                f"{server.host}:{server.port}: resolves to a private address; the store's server must be public"
            )
