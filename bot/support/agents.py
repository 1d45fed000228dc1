"""Console accounts: agents (support staff) and seller admins of one or more stores.

Passwords are hashed with argon2id, off the event loop and at most a few at a
time per process (:class:`PasswordHashing`: a hash takes tens of milliseconds
and 64 MiB on purpose). Sessions are random cookie tokens of which only the
SHA-256 is kept, each with its own CSRF token.

Failed logins are counted in the database, so the limit holds across gateway
processes and restarts. An attempt is *reserved* (its row inserted and the
recent rows counted, under a lock on the email and the address) before the
password is checked, in one transaction: parallel attempts cannot all see
"no failures yet".

Accounts and stores: the operator (``python -m bot agents add``, the import)
makes accounts for any stores. A store's admin only ever *invites* an email
(:meth:`AgentAccounts.invite`), whatever exists elsewhere: the invitation's
one-time link lets a new person choose a password (the account is then that
store's), or the holder of an existing account accept with its password, or
signed in. No store ever sees, sets or changes an account's password or name,
and an account without a store cannot sign in.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import secrets
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.shopper_signatures import token_hash
from bot.core.clock import utc_now
from bot.core.db import rows_changed
from bot.core.models import (
    Agent,
    AgentMembership,
    AgentRole,
    AgentSession,
    Conversation,
    Escalation,
    EscalationStatus,
    InvitationStatus,
    LoginFailure,
    StaffInvitation,
    Store,
    iso_utc,
)
from bot.core.refusals import Refusal

SESSION_LIFETIME = dt.timedelta(hours=12)
#: Failed logins counted over this window…
FAILURE_WINDOW = dt.timedelta(minutes=15)
#: …at most this many for one email, and for one IP address (a guesser tries many emails).
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 20
#: Sessions refresh ``last_seen_at`` at most this often (one write per minute, not per request).
SEEN_RESOLUTION = dt.timedelta(seconds=20)
MIN_PASSWORD_CHARS = 10
#: How long an invitation link works.
INVITATION_LIFETIME = dt.timedelta(days=7)

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


class LoginThrottled(Refusal, PermissionError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("login_throttled", retry_after=retry_after)
        self.retry_after = retry_after


class AccountError(Refusal, ValueError):
    """A bad ``agents add`` or invitation: the message says what to fix."""


class InvitationNotFound(LookupError):
    """No pending invitation behind this link (used, withdrawn, declined, expired or never made),
    or not one for the signed-in account."""


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
class Invitation:
    id: int
    store_id: str
    store_name: str
    email: str
    name: str
    role: str
    invited_by: str
    created_at: dt.datetime
    expires_at: dt.datetime

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "store": {"id": self.store_id, "name": self.store_name},
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "invited_by": self.invited_by,
            "created_at": iso_utc(self.created_at),
            "expires_at": iso_utc(self.expires_at),
        }


@dataclass(frozen=True)
class IssuedInvitation:
    """A new invitation and its link's token: shown once to the inviting admin, who passes it on."""

    invitation: Invitation
    token: str


@dataclass(frozen=True)
class _Attempt:
    """A reserved login attempt: its failure row, and the account it is for (if any)."""

    id: int
    agent_id: int | None
    password_hash: str
    has_store: bool


def _invitation(row: StaffInvitation, store_name: str) -> Invitation:
    return Invitation(
        row.id, row.store_id, store_name, row.email, row.name, row.role, row.invited_by, row.created_at, row.expires_at
    )


def _check_email(email: str) -> str:
    email = normalise_email(email)
    if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
        raise AccountError("email_invalid", email=email)
    return email


def _check_role(role: str) -> None:
    if role not in AgentRole.__members__:
        raise AccountError("role_invalid", roles=", ".join(AgentRole.__members__))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError("password_too_short", min_chars=MIN_PASSWORD_CHARS)


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


class AgentAccounts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], hashing: PasswordHashing | None = None) -> None:
        self._sessions = sessions
        self._hashing = hashing or DEFAULT_HASHING

    # --- accounts the operator makes ---

    async def add(
        self, email: str, name: str, password: str, store_ids: list[str], role: str = AgentRole.agent.value
    ) -> bool:
        """The operator's way (command line): create an account working for these stores, or add
        them to an existing one (its password is then left alone). True when the account is new.
        Stores' admins never come here: they :meth:`invite`."""
        email = _check_email(email)
        _check_role(role)
        if not store_ids:
            raise AccountError("stores_missing")
        async with self._sessions() as session, session.begin():
            known = set((await session.scalars(select(Store.id).where(Store.id.in_(store_ids)))).all())
            missing = [s for s in store_ids if s not in known]
            if missing:
                raise AccountError("store_unknown_named", store=", ".join(missing))
            agent = await session.scalar(select(Agent).where(Agent.email == email))
            created = agent is None
            if agent is None:
                _check_password(password)
                agent = Agent(email=email, name=name.strip() or email, password_hash=await self._hashing.hash(password))
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

    # --- invitations: how a store's admin adds someone ---

    async def invite(
        self, store_id: str, email: str, name: str, role: str, invited_by: str, now: dt.datetime | None = None
    ) -> IssuedInvitation | None:
        """Invite an email to the store's team; ``None`` when it already is a member here, whose
        role is then changed instead (the store's own business).

        Whether the email has an account elsewhere changes nothing here: the answer is an
        invitation either way, and the link decides (:meth:`join`). A newer invitation for the
        same email replaces a pending one."""
        now = now or utc_now()
        email = _check_email(email)
        _check_role(role)
        name = name.strip()[:200]
        if not name:
            raise AccountError("member_name_missing")
        async with self._sessions() as session, session.begin():
            store = await session.get(Store, store_id)
            if store is None:
                raise AccountError("store_unknown_named", store=store_id)
            membership = await session.scalar(
                select(AgentMembership)
                .join(Agent, Agent.id == AgentMembership.agent_id)
                .where(Agent.email == email, AgentMembership.store_id == store_id)
            )
            if membership is not None:
                membership.role = role
                return None
            await self._withdraw(session, store_id, email, now)
            token = secrets.token_urlsafe(32)
            row = StaffInvitation(
                store_id=store_id,
                email=email,
                name=name,
                role=role,
                invited_by=invited_by[:400],
                token_hash=token_hash(token),
                status=InvitationStatus.pending.value,
                created_at=now,
                expires_at=now + INVITATION_LIFETIME,
            )
            session.add(row)
            await session.flush()
            return IssuedInvitation(_invitation(row, store.name), token)

    @staticmethod
    async def _withdraw(session: AsyncSession, store_id: str, email: str, now: dt.datetime) -> int:
        result = await session.execute(
            update(StaffInvitation)
            .where(
                StaffInvitation.store_id == store_id,
                StaffInvitation.email == email,
                StaffInvitation.status == InvitationStatus.pending.value,
            )
            .values(status=InvitationStatus.withdrawn.value, answered_at=now)
        )
        return rows_changed(result) or 0

    async def store_invitations(self, store_id: str, now: dt.datetime | None = None) -> list[Invitation]:
        """The store's invitations still waiting for an answer, newest first."""
        return await self._waiting_invitations(StaffInvitation.store_id == store_id, now or utc_now())

    async def my_invitations(self, agent: SignedInAgent, now: dt.datetime | None = None) -> list[Invitation]:
        """Invitations waiting for the signed-in account's answer (its email's)."""
        return await self._waiting_invitations(StaffInvitation.email == agent.email, now or utc_now())

    async def _waiting_invitations(self, whose: Any, now: dt.datetime) -> list[Invitation]:
        """Pending, unexpired invitations matching ``whose``, newest first."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(StaffInvitation, Store.name)
                    .join(Store, Store.id == StaffInvitation.store_id)
                    .where(
                        whose,
                        StaffInvitation.status == InvitationStatus.pending.value,
                        StaffInvitation.expires_at > now,
                    )
                    .order_by(StaffInvitation.created_at.desc(), StaffInvitation.id.desc())
                )
            ).all()
        return [_invitation(row, store_name) for row, store_name in rows]

    async def invitation(self, token: str, now: dt.datetime | None = None) -> Invitation:
        """What a link invites to (store, role, email): the same for a new and an existing email."""
        now = now or utc_now()
        async with self._sessions() as session:
            row = await self._pending(session, token, now)
            store = await session.get(Store, row.store_id)
        return _invitation(row, store.name if store else row.store_id)

    @staticmethod
    async def _pending(session: AsyncSession, token: str, now: dt.datetime) -> StaffInvitation:
        digest = token_hash(token or "")
        row = await session.scalar(select(StaffInvitation).where(StaffInvitation.token_hash == digest))
        if (
            row is None
            or not hmac.compare_digest(row.token_hash, digest)
            or row.status != InvitationStatus.pending.value
            or row.expires_at <= now
        ):
            raise InvitationNotFound()
        return row

    @staticmethod
    async def _answer(session: AsyncSession, row: StaffInvitation, status: InvitationStatus, now: dt.datetime) -> None:
        """Mark the invitation answered, once: of two answers at the same moment, one wins."""
        answered = await session.execute(
            update(StaffInvitation)
            .where(StaffInvitation.id == row.id, StaffInvitation.status == InvitationStatus.pending.value)
            .values(status=status.value, answered_at=now)
        )
        if not rows_changed(answered):
            raise InvitationNotFound()

    @classmethod
    async def _accept(cls, session: AsyncSession, row: StaffInvitation, agent: Agent, now: dt.datetime) -> None:
        await cls._answer(session, row, InvitationStatus.accepted, now)
        membership = await session.get(AgentMembership, (agent.id, row.store_id))
        if membership is None:
            session.add(AgentMembership(agent_id=agent.id, store_id=row.store_id, role=row.role))
        else:
            membership.role = row.role
        if agent.owner_store_id is not None and agent.owner_store_id != row.store_id:
            # It now works for two stores by its holder's own choice: neither store owns it.
            agent.owner_store_id = None

    async def accept(self, agent: SignedInAgent, token: str, now: dt.datetime | None = None) -> Invitation:
        """The signed-in account accepts the invitation behind this link (it must be its email's).

        The link is needed, not only the sign-in: whoever set up an account for this email
        before (another store, for one) cannot accept what the store sent to its real person."""
        now = now or utc_now()
        async with self._sessions() as session, session.begin():
            row = await self._pending(session, token, now)
            account = await session.get(Agent, agent.id)
            if account is None or row.email != account.email:
                raise InvitationNotFound()
            await self._accept(session, row, account, now)
            store = await session.get(Store, row.store_id)
        return _invitation(row, store.name if store else row.store_id)

    async def decline(self, agent: SignedInAgent, invitation_id: int, now: dt.datetime | None = None) -> None:
        """The signed-in account turns down an invitation to its email (the store sees it go)."""
        now = now or utc_now()
        async with self._sessions() as session, session.begin():
            row = await session.get(StaffInvitation, invitation_id)
            if (
                row is None
                or row.email != agent.email
                or row.status != InvitationStatus.pending.value
                or row.expires_at <= now
            ):
                raise InvitationNotFound()
            await self._answer(session, row, InvitationStatus.declined, now)

    async def join(
        self, token: str, password: str, name: str, ip: str, now: dt.datetime | None = None
    ) -> tuple[SignedInAgent, str] | None:
        """Follow an invitation link: a signed-in session for its email's account, ``None`` for a
        wrong password.

        No account for the email yet: the password (and name) are the person's choice, and the
        new account is the inviting store's. An existing account: the password must be its own
        (a throttled login, as at the sign-in form); the account keeps its name and password.
        """
        now = now or utc_now()
        _check_password(password)
        async with self._sessions() as session:
            row = await self._pending(session, token, now)
            exists = await session.scalar(select(Agent.id).where(Agent.email == row.email))
        if exists is None:
            digest = await self._hashing.hash(password)
            try:
                async with self._sessions() as session, session.begin():
                    row = await self._pending(session, token, now)
                    agent = Agent(
                        email=row.email,
                        name=(name.strip()[:200] or row.name),
                        password_hash=digest,
                        owner_store_id=row.store_id,
                        created_at=now,
                    )
                    session.add(agent)
                    await session.flush()
                    await self._accept(session, row, agent, now)
                    token_value = self._open_session(session, agent.id, now)
            except IntegrityError:
                # The same email got an account a moment ago (another link, the operator): the
                # link now works like an existing account's.
                return await self.join(token, password, name, ip, now)
            return await self._signed_in(token_value, now)
        attempt = await self._reserve_attempt(row.email, ip, now)
        if not await self._check_password(attempt, password):
            return None
        async with self._sessions() as session, session.begin():
            row = await self._pending(session, token, now)
            account = await session.get(Agent, attempt.agent_id)
            if account is None or account.email != row.email:
                raise InvitationNotFound()
            await self._accept(session, row, account, now)
            await session.execute(delete(LoginFailure).where(LoginFailure.email == row.email))
            token_value = self._open_session(session, account.id, now)
        return await self._signed_in(token_value, now)

    async def remove_from_store(self, store_id: str, email: str, now: dt.datetime | None = None) -> list[str] | None:
        """Take the account off the store, and withdraw the store's pending invitation to the email.

        Only this store's membership goes: the account keeps its other stores, its name and its
        password (with no store left it is signed out, and cannot sign in). Conversations it was
        holding here go back to the queue: their ids are returned so that the caller resumes them
        in Rasa. ``None`` if the email was neither on the store nor invited to it."""
        now = now or utc_now()
        email = normalise_email(email)
        async with self._sessions() as session, session.begin():
            withdrawn = await self._withdraw(session, store_id, email, now)
            agent = await session.scalar(select(Agent).where(Agent.email == email))
            removed = None
            if agent is not None:
                removed = await session.execute(
                    delete(AgentMembership).where(AgentMembership.agent_id == agent.id, AgentMembership.store_id == store_id)
                )
            if agent is None or not removed or not rows_changed(removed):
                return [] if withdrawn else None
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
        """The operator's way (command line) to set a password; no store can."""
        _check_password(password)
        digest = await self._hashing.hash(password)
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
        return digest is not None and await self._hashing.verify(digest, password)

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
            return [(email, name, store, role) for email, name, store, role in (await session.execute(query)).tuples()]

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
        attempt = await self._reserve_attempt(email, ip, now)
        if not await self._check_password(attempt, password) or not attempt.has_store:
            return None
        async with self._sessions() as session, session.begin():
            await session.execute(delete(LoginFailure).where(LoginFailure.email == email))
            await session.execute(delete(AgentSession).where(AgentSession.expires_at <= now))
            assert attempt.agent_id is not None
            token = self._open_session(session, attempt.agent_id, now)
        return await self._signed_in(token, now)

    async def _reserve_attempt(self, email: str, ip: str, now: dt.datetime) -> _Attempt:
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
        return _Attempt(attempt.id, agent.id if agent else None, agent.password_hash if agent else "", stores > 0)

    async def _check_password(self, attempt: _Attempt, password: str) -> bool:
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
    def _open_session(session: AsyncSession, agent_id: int, now: dt.datetime) -> str:
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

    async def _signed_in(self, token: str, now: dt.datetime) -> tuple[SignedInAgent, str]:
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
