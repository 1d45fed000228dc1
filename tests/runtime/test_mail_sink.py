"""The demo's SMTP sink keeps every email it accepts, one Maildir file each, and `make run` points the
demo's processes at it only when no SMTP server is configured."""

from __future__ import annotations

import asyncio
import email
import email.policy
import mailbox
import smtplib
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from bot.core.config import load_settings
from bot.runtime.mail_sink import serve
from bot.runtime.stack import (
    DEMO_EMAIL_AFTER_UNREAD_SECONDS,
    DEMO_EMAIL_SENDER,
    Service,
    _app_env,
    free_port,
    mail_sink,
    with_demo_mail_sink,
)


def delivery_email() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Yangteng Auto Parts <assistant@demo.localhost>"
    message["To"] = "alex@example.com"
    message["Reply-To"] = "reply+abc234@demo.localhost"
    message["Subject"] = "Your messages from Yangteng Auto Parts — 配送"
    message.set_content("Delivered! The manual: https://yangteng-auto.example/manuals/OP-1001.pdf\n")
    message.add_alternative("<p>Delivered!</p>", subtype="html")
    return message


def kept(directory: Path) -> list[EmailMessage]:
    box = mailbox.Maildir(directory, factory=None, create=False)
    found = []
    for key in box.iterkeys():
        parsed = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        found.append(parsed)
    return found


async def test_the_sink_keeps_an_email_sent_by_aiosmtplib_in_its_maildir(tmp_path: Path) -> None:
    directory, port, ready = tmp_path / "mail_sink", free_port(), asyncio.Event()
    server = asyncio.create_task(serve(directory, port, ready=ready))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        await aiosmtplib.send(
            delivery_email(),
            hostname="127.0.0.1",
            port=port,
            sender="bounce+abc234@demo.localhost",
            recipients=["alex@example.com"],
            start_tls=False,
            use_tls=False,
        )
    finally:
        server.cancel()
    [message] = kept(directory)
    # The envelope on top, as a delivering MTA writes it: the bounce address is there to see.
    assert message["Return-Path"] == "<bounce+abc234@demo.localhost>"
    assert message["Delivered-To"] == "alex@example.com"
    assert message["Subject"] == "Your messages from Yangteng Auto Parts — 配送"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "https://yangteng-auto.example/manuals/OP-1001.pdf" in body.get_content()
    # Owner-only, like everything under var/ (the sink runs with the private umask; the Maildir's folders are 0700).
    assert (directory / "new").stat().st_mode & 0o077 == 0


async def test_an_envelope_address_cannot_add_a_header(tmp_path: Path) -> None:
    from bot.runtime.mail_sink import KeepInMaildir

    keeper = KeepInMaildir(tmp_path / "box")
    keeper.keep("a@b.example\r\nX-Injected: yes", ["c@d.example"], delivery_email().as_bytes())
    [message] = kept(tmp_path / "box")
    assert message["X-Injected"] is None and message["Return-Path"].startswith("<a@b.example")


def test_make_run_points_the_demo_at_the_sink_when_no_smtp_server_is_configured(tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path), "DEMO": "1", "MAIL_SINK_PORT": "2626"})
    demo = with_demo_mail_sink(settings, env={})
    assert (demo.smtp_host, demo.smtp_port, demo.smtp_tls) == ("127.0.0.1", 2626, "none")
    assert demo.email_sender == DEMO_EMAIL_SENDER and demo.email_enabled
    assert demo.email_after_unread_seconds == DEMO_EMAIL_AFTER_UNREAD_SECONDS
    assert demo.mail_sink_maildir == tmp_path.resolve() / "mail_sink"
    # The processes it starts read the same back from their environment.
    assert load_settings(_app_env(demo)) == demo
    # A delay someone chose is kept.
    chosen = load_settings({"VAR_DIR": str(tmp_path), "DEMO": "1", "EMAIL_AFTER_UNREAD_SECONDS": "90"})
    assert with_demo_mail_sink(chosen, env={"EMAIL_AFTER_UNREAD_SECONDS": "90"}).email_after_unread_seconds == 90


@pytest.mark.parametrize(
    "env",
    [
        {"DEMO": "0"},  # production: no sink, ever
        {"DEMO": "1", "SMTP_HOST": "smtp.example.com", "EMAIL_SENDER": "help@shop.example"},  # a real server wins
    ],
)
def test_no_sink_without_demo_or_with_a_configured_smtp_server(tmp_path: Path, env: dict[str, str]) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path), **env})
    assert with_demo_mail_sink(settings, env=env) is settings


def test_mail_sink_dir_is_read_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path), "MAIL_SINK_DIR": str(tmp_path / "elsewhere")})
    assert settings.mail_sink_maildir == tmp_path / "elsewhere"
    assert load_settings(_app_env(settings)) == settings


@pytest.mark.slow
def test_python_m_bot_mail_sink_is_the_process_make_run_starts(tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path), "MAIL_SINK_PORT": str(free_port())})
    service: Service = mail_sink(settings)
    service.start()
    try:
        service.wait_healthy(30)
        with smtplib.SMTP("127.0.0.1", settings.mail_sink_port, timeout=10) as client:
            client.send_message(delivery_email(), from_addr="bounce+abc234@demo.localhost", to_addrs=["alex@example.com"])
    finally:
        service.stop()
    [message] = kept(tmp_path / "mail_sink")
    assert message["To"] == "alex@example.com"
    log = service.log_tail()
    assert "keeping every email in" in log and "alex@example.com" not in log
