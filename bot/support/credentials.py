"""Console credentials: what an account's email, role and password may be, and the checking of passwords.

A person signs in to the console with an email and a password; the same rules hold whether the
operator makes the account or an invited person chooses the password, and a wrong one is told
apart from a right one without the console slowing down for everyone else.

Passwords are hashed with argon2id, off the event loop and at most a few at a
time per process (:class:`PasswordHashing`: a hash takes tens of milliseconds
and 64 MiB on purpose).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.core.models import AgentRole
from bot.core.refusals import Refusal

MIN_PASSWORD_CHARS = 10

_hasher = PasswordHasher()
#: Verified against when the email is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

T = TypeVar("T")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _hash(password: str) -> str:
    return _hasher.hash(password)


class PasswordCheckBusy(Refusal, RuntimeError):
    """Every password-hashing slot of this process is taken and the waiting line is full."""

    retry_after = 2

    def __init__(self) -> None:
        super().__init__("password_check_busy")


class PasswordHashing:
    """argon2 work of one process, bounded: ``workers`` threads compute (each hash holds about
    64 MiB and a core for ~100 ms), at most ``waiting`` more calls queue for them, and any call
    beyond that fails at once with :class:`PasswordCheckBusy` (the gateway answers 503) instead
    of piling up memory and latency. Thread-based, so one instance serves every event loop."""

    def __init__(self, workers: int = 2, waiting: int = 8) -> None:
        if workers < 1 or waiting < 0:
            raise ValueError("password hashing needs at least one worker and a non-negative queue")
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._admitted = threading.BoundedSemaphore(workers + waiting)

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        if not self._admitted.acquire(blocking=False):
            raise PasswordCheckBusy()
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        finally:
            self._admitted.release()

    async def hash(self, password: str) -> str:
        return await self._run(_hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        # Looked up at call time (not bound here), so a test can count the checks.
        return await self._run(_call_verify, password_hash or _DUMMY_HASH, password)


def _call_verify(password_hash: str, password: str) -> bool:
    return _verify(password_hash, password)


#: For the command line and the demo setup; the gateway makes one from its settings.
DEFAULT_HASHING = PasswordHashing()


async def hash_password(password: str) -> str:
    return await DEFAULT_HASHING.hash(password)


async def verify_password(password_hash: str, password: str) -> bool:
    return await DEFAULT_HASHING.verify(password_hash, password)


class AccountError(Refusal, ValueError):
    """A bad ``agents add`` or invitation: the message says what to fix."""


def check_email(email: str) -> str:
    """The address as every account and invitation stores it (normalised), or AccountError."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
        raise AccountError("email_invalid", email=email)
    return email


def check_role(role: str) -> None:
    """One of the console roles (AgentRole), or AccountError naming them."""
    if role not in AgentRole.__members__:
        raise AccountError("role_invalid", roles=", ".join(AgentRole.__members__))


def check_new_password(password: str) -> None:
    """A password a person chooses: at least MIN_PASSWORD_CHARS characters, or AccountError."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError("password_too_short", min_chars=MIN_PASSWORD_CHARS)
