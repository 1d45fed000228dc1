"""A store's own SMTP server (bot/seller/store_smtp.py): what is accepted, what the sending side
reads, and the password never shown (not even in a repr that reaches a log)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.seller.store_smtp import (
    DEPLOYMENT_SERVER,
    SmtpSettingsError,
    StoreSmtp,
    check_smtp,
    clear_smtp,
    set_smtp,
    smtp_status,
    store_smtp,
)

STORE, OTHER = "yangteng-auto", "bloomkids-baby"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"host": "smtp.example.com"}, ("smtp.example.com", 587, "starttls", None, None)),
        ({"host": " Mail.Example.COM. ", "tls": "tls"}, ("mail.example.com", 465, "tls", None, None)),
        ({"host": "mx1.example.co.uk", "tls": "none", "port": 2525}, ("mx1.example.co.uk", 2525, "none", None, None)),
        ({"host": "smtp.example.com", "username": "  "}, ("smtp.example.com", 587, "starttls", None, None)),
        (
            {"host": "smtp.example.com", "username": "me@example.com", "password": "pass word 密码"},
            ("smtp.example.com", 587, "starttls", "me@example.com", "pass word 密码"),
        ),
    ],
)
def test_a_good_server_is_taken_with_the_modes_usual_port(body: dict[str, Any], expected: tuple[Any, ...]) -> None:
    smtp = check_smtp(body, None)
    assert (smtp.host, smtp.port, smtp.tls, smtp.username, smtp.password) == expected


@pytest.mark.parametrize(
    "host",
    ["10.0.0.1", "127.0.0.1", "::1", "localhost", "smtp", "mail.local", "db.internal", "a..b.com", "-a.com", "é.com", ""],
)
def test_a_host_that_is_no_public_domain_name_is_refused(host: str) -> None:
    with pytest.raises(SmtpSettingsError) as refused:
        check_smtp({"host": host}, None)
    assert (refused.value.field, refused.value.code) == ("host", "smtp_host_invalid")


def test_the_password_is_kept_while_there_is_a_user_and_never_in_a_repr() -> None:
    current = StoreSmtp("smtp.example.com", 587, "starttls", "me", "hunter2 hunter2")
    kept = check_smtp({"host": "smtp.example.com", "username": "me"}, current)
    assert kept.password == "hunter2 hunter2"
    assert "hunter2" not in repr(kept) and "hunter2" not in str(kept.status())
    assert kept.status()["password_set"] is True
    assert check_smtp({"host": "smtp.example.com"}, current).password is None  # no user, no password
    assert check_smtp({"host": "smtp.example.com", "username": "me", "password": None}, current).password is None


async def test_the_sending_side_reads_the_stores_own_server_and_none_after_clearing(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await smtp_status(demo_sessions, STORE) == DEPLOYMENT_SERVER
    await set_smtp(demo_sessions, STORE, {"host": "smtp.example.com", "username": "me", "password": "pw"})
    async with demo_sessions() as session:
        assert await store_smtp(session, STORE) == StoreSmtp("smtp.example.com", 587, "starttls", "me", "pw")
        assert await store_smtp(session, OTHER) is None  # one store's server is never another's
    assert await clear_smtp(demo_sessions, STORE) is True
    assert await clear_smtp(demo_sessions, STORE) is False
    async with demo_sessions() as session:
        assert await store_smtp(session, STORE) is None
    with pytest.raises(LookupError):
        await set_smtp(demo_sessions, "no-such-store", {"host": "smtp.example.com"})
