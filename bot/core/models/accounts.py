"""The store's people: agent and seller-admin accounts, the stores they work for, their
console sessions, failed logins, and invitations to join a store's team.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.clock import utc_now
from bot.core.models.schema import Base


class AgentRole(str, enum.Enum):
    agent = "agent"
    seller_admin = "seller_admin"


class Agent(Base):
    """A person from a store: support staff, or a seller admin. One account may serve several stores."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Stored lower-cased.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: argon2id, never the password.
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    #: The store whose admin created the account through an invitation link; ``None`` for an
    #: account the operator made (CLI, import) or one that has since accepted another store's
    #: invitation, i.e. that its person, not one store, now holds.
    owner_store_id: Mapped[str | None] = mapped_column(ForeignKey("stores.id", ondelete="SET NULL"), default=None)


class AgentMembership(Base):
    """Which stores an agent works for, and as what."""

    __tablename__ = "agent_memberships"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), default=AgentRole.agent.value)


class AgentSession(Base):
    """A signed-in console: only the cookie token's SHA-256 is kept."""

    __tablename__ = "agent_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    #: The synchronizer token every state-changing request must echo.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[dt.datetime]
    #: Refreshed by the console's live feed: an agent seen lately is "online".
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class LoginFailure(Base):
    """A console login attempt that has not succeeded: reserved before the password is checked
    (so parallel attempts count at once), removed again when it turns out right; kept a while to
    slow down password guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_at", "email", "at"), Index("ix_login_failures_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class InvitationStatus(str, enum.Enum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    #: Taken back by the store (or replaced by a newer invitation for the same email).
    withdrawn = "withdrawn"


class StaffInvitation(Base):
    """A store's invitation for an email to join its team with a role.

    Every team addition is one, whether or not the email has an account anywhere: the link
    (its token, of which only the SHA-256 is kept) lets the person set a password for a new
    account, or prove with an existing account's password that they are its holder. Only the
    link's holder can accept, so a store never joins an account someone else set up.
    """

    __tablename__ = "staff_invitations"
    __table_args__ = (Index("ix_staff_invitations_email_status", "email", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    #: Stored lower-cased.
    email: Mapped[str] = mapped_column(String(320))
    #: The name the store gave; used only for a new account (an existing one keeps its own).
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    #: Who invited, as the versions record it ("Wang Fang <wang.fang@…>", "seller API").
    invited_by: Mapped[str] = mapped_column(String(400))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=InvitationStatus.pending.value)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None] = mapped_column(default=None)
