"""``python -m bot inbound-smtp``: an SMTP server for deployments that receive their mail directly
(the reply domain's MX points here, or a relay forwards to it) rather than through a provider's
inbound-parse webhook.

It accepts mail only for a conversation's reply or bounce address (``RCPT TO`` anything else:
``550``), and gives each mail, as raw MIME, to the same :class:`~bot.email.inbound.InboundMailbox`
as the webhook: the same turn, the same checks, the same once-per-Message-ID, and the same photos
from the mail's attachments (decoded under this process's own bound, its services' ``photo_decodes``).
A refusal is a permanent ``5xx`` (the sender's server tells the shopper), a rate limit a temporary ``451``.

It listens on ``127.0.0.1`` by default (``INBOUND_SMTP_PORT``; put a real MTA in front of it for
the internet, which does TLS and spam filtering) and runs in the caller's event loop, since the
database engine and the HTTP client to Rasa belong to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.core.config import Settings
from bot.email.inbound import InboundMailbox, InboundRefused, mail_from_raw

log = logging.getLogger(__name__)

#: The largest mail taken, as the webhook's whole form.
MAX_MAIL_BYTES = 10 * 1024 * 1024
DEFAULT_HOST = "127.0.0.1"


def smtp_reply(refused: InboundRefused) -> str:
    """The SMTP answer to a refused mail: temporary for a rate limit or a storage that is down (the
    sending server tries again), else permanent."""
    text = refused.english.encode("ascii", "replace").decode("ascii").replace("\r", " ").replace("\n", " ")
    if refused.status == 429:
        return f"451 4.7.1 {text}"
    if refused.status == 503:
        return f"451 4.3.0 {text}"
    if refused.status == 404:
        return f"550 5.1.1 {text}"
    if refused.status == 403:
        return f"550 5.7.1 {text}"
    if refused.status == 413:
        return f"552 5.3.4 {text}"
    return f"550 5.6.0 {text}"


class InboundSmtpHandler:
    """aiosmtpd's handler: RCPT checks the address, DATA gives the mail to the mailbox."""

    def __init__(self, mailbox: InboundMailbox) -> None:
        self.mailbox = mailbox

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not await self.mailbox.knows(address):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content: Any = envelope.original_content or envelope.content
        data = content if isinstance(content, bytes) else str(content or "").encode("utf-8", "surrogateescape")
        try:
            mail = mail_from_raw(data, list(envelope.rcpt_tos))
            outcome = await self.mailbox.take(mail)
        except InboundRefused as refused:
            log.info("inbound mail refused: %s", refused.english)
            return smtp_reply(refused)
        return f"250 2.0.0 {outcome.result}"


async def start_listener(mailbox: InboundMailbox, port: int, host: str = DEFAULT_HOST) -> asyncio.Server:
    """The SMTP server in this event loop (``port`` 0: a free one; read it from the server's socket)."""
    handler = InboundSmtpHandler(mailbox)
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(handler, data_size_limit=MAX_MAIL_BYTES, hostname="inbound", ident="aftersales inbound"),
        host=host,
        port=port,
    )


async def serve(settings: Settings, host: str = DEFAULT_HOST) -> None:
    """Until stopped: the gateway's services (Rasa client, turns) and the listener over them."""
    from bot.core.db import get_sessionmaker
    from bot.web.email_webhooks import inbound_mailbox
    from bot.web.services import Services

    built = Services.build(settings, get_sessionmaker())
    async with built.running():
        server = await start_listener(inbound_mailbox(built), settings.inbound_smtp_port, host)
        log.info("inbound SMTP listening on %s:%d", host, settings.inbound_smtp_port)
        async with server:
            await server.serve_forever()


def run_inbound_smtp(settings: Settings, host: str = DEFAULT_HOST) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiosmtpd logs every command with its addresses at INFO: shoppers' addresses stay out of the log.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    if not settings.inbound_smtp_port:
        log.error("INBOUND_SMTP_PORT is not set: the inbound SMTP listener is off")
        return 2
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it is stopped
        asyncio.run(serve(settings, host))
    return 0
