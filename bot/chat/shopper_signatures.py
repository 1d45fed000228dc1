"""Shopper identities signed by the store: hex HMAC-SHA256 keyed with the store's ``shopper_secret``.

A signature is over ``f"{email}\\n{ts}"``, where ``ts`` is when the store's server signed it
(Unix seconds), so that a signature copied from a page, a log or a cache stops working after
``SHOPPER_SIGNATURE_MAX_AGE_SECONDS``. A signature over the email alone (plain) never expires:
only stores that opted in (``plain_shopper_signatures`` in the import format) accept it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.core.text_input import received_bytes

#: A timestamp from a store's clock may run this far ahead of ours.
CLOCK_SKEW_SECONDS = 300
#: Timestamps are Unix seconds; this bound (year 5138) keeps absurd numbers out of the arithmetic.
LATEST_TIMESTAMP = 10**11


def sign_shopper(secret: str, email: str, ts: int | None) -> str:
    """What the store's server computes: over the email and the time it signs (``ts``), or,
    with ``ts=None``, the plain signature over the email alone."""
    message = email if ts is None else f"{email}\n{ts}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signature_is_valid(secret: str | None, email: str, signature: str, ts: int | None = None) -> bool:
    """Whether ``signature`` is the store's for this email (and ``ts``); the time itself is
    checked by :func:`timestamp_problem`."""
    if not secret or not isinstance(signature, str):
        return False
    # Constant-time, and a signature of the wrong length is simply unequal.
    return hmac.compare_digest(sign_shopper(secret, email, ts).encode(), signature.strip().lower().encode())


def timestamp_problem(ts: int, now: float, max_age_seconds: int) -> str | None:
    """Why a signed time is not acceptable now (too old, or ahead of our clock), as a refusal
    code of :mod:`bot.core.refusals`, or None."""
    if ts > now + CLOCK_SKEW_SECONDS:
        return "shopper_signature_from_future"
    if ts < now - max_age_seconds:
        return "shopper_signature_expired"
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # A token comes from a header or a cookie, where a byte that is not UTF-8 arrives as a lone surrogate.
    return hashlib.sha256(received_bytes(token)).hexdigest()
