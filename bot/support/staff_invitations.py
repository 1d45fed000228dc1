"""Staff invitations: how a store's admin brings a person onto the store's team.

The admin only ever *invites* an email (:meth:`StaffInvitations.invite`), whatever
exists elsewhere: the invitation's one-time link lets a new person choose a password
(the account is then that store's), or the holder of an existing account accept with
its password, or signed in. No store ever sees, sets or changes an account's password
or name.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chat.shopper_signatures import token_hash
from bot.core.clock import utc_now
from bot.core.db import rows_changed
from bot.core.models import Agent, AgentMembership, InvitationStatus, StaffInvitation, Store, iso_utc
from bot.support.console_sessions import ConsoleSessions, SignedInAgent
from bot.support.credentials import (
    DEFAULT_HASHING,
    AccountError,
    PasswordHashing,
    check_email,
    check_new_password,
    check_role,
)

#: How long an invitation link works.
INVITATION_LIFETIME = dt.timedelta(days=7)


class InvitationNotFound(LookupError):
    """No pending invitation behind this link (used, withdrawn, declined, expired or never made),
    or not one for the signed-in account."""


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


def _invitation(row: StaffInvitation, store_name: str) -> Invitation:
    return Invitation(
        row.id, row.store_id, store_name, row.email, row.name, row.role, row.invited_by, row.created_at, row.expires_at
    )


async def withdraw_invitation(session: AsyncSession, store_id: str, email: str, now: dt.datetime) -> int:
    """Withdraw the store's pending invitation to the email, in the caller's transaction (a newer
    invitation replaces it, or the person is taken off the team); how many were withdrawn."""
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


class StaffInvitations:
    """Invitations to a store's team: invite, list, accept, decline, and join by the link.

    Joining signs the person in: the session is opened by ``console`` (the console's sign-in
    service), in the transaction that accepts the invitation; a new person's chosen password is
    hashed with ``hashing``, the process's one bound on argon2 work."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        console: ConsoleSessions,
        hashing: PasswordHashing = DEFAULT_HASHING,
    ) -> None:
        self._sessions = sessions
        self._console = console
        self._hashing = hashing

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
        email = check_email(email)
        check_role(role)
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
            await withdraw_invitation(session, store_id, email, now)
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
        check_new_password(password)
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
                    token_value = self._console.open_session(session, agent.id, now)
            except IntegrityError:
                # The same email got an account a moment ago (another link, the operator): the
                # link now works like an existing account's.
                return await self.join(token, password, name, ip, now)
            return await self._console.signed_in(token_value, now)
        attempt = await self._console.checked_attempt(row.email, password, ip, now)
        if attempt is None:
            return None
        async with self._sessions() as session, session.begin():
            row = await self._pending(session, token, now)
            account = await session.get(Agent, attempt.agent_id)
            if account is None or account.email != row.email:
                raise InvitationNotFound()
            await self._accept(session, row, account, now)
            await self._console.forget_failures(session, row.email)
            token_value = self._console.open_session(session, account.id, now)
        return await self._console.signed_in(token_value, now)
