"""Settings, read once from the environment.

Every process (gateway, action server, command line, stack runner) calls
:func:`get_settings` and passes the values down; nothing else reads
``os.environ`` for configuration. Defaults give a working embedded setup:
SQLite files under ``var/`` and every service on loopback.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    #: Where runtime files live (SQLite databases, generated secrets, logs).
    var_dir: Path
    #: The store database, as an SQLAlchemy async URL.
    database_url: str
    #: Rasa's tracker store: empty means a SQLite file in ``var_dir``.
    tracker_store_url: str
    #: Rasa's lock store: empty means in-memory (one Rasa process);
    #: ``redis://host:port/db`` to scale out.
    lock_store_url: str
    rasa_host: str
    rasa_port: int
    action_server_host: str
    action_server_port: int
    #: Token for Rasa's HTTP API (``--auth-token``).
    rasa_token: str = field(repr=False)
    #: The public web gateway (the only entry point meant for the internet).
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    #: Shopper messages per minute in one conversation, and API requests per
    #: minute from one IP address; over that, 429 with Retry-After.
    conversation_messages_per_minute: int = 30
    ip_requests_per_minute: int = 300
    #: After this many failed identity checks the bot stops asking.
    max_identity_attempts: int = 3
    #: Where shoppers reach the gateway from outside (links to uploaded manuals);
    #: empty means the gateway's own address.
    public_url: str = ""
    #: Proxies (addresses or networks) whose ``X-Forwarded-For`` is believed, e.g. the TLS
    #: proxy in front of the gateway; empty means the peer address is the client.
    trusted_proxies: str = ""

    @property
    def rasa_url(self) -> str:
        return f"http://{self.rasa_host}:{self.rasa_port}"

    @property
    def gateway_url(self) -> str:
        host = "127.0.0.1" if self.gateway_host in ("0.0.0.0", "::") else self.gateway_host
        return f"http://{host}:{self.gateway_port}"

    @property
    def public_base_url(self) -> str:
        return (self.public_url or self.gateway_url).rstrip("/")

    @property
    def action_server_url(self) -> str:
        return f"http://{self.action_server_host}:{self.action_server_port}/webhook"

    @property
    def tracker_sqlite_path(self) -> Path:
        return self.var_dir / "rasa_tracker.db"


def normalize_database_url(url: str) -> str:
    """Turn a plain ``postgresql://`` or ``sqlite:///`` URL into its async form."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"DATABASE_URL is not a URL: {url!r}")
    base = scheme.split("+", 1)[0]
    if base in ("postgres", "postgresql"):
        return f"postgresql+asyncpg://{rest}"
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    raise ValueError(f"DATABASE_URL must be sqlite or postgresql, not {scheme!r}")


def _read_or_create_secret(path: Path) -> str:
    """A secret generated once at setup and kept in ``var/``, never in code."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
        return value


def load_settings(env: dict[str, str] | os._Environ = os.environ) -> Settings:
    var_dir = Path(env.get("VAR_DIR", PROJECT_ROOT / "var")).resolve()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'store.db'}"
    return Settings(
        var_dir=var_dir,
        database_url=normalize_database_url(database_url),
        tracker_store_url=env.get("RASA_TRACKER_STORE_URL", ""),
        lock_store_url=env.get("RASA_LOCK_STORE_URL", ""),
        rasa_host="127.0.0.1",
        rasa_port=int(env.get("RASA_PORT", "5005")),
        action_server_host="127.0.0.1",
        action_server_port=int(env.get("ACTION_SERVER_PORT", "5055")),
        rasa_token=env.get("RASA_TOKEN") or _read_or_create_secret(var_dir / "rasa_token"),
        gateway_host=env.get("GATEWAY_HOST", "127.0.0.1"),
        gateway_port=int(env.get("GATEWAY_PORT", "8080")),
        conversation_messages_per_minute=int(env.get("RATE_LIMIT_CONVERSATION_PER_MINUTE", "30")),
        ip_requests_per_minute=int(env.get("RATE_LIMIT_IP_PER_MINUTE", "300")),
        public_url=env.get("PUBLIC_URL", ""),
        trusted_proxies=env.get("TRUSTED_PROXIES", ""),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as environment variables: what a child process needs to
    read the same settings back with :func:`load_settings`."""
    return {
        "VAR_DIR": str(settings.var_dir),
        "DATABASE_URL": settings.database_url,
        "RASA_TRACKER_STORE_URL": settings.tracker_store_url,
        "RASA_LOCK_STORE_URL": settings.lock_store_url,
        "RASA_PORT": str(settings.rasa_port),
        "ACTION_SERVER_PORT": str(settings.action_server_port),
        "RASA_TOKEN": settings.rasa_token,
        "GATEWAY_HOST": settings.gateway_host,
        "GATEWAY_PORT": str(settings.gateway_port),
        "RATE_LIMIT_CONVERSATION_PER_MINUTE": str(settings.conversation_messages_per_minute),
        "RATE_LIMIT_IP_PER_MINUTE": str(settings.ip_requests_per_minute),
        "PUBLIC_URL": settings.public_url,
        "TRUSTED_PROXIES": settings.trusted_proxies,
    }


def rasa_process_env(settings: Settings) -> dict[str, str]:
    """Environment for the Rasa server, filling the ``${…}`` in endpoints.yml."""
    env = {
        "ACTION_SERVER_URL": settings.action_server_url,
        "RASA_TRACKER_DIALECT": "sqlite",
        "RASA_TRACKER_URL": "",
        "RASA_TRACKER_DB": str(settings.tracker_sqlite_path),
        "RASA_LOCK_STORE_TYPE": "in_memory",
        "RASA_LOCK_STORE_HOST": "",
        "RASA_LOCK_STORE_PORT": "6379",
        "RASA_LOCK_STORE_DB": "1",
    }
    if settings.tracker_store_url:
        tracker = settings.tracker_store_url
        scheme = tracker.split("://", 1)[0].split("+", 1)[0]
        if scheme in ("postgres", "postgresql"):
            # Rasa runs its own SQLAlchemy 1.4 with psycopg2.
            env["RASA_TRACKER_DIALECT"] = "postgresql"
            env["RASA_TRACKER_URL"] = "postgresql://" + tracker.split("://", 1)[1]
        elif scheme == "sqlite":
            env["RASA_TRACKER_DB"] = tracker.split(":///", 1)[1]
        else:
            raise ValueError(f"RASA_TRACKER_STORE_URL must be sqlite or postgresql, not {scheme!r}")
    if settings.lock_store_url:
        parts = urlsplit(settings.lock_store_url)
        if parts.scheme != "redis":
            raise ValueError("RASA_LOCK_STORE_URL must be a redis:// URL")
        env["RASA_LOCK_STORE_TYPE"] = "redis"
        env["RASA_LOCK_STORE_HOST"] = parts.hostname or "127.0.0.1"
        env["RASA_LOCK_STORE_PORT"] = str(parts.port or 6379)
        env["RASA_LOCK_STORE_DB"] = parts.path.lstrip("/") or "1"
    return env
