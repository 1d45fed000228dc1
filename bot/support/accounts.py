"""Console accounts: the agents (support staff) and seller admins who answer a store's shoppers.

Accounts and stores: the operator (``python -m bot agents add``, the import)
makes accounts for any stores. A store's admin only ever *invites* an email
(:meth:`bot.support.staff_invitations.StaffInvitations.invite`), and may take
a person off the store's team (:meth:`AgentAccounts.remove_from_store`). Signing in is
:class:`bot.support.console_sessions.ConsoleSessions`'s. No store ever sees, sets or changes an account's
password or name, and an account without a store cannot sign in.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
    Store,
)
from bot.support.credentials import (
    DEFAULT_HASHING,
    AccountError,
    PasswordHashing,
    check_email,
    check_new_password,
    check_role,
    normalise_email,
)
from bot.support.staff_invitations import withdraw_invitation


class AgentAccounts:
    """The accounts and the stores' teams: make an account, set its password, list a store's
    team, take someone off it. ``hashing`` is the process's one bound on argon2 work."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], hashing: PasswordHashing = DEFAULT_HASHING) -> None:
        self._sessions = sessions
        self._hashing = hashing

    # --- accounts the operator makes ---

    async def add(
        self, email: str, name: str, password: str, store_ids: list[str], role: str = AgentRole.agent.value
    ) -> bool:
        """The operator's way (command line): create an account working for these stores, or add
        them to an existing one (its password is then left alone). True when the account is new.
        Stores' admins never come here: they invite (:mod:`bot.support.staff_invitations`)."""
        email = check_email(email)
        check_role(role)
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
                check_new_password(password)
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

    async def remove_from_store(self, store_id: str, email: str, now: dt.datetime | None = None) -> list[str] | None:
        """Take the account off the store, and withdraw the store's pending invitation to the email.

        Only this store's membership goes: the account keeps its other stores, its name and its
        password (with no store left it is signed out, and cannot sign in). Conversations it was
        holding here go back to the queue: their ids are returned so that the caller resumes them
        in Rasa. ``None`` if the email was neither on the store nor invited to it."""
        now = now or utc_now()
        email = normalise_email(email)
        async with self._sessions() as session, session.begin():
            withdrawn = await withdraw_invitation(session, store_id, email, now)
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
        check_new_password(password)
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
