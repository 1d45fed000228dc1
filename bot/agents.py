"""Console accounts: agents (support staff) and seller admins of one or more stores.

Passwords are hashed with argon2id, off the event loop (a hash takes tens of
milliseconds on purpose). Sessions are random cookie tokens of which only the
SHA-256 is kept, each with its own CSRF token. Failed logins are counted in
the database, so the limit holds across gateway processes and restarts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import utc_now
from bot.identity import token_hash
from bot.models import (
    Agent,
    AgentMembership,
    AgentRole,
    AgentSession,
    Conversation,
    Escalation,
    EscalationStatus,
    LoginFailure,
    Store,
)

SESSION_LIFETIME = dt.timedelta(hours=12)
#: Failed logins counted over this window…
FAILURE_WINDOW = dt.timedelta(minutes=15)
#: …at most this many for one email, and for one IP address (a guesser tries many emails).
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 20
#: Sessions refresh ``last_seen_at`` at most this often (one write per minute, not per request).
SEEN_RESOLUTION = dt.timedelta(seconds=20)
MIN_PASSWORD_CHARS = 10

_hasher = PasswordHasher()
#: Verified against when the email is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash or _DUMMY_HASH, password)


class LoginThrottled(PermissionError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


class AccountError(ValueError):
    """A bad ``agents add``: the message says what to fix."""


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


class AgentAccounts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # --- accounts ---

    async def add(
        self, email: str, name: str, password: str, store_ids: list[str], role: str = AgentRole.agent.value
    ) -> bool:
        """Create an agent, or add stores to an existing one (the password is then left alone).
        True when the account is new."""
        email = normalise_email(email)
        if "@" not in email or len(email) > 320:
            raise AccountError(f"{email!r} is not an email address")
        if role not in AgentRole.__members__:
            raise AccountError(f"role must be one of {', '.join(AgentRole.__members__)}")
        if not store_ids:
            raise AccountError("name at least one store")
        async with self._sessions() as session, session.begin():
            known = set((await session.scalars(select(Store.id).where(Store.id.in_(store_ids)))).all())
            missing = [s for s in store_ids if s not in known]
            if missing:
                raise AccountError(f"unknown store {', '.join(missing)}")
            agent = await session.scalar(select(Agent).where(Agent.email == email))
            created = agent is None
            if agent is None:
                if len(password) < MIN_PASSWORD_CHARS:
                    raise AccountError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
                agent = Agent(email=email, name=name.strip() or email, password_hash=await hash_password(password))
                session.add(agent)
                await session.flush()
            for store_id in store_ids:
                membership = await session.get(AgentMembership, (agent.id, store_id))
                if membership is None:
                    session.add(AgentMembership(agent_id=agent.id, store_id=store_id, role=role))
                else:
                    membership.role = role
            return created

    async def team(self, store_id: str) -> list[dict[str, str]]:
        """The store's agents and seller admins."""
        rows = await self.list(store_id)
        return [{"email": email, "name": name, "role": role} for email, name, _, role in rows]

    async def remove_from_store(self, store_id: str, email: str) -> list[str] | None:
        """Take the account off the store (it keeps its other stores; with none left it is signed
        out). Conversations it was holding there go back to the queue: their ids are returned so
        that the caller resumes them in Rasa. ``None`` if the account was not on the store."""
        async with self._sessions() as session, session.begin():
            agent = await session.scalar(select(Agent).where(Agent.email == normalise_email(email)))
            if agent is None:
                return None
            removed = await session.execute(
                delete(AgentMembership).where(AgentMembership.agent_id == agent.id, AgentMembership.store_id == store_id)
            )
            if not removed.rowcount:
                return None
            left = await session.scalar(
                select(func.count()).select_from(AgentMembership).where(AgentMembership.agent_id == agent.id)
            )
            if not left:
                await session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))
            held = list(
                (
                    await session.scalars(
                        select(Conversation.id).where(Conversation.store_id == store_id, Conversation.handled_by == agent.id)
                    )
                ).all()
            )
            if held:
                now = utc_now()
                await session.execute(
                    update(Conversation).where(Conversation.id.in_(held)).values(handled_by=None, handled_since=None)
                )
                await session.execute(
                    update(Escalation)
                    .where(Escalation.conversation_id.in_(held), Escalation.status == EscalationStatus.claimed.value)
                    .values(status=EscalationStatus.open.value, claimed_by=None, claimed_at=None, updated_at=now)
                )
            return held

    async def set_password(self, email: str, password: str) -> bool:
        if len(password) < MIN_PASSWORD_CHARS:
            raise AccountError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
        digest = await hash_password(password)
        async with self._sessions() as session, session.begin():
            agent = await session.scalar(select(Agent).where(Agent.email == normalise_email(email)))
            if agent is None:
                return False
            agent.password_hash = digest
            # A new password signs every console out.
            await session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))
            return True

    async def password_works(self, email: str, password: str) -> bool:
        async with self._sessions() as session:
            digest = await session.scalar(select(Agent.password_hash).where(Agent.email == normalise_email(email)))
        return digest is not None and await verify_password(digest, password)

    async def list(self, store_id: str | None = None) -> list[tuple[str, str, str, str]]:
        """(email, name, store, role) rows."""
        query = (
            select(Agent.email, Agent.name, AgentMembership.store_id, AgentMembership.role)
            .join(AgentMembership, AgentMembership.agent_id == Agent.id)
            .order_by(Agent.email, AgentMembership.store_id)
        )
        if store_id:
            query = query.where(AgentMembership.store_id == store_id)
        async with self._sessions() as session:
            return [tuple(row) for row in (await session.execute(query)).all()]  # type: ignore[misc]

    # --- signing in ---

    async def login(self, email: str, password: str, ip: str, now: dt.datetime | None = None) -> tuple[SignedInAgent, str] | None:
        """A new session and its cookie token, ``None`` for a wrong email or password.

        Raises :class:`LoginThrottled` after too many recent failures for this
        email or this address, before even looking at the password.
        """
        now = now or utc_now()
        email = normalise_email(email)[:320]
        ip = ip[:64]
        async with self._sessions() as session:
            await self._check_throttle(session, email, ip, now)
            agent = await session.scalar(select(Agent).where(Agent.email == email))
        ok = await verify_password(agent.password_hash if agent else "", password)
        async with self._sessions() as session, session.begin():
            if agent is None or not ok:
                session.add(LoginFailure(email=email, ip=ip, at=now))
                return None
            await session.execute(delete(LoginFailure).where(LoginFailure.email == email))
            await session.execute(delete(AgentSession).where(AgentSession.expires_at <= now))
            token = secrets.token_urlsafe(32)
            session.add(
                AgentSession(
                    token_hash=token_hash(token), agent_id=agent.id, csrf_token=secrets.token_urlsafe(32),
                    created_at=now, expires_at=now + SESSION_LIFETIME, last_seen_at=now,
                )
            )
        signed_in = await self.session_for(token, now=now)
        assert signed_in is not None
        return signed_in, token

    @staticmethod
    async def _check_throttle(session: AsyncSession, email: str, ip: str, now: dt.datetime) -> None:
        since = now - FAILURE_WINDOW
        for column, value, limit in ((LoginFailure.email, email, MAX_FAILURES_PER_EMAIL), (LoginFailure.ip, ip, MAX_FAILURES_PER_IP)):
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(LoginFailure.at)).where(column == value, LoginFailure.at > since)
                )
            ).one()
            if count >= limit:
                oldest_at = oldest if isinstance(oldest, dt.datetime) else now
                if oldest_at.tzinfo is None:
                    oldest_at = oldest_at.replace(tzinfo=dt.timezone.utc)
                raise LoginThrottled(max(1, int((oldest_at + FAILURE_WINDOW - now).total_seconds()) + 1))

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
                .values(last_seen_at=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
            )

    async def logout(self, token: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(delete(AgentSession).where(AgentSession.token_hash == token_hash(token)))
