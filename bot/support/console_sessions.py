"""Signing in to the console: who the person behind a browser is, for which stores, and for how long.

A session keeps an agent signed in for a working day and lets the console show who is online;
a guesser trying passwords is stopped after a few failures, whichever gateway process answers.

Sessions are random cookie tokens of which only the SHA-256 is kept, each with its own CSRF token.

Failed logins are counted in the database, so the limit holds across gateway
processes and restarts. An attempt is *reserved* (its row inserted and the
recent rows counted, under a lock on the email and the address) before the
password is checked, in one transaction: parallel attempts cannot all see
"no failures yet".
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.shopper_signatures import token_hash
from bot.core.clock import utc_now
from bot.core.models import Agent, AgentMembership, AgentSession, LoginFailure, Store
from bot.core.refusals import Refusal
from bot.support.credentials import DEFAULT_HASHING, PasswordCheckBusy, PasswordHashing, normalise_email

SESSION_LIFETIME = dt.timedelta(hours=12)
#: Failed logins counted over this window…
FAILURE_WINDOW = dt.timedelta(minutes=15)
#: …at most this many for one email, and for one IP address (a guesser tries many emails).
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 20
#: Sessions refresh ``last_seen_at`` at most this often (one write per minute, not per request).
SEEN_RESOLUTION = dt.timedelta(seconds=20)


class LoginThrottled(Refusal, PermissionError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("login_throttled", retry_after=retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class StoreRef:
    id: str
    name: str
    role: str


@dataclass(frozen=True)
class SignedInAgent:
    id: int
    email: str
    name: str
    stores: tuple[StoreRef, ...]
    csrf_token: str

    @property
    def store_ids(self) -> frozenset[str]:
        return frozenset(store.id for store in self.stores)

    def csrf_matches(self, candidate: str | None) -> bool:
        return bool(candidate) and hmac.compare_digest(self.csrf_token.encode(), (candidate or "").encode())

    def as_json(self) -> dict[str, object]:
        return {
            "agent": {
                "id": self.id,
                "email": self.email,
                "name": self.name,
                "stores": [{"id": s.id, "name": s.name, "role": s.role} for s in self.stores],
            },
            "csrf_token": self.csrf_token,
        }


@dataclass(frozen=True)
class LoginAttempt:
    """A reserved login attempt: its failure row, and the account it is for (if any)."""

    id: int
    agent_id: int | None
    password_hash: str
    has_store: bool


async def _serialise(session: AsyncSession, keys: Iterable[str]) -> None:
    """Make concurrent throttle transactions on the same keys take turns, across processes.

    PostgreSQL: transaction-scoped advisory locks, taken in one order (no deadlock). SQLite
    needs nothing here: the caller's first statement is an INSERT, which takes the database's
    single write lock until the transaction ends, so the counts that follow are current.
    """
    if session.bind.dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 13))))


class ConsoleSessions:
    """Signing in and out, the sessions behind console cookies, and who is online.

    An invitation link signs its person in too (:class:`bot.support.staff_invitations.StaffInvitations`):
    it goes through the same throttled password check (:meth:`checked_attempt`) and opens its
    session with :meth:`open_session`, in the transaction that accepts the invitation."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], hashing: PasswordHashing = DEFAULT_HASHING) -> None:
        self._sessions = sessions
        self._hashing = hashing

    # --- signing in ---

    async def login(
        self, email: str, password: str, ip: str, now: dt.datetime | None = None
    ) -> tuple[SignedInAgent, str] | None:
        """A new session and its cookie token, ``None`` for a wrong email or password, or an
        account that works for no store.

        Raises :class:`LoginThrottled` after too many recent failures for this email or this
        address, before even looking at the password; :class:`PasswordCheckBusy` when this
        process is already checking as many passwords as it may.
        """
        now = now or utc_now()
        email = normalise_email(email)[:320]
        attempt = await self.checked_attempt(email, password, ip, now)
        if attempt is None or not attempt.has_store:
            return None
        async with self._sessions() as session, session.begin():
            await self.forget_failures(session, email)
            await session.execute(delete(AgentSession).where(AgentSession.expires_at <= now))
            assert attempt.agent_id is not None
            token = self.open_session(session, attempt.agent_id, now)
        return await self.signed_in(token, now)

    async def checked_attempt(self, email: str, password: str, ip: str, now: dt.datetime) -> LoginAttempt | None:
        """A throttled password check for ``email`` (already normalised): the attempt, when the
        password is the account's; ``None`` for a wrong one or an unknown email.

        Raises :class:`LoginThrottled` and :class:`PasswordCheckBusy` as :meth:`login` does."""
        attempt = await self._reserve_attempt(email, ip, now)
        if not await self.check_password(attempt, password):
            return None
        return attempt

    async def _reserve_attempt(self, email: str, ip: str, now: dt.datetime) -> LoginAttempt:
        """Count this attempt as a failure before the password is checked, in the transaction
        that checks the limits: of N parallel attempts at most the limit get to a password
        check. Throttled attempts are not counted (rolled back)."""
        ip = ip[:64]
        since = now - FAILURE_WINDOW
        async with self._sessions() as session, session.begin():
            await _serialise(session, (f"login-email:{email}", f"login-ip:{ip}"))
            attempt = LoginFailure(email=email, ip=ip, at=now)
            session.add(attempt)
            await session.flush()  # on SQLite, the first statement: it takes the write lock
            for column, value, limit in (
                (LoginFailure.email, email, MAX_FAILURES_PER_EMAIL),
                (LoginFailure.ip, ip, MAX_FAILURES_PER_IP),
            ):
                count, oldest = (
                    await session.execute(
                        select(func.count(), func.min(LoginFailure.at)).where(column == value, LoginFailure.at > since)
                    )
                ).one()
                if count > limit:
                    oldest_at = oldest if isinstance(oldest, dt.datetime) else now
                    if oldest_at.tzinfo is None:
                        oldest_at = oldest_at.replace(tzinfo=dt.UTC)
                    raise LoginThrottled(max(1, int((oldest_at + FAILURE_WINDOW - now).total_seconds()) + 1))
            agent = await session.scalar(select(Agent).where(Agent.email == email))
            stores = 0
            if agent is not None:
                stores = (
                    await session.scalar(
                        select(func.count()).select_from(AgentMembership).where(AgentMembership.agent_id == agent.id)
                    )
                    or 0
                )
        return LoginAttempt(attempt.id, agent.id if agent else None, agent.password_hash if agent else "", stores > 0)

    async def check_password(self, attempt: LoginAttempt, password: str) -> bool:
        """Check the password of a reserved attempt. A right one leaves the failure row to the
        caller's cleanup; if no check could be made (busy), the reservation is given back."""
        try:
            ok = await self._hashing.verify(attempt.password_hash, password)
        except PasswordCheckBusy:
            async with self._sessions() as session, session.begin():
                await session.execute(delete(LoginFailure).where(LoginFailure.id == attempt.id))
            raise
        return ok and attempt.agent_id is not None

    @staticmethod
    async def forget_failures(session: AsyncSession, email: str) -> None:
        """A right password clears the email's failed attempts (in the caller's transaction)."""
        await session.execute(delete(LoginFailure).where(LoginFailure.email == email))

    @staticmethod
    def open_session(session: AsyncSession, agent_id: int, now: dt.datetime) -> str:
        """A new session for the account, in the caller's transaction; returns its cookie token."""
        token = secrets.token_urlsafe(32)
        session.add(
            AgentSession(
                token_hash=token_hash(token),
                agent_id=agent_id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
                last_seen_at=now,
            )
        )
        return token

    async def signed_in(self, token: str, now: dt.datetime) -> tuple[SignedInAgent, str]:
        """The agent behind a session just opened (and committed), with its token."""
        signed_in = await self.session_for(token, now=now)
        assert signed_in is not None
        return signed_in, token

    async def session_for(self, token: str | None, now: dt.datetime | None = None) -> SignedInAgent | None:
        """The signed-in agent behind a cookie token, with their stores."""
        if not token:
            return None
        now = now or utc_now()
        digest = token_hash(token)
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(AgentSession, Agent)
                    .join(Agent, Agent.id == AgentSession.agent_id)
                    .where(AgentSession.token_hash == digest, AgentSession.expires_at > now)
                )
            ).first()
            if row is None or not hmac.compare_digest(row[0].token_hash, digest):
                return None
            agent_session, agent = row
            stores = (
                await session.execute(
                    select(Store.id, Store.name, AgentMembership.role)
                    .join(AgentMembership, AgentMembership.store_id == Store.id)
                    .where(AgentMembership.agent_id == agent.id)
                    .order_by(Store.name)
                )
            ).all()
        if not stores:
            return None  # taken off its last store: nothing to sign in to
        return SignedInAgent(
            agent.id, agent.email, agent.name, tuple(StoreRef(*s) for s in stores), agent_session.csrf_token
        )

    async def seen(self, token: str, now: dt.datetime | None = None) -> None:
        """Mark the console behind this token as online now."""
        now = now or utc_now()
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(AgentSession)
                .where(AgentSession.token_hash == token_hash(token), AgentSession.last_seen_at < now - SEEN_RESOLUTION)
                .values(last_seen_at=now)
            )

    async def offline(self, token: str) -> None:
        """The console closed its live feed: no longer counted as online."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(AgentSession)
                .where(AgentSession.token_hash == token_hash(token))
                .values(last_seen_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            )

    async def logout(self, token: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(delete(AgentSession).where(AgentSession.token_hash == token_hash(token)))
