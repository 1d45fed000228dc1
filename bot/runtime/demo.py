"""Demo setup: console passwords for the demo agents, generated once and never in code.

Agents imported without a password (the demo data's) get a random one; the
plain passwords are kept in ``var/demo_agents.json`` (mode 0600) so that
``make run`` can print them, as it prints everything else the demo needs.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.models import Agent
from bot.support.credentials import hash_password, verify_password

DEMO_AGENTS_FILE = "demo_agents.json"


def read_demo_agents(var_dir: Path) -> dict[str, str]:
    """email → password of the demo agents, as generated at setup."""
    try:
        data = json.loads((var_dir / DEMO_AGENTS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write(var_dir: Path, passwords: dict[str, str]) -> None:
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / DEMO_AGENTS_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(passwords, fh, indent=2)
    tmp.replace(path)


async def ensure_demo_agent_passwords(sessions: async_sessionmaker[AsyncSession], var_dir: Path) -> list[str]:
    """Give every agent without a password one; returns their emails.

    An agent whose password is in the file keeps it; one whose file entry no
    longer works (a fresh database) gets the file's password back.
    """
    known = read_demo_agents(var_dir)
    created: list[str] = []
    async with sessions() as session, session.begin():
        for agent in (await session.scalars(select(Agent).order_by(Agent.email))).all():
            if agent.password_hash:
                continue
            password = known.get(agent.email) or secrets.token_urlsafe(12)
            agent.password_hash = await hash_password(password)
            known[agent.email] = password
            created.append(agent.email)
        # Drop entries whose account has since got another password.
        for email, password in list(known.items()):
            digest = await session.scalar(select(Agent.password_hash).where(Agent.email == email))
            if digest is None or not await verify_password(digest, password):
                del known[email]
    _write(var_dir, known)
    return created
