"""Signed email links: a token opens only what it names, for its purpose, until it expires."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from bot.email.signed_links import CONTINUE_CHAT, MAX_TOKEN_CHARS, UNSUBSCRIBE, BadSignedLink, SignedLinks

NOW = dt.datetime(2026, 11, 27, 22, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=14)
LINKS = SignedLinks("email-link-secret-test")


def test_a_token_gives_back_its_fields_until_it_expires() -> None:
    token = LINKS.sign(CONTINUE_CHAT, ["yangteng-auto", "conv-1"], LATER)
    assert LINKS.verify(CONTINUE_CHAT, token, NOW) == ["yangteng-auto", "conv-1"]
    assert LINKS.verify(CONTINUE_CHAT, token, LATER - dt.timedelta(seconds=1)) == ["yangteng-auto", "conv-1"]
    with pytest.raises(BadSignedLink) as expired:
        LINKS.verify(CONTINUE_CHAT, token, LATER)
    assert expired.value.code == "email_link_expired"
    # URL-safe as it is: no escaping needed in a path.
    assert all(c.isalnum() or c in "-_." for c in token)


def test_a_token_opens_nothing_else() -> None:
    token = LINKS.sign(CONTINUE_CHAT, ["yangteng-auto", "conv-1"], LATER)
    with pytest.raises(BadSignedLink) as other_purpose:
        LINKS.verify(UNSUBSCRIBE, token, NOW)
    assert other_purpose.value.code == "email_link_invalid"
    with pytest.raises(BadSignedLink):
        SignedLinks("another secret").verify(CONTINUE_CHAT, token, NOW)
    # Another conversation in the body, the old signature: refused.
    body, signature = token.split(".")
    forged = json.dumps(["yangteng-auto", "conv-2", int(LATER.timestamp())], separators=(",", ":")).encode()
    forged_body = base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    with pytest.raises(BadSignedLink):
        LINKS.verify(CONTINUE_CHAT, f"{forged_body}.{signature}", NOW)
    # A later expiry, the old signature: refused.
    extended = json.dumps(["yangteng-auto", "conv-1", int(LATER.timestamp()) + 10**6], separators=(",", ":")).encode()
    with pytest.raises(BadSignedLink):
        LINKS.verify(CONTINUE_CHAT, f"{base64.urlsafe_b64encode(extended).decode()}.{signature}", NOW)


@pytest.mark.parametrize(
    "token",
    ["", "no-dot", "a.b.c", "!!!.???", "x" * (MAX_TOKEN_CHARS + 1), ".", "YQ.YQ", None, 42],
)
def test_a_malformed_token_is_refused_as_invalid(token: object) -> None:
    with pytest.raises(BadSignedLink) as refused:
        LINKS.verify(CONTINUE_CHAT, token, NOW)  # type: ignore[arg-type]
    assert refused.value.code == "email_link_invalid"


def test_a_genuine_body_that_is_not_the_expected_shape_is_refused() -> None:
    for decoded in ([], {"a": 1}, ["only", "strings"], [1, 2, 3], "text"):
        body = json.dumps(decoded).encode()
        digest = LINKS._digest(CONTINUE_CHAT, body)
        token = f"{base64.urlsafe_b64encode(body).rstrip(b'=').decode()}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"
        with pytest.raises(BadSignedLink):
            LINKS.verify(CONTINUE_CHAT, token, NOW)


def test_an_unknown_purpose_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="purpose"):
        LINKS.sign("open_everything", ["x"], LATER)
