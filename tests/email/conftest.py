"""A real SMTP server for the email tests: aiosmtpd in the test process, on a free port."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.runtime.stack import free_port


class MailSink:
    """Keeps every email the server accepts, as parsed messages."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [message for _, _, message in self.received]


class SmtpSink:
    """An SMTP server on a port chosen up front, so a test can start it after a failed attempt."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mail = MailSink()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mail, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A running SMTP server (``smtp_sink.stop()``/``start()`` take it down and back)."""
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_sink_down() -> Iterator[SmtpSink]:
    """An SMTP server not started yet: its port refuses connections until ``start()``."""
    sink = SmtpSink()
    yield sink
    sink.stop()
