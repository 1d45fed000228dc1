"""The one way out for email: a real SMTP server in the test process."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from bot.email.smtp_client import EmailNotSent, SmtpMailer, SmtpServer
from tests.email.conftest import SmtpSink


def hello() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Shop <notifications@shop.example>"
    mail["To"] = "alex@example.com"
    mail["Subject"] = "Hello"
    mail.set_content("Hello Alex")
    return mail


async def test_an_email_reaches_the_server(smtp_sink: SmtpSink) -> None:
    await SmtpMailer(SmtpServer("127.0.0.1", smtp_sink.port, tls="none", timeout=5)).send(hello())
    ((mail_from, rcpt_tos, message),) = smtp_sink.mail.received
    assert (mail_from, rcpt_tos, message["Subject"]) == ("notifications@shop.example", ["alex@example.com"], "Hello")


async def test_starttls_is_insisted_on_when_asked_for(smtp_sink: SmtpSink) -> None:
    # This server offers no STARTTLS: the email is not sent in the clear instead.
    with pytest.raises(EmailNotSent):
        await SmtpMailer(SmtpServer("127.0.0.1", smtp_sink.port, tls="starttls", timeout=5)).send(hello())
    assert smtp_sink.mail.received == []


async def test_a_server_that_is_down_is_a_failure_to_retry(smtp_sink_down: SmtpSink) -> None:
    with pytest.raises(EmailNotSent, match=str(smtp_sink_down.port)):
        await SmtpMailer(SmtpServer("127.0.0.1", smtp_sink_down.port, tls="none", timeout=5)).send(hello())
