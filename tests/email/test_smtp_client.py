"""The one way out for email: a real SMTP server in the test process."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.core.models import Store
from bot.email.smtp_client import EmailNotSent, SmtpMailer, SmtpServer
from tests.email.conftest import SmtpSink, free_port


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


class RefusingSink:
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        return f"550 5.1.1 <{address}>: Recipient address rejected"


async def test_a_refusal_is_told_without_the_address_it_names() -> None:
    port = free_port()
    controller = Controller(RefusingSink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with pytest.raises(EmailNotSent) as refused:
            await SmtpMailer(SmtpServer("127.0.0.1", port, tls="none", timeout=5)).send(hello())
    finally:
        controller.stop()
    assert "SMTPRecipientsRefused" in str(refused.value) and "alex@example.com" not in str(refused.value)


async def test_the_envelope_sender_is_the_bounce_address_when_given(smtp_sink: SmtpSink) -> None:
    mailer = SmtpMailer(SmtpServer("127.0.0.1", smtp_sink.port, tls="none", timeout=5))
    await mailer.send(hello(), mail_from="bounce+abc@reply.shop.example")
    ((mail_from, rcpt_tos, message),) = smtp_sink.mail.received
    assert (mail_from, rcpt_tos) == ("bounce+abc@reply.shop.example", ["alex@example.com"])
    assert message["From"] == "Shop <notifications@shop.example>"


def test_a_stores_own_server_comes_from_its_row() -> None:
    assert SmtpServer.of_store(Store(id="s", name="S")) is None
    plain = SmtpServer.of_store(Store(id="s", name="S", smtp_host="smtp.s.example"))
    assert plain == SmtpServer("smtp.s.example", 587, "starttls", "", "", public_only=True)
    tls = SmtpServer.of_store(
        Store(id="s", name="S", smtp_host="smtp.s.example", smtp_tls="tls", smtp_username="u", smtp_password="pw")
    )
    assert tls is not None and (tls.port, tls.tls, tls.username, tls.password) == (465, "tls", "u", "pw")
    assert "pw" not in repr(tls)
    # A value that is not one of the three never sends in the clear.
    odd = SmtpServer.of_store(Store(id="s", name="S", smtp_host="smtp.s.example", smtp_port=2525, smtp_tls="maybe"))
    assert odd is not None and (odd.port, odd.tls) == (2525, "starttls")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "::1", "169.254.169.254"])
async def test_a_stores_own_server_on_a_private_address_is_never_connected_to(smtp_sink: SmtpSink, host: str) -> None:
    # The sink listens on 127.0.0.1: a store's server there would be reached if the check were missing.
    server = SmtpServer(host, smtp_sink.port, tls="none", timeout=5, public_only=True)
    with pytest.raises(EmailNotSent, match="private address"):
        await SmtpMailer(server).send(hello())
    assert smtp_sink.mail.received == []
