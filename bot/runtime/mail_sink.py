"""The demo's SMTP sink: ``python -m bot mail-sink`` accepts every email on a loopback port and
keeps it, unsent, as one file in a Maildir (``var/mail_sink/`` or ``MAIL_SINK_DIR``).

``make run`` starts it when no SMTP server is configured and points the worker at it, so that a
newcomer sees what the store emails (the demo inbox at /demo/inbox reads the same Maildir) and no
email of the demo ever leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mailbox
import signal
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP

log = logging.getLogger(__name__)

#: What the sink calls itself in its greeting (never a real host name: it relays nothing).
SINK_HOSTNAME = "mail-sink.localhost"
#: The largest email it keeps; a delivery email with its PDF manual is well under it.
MAX_MESSAGE_BYTES = 25 * 1024 * 1024


def open_maildir(directory: Path) -> mailbox.Maildir:
    """The sink's Maildir, made (owner-only, like everything under var/) if it is not there yet."""
    directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return mailbox.Maildir(directory, factory=None, create=True)


def _one_line(value: str) -> str:
    """An envelope address as a header value: the client chose it, and a line break would add a header."""
    return "".join(ch for ch in value if ch.isprintable())


class KeepInMaildir:
    """aiosmtpd's handler: every accepted email becomes one Maildir file, with the envelope (the
    bounce address an MTA would use, and the recipients) on top as a delivering MTA writes it."""

    def __init__(self, directory: Path) -> None:
        self.maildir = open_maildir(directory)

    def keep(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> str:
        lines = [f"Return-Path: <{_one_line(mail_from)}>", *(f"Delivered-To: {_one_line(rcpt)}" for rcpt in rcpt_tos)]
        envelope = "".join(line + "\r\n" for line in lines).encode("utf-8", "replace")
        return self.maildir.add(envelope + content)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        key = await asyncio.to_thread(self.keep, envelope.mail_from or "", list(envelope.rcpt_tos), content)
        log.info("kept an email for %d recipient(s) as %s", len(envelope.rcpt_tos), key)
        return f"250 Kept as {key}"


async def serve(directory: Path, port: int, host: str = "127.0.0.1", ready: asyncio.Event | None = None) -> None:
    """Accept email on host:port until cancelled."""
    handler = KeepInMaildir(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname=SINK_HOSTNAME, enable_SMTPUTF8=True, data_size_limit=MAX_MESSAGE_BYTES),
        host,
        port,
    )
    if ready is not None:
        ready.set()
    async with server:
        await server.serve_forever()


def run_mail_sink(directory: Path, port: int) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiosmtpd logs every SMTP command, addresses included: the log under var/ holds no email address.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    print(f"mail sink on smtp://127.0.0.1:{port}, keeping every email in {directory}", flush=True)

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        await serve(directory, port)

    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        asyncio.run(main())
    return 0
