"""Shopper identities signed by the store: hex HMAC-SHA256 of the email, keyed
with the store's ``shopper_secret``."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.text_input import received_bytes


def sign_shopper(secret: str, email: str) -> str:
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()


def signature_is_valid(secret: str | None, email: str, signature: str) -> bool:
    if not secret or not isinstance(signature, str):
        return False
    # Constant-time, and a signature of the wrong length is simply unequal.
    return hmac.compare_digest(sign_shopper(secret, email).encode(), signature.strip().lower().encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # A token comes from a header or a cookie, where a byte that is not UTF-8 arrives as a lone surrogate.
    return hashlib.sha256(received_bytes(token)).hexdigest()
