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

PROJECT_ROOT = Path(__file__).resolve().parents[2]


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
    #: The shopper identity check's lockout (bot/orders/identity_checks.py): after this many failed
    #: checks of one order, or from one client address, within the window, that order (or
    #: address) is locked: for ``identity_lock_minutes`` the first time, twice as long each
    #: time after, at most ``identity_longest_lock_minutes``.
    identity_failures_per_order: int = 5
    identity_failures_per_address: int = 10
    identity_window_minutes: int = 60
    identity_lock_minutes: int = 60
    identity_longest_lock_minutes: int = 1440
    #: Console sign-ins (and invitation links) per minute from one client address, in one
    #: gateway process; over that, 429. Failed logins are also counted in the database.
    login_attempts_per_minute: int = 20
    #: Password hashes computed at once in one process (each takes about 64 MiB and 100 ms of a
    #: core), and how many more may wait for one; beyond that a sign-in answers 503 at once.
    password_hash_workers: int = 2
    password_hash_waiting: int = 8
    #: New escalations (cases in the agents' queue) one conversation may open per day, and one
    #: client address (IPv4, or IPv6 /64) per hour; over that, no new case (bot/support/escalations.py).
    escalations_per_conversation_per_day: int = 3
    escalations_per_address_per_hour: int = 10
    #: Open websockets per conversation and per client address, in one gateway process.
    websockets_per_conversation: int = 3
    websockets_per_address: int = 20
    #: Where shoppers reach the gateway from outside (links to uploaded manuals);
    #: empty means the gateway's own address.
    public_url: str = ""
    #: Proxies (addresses or networks) whose ``X-Forwarded-For`` is believed, e.g. the TLS
    #: proxy in front of the gateway; empty means the peer address is the client.
    trusted_proxies: str = ""
    #: How old a shopper signature's signed time (``ts``) may be when a conversation starts. The
    #: store signs when it makes the page, so this is how long a page may be cached or left open
    #: before the chat starts; after that the widget asks the shopper to reload the page.
    shopper_signature_max_age_seconds: int = 3600
    #: Demo mode (``make run`` sets DEMO=1): the demo store's product page at ``/``, signed in as
    #: the demo shopper. Off unless asked for: production serves no page that vouches for anyone.
    demo: bool = False
    #: The demo's SMTP sink (``python -m bot mail-sink``, which ``make run`` starts when no SMTP_HOST is
    #: set): its loopback port, and the Maildir keeping every email it accepts (None: ``var/mail_sink``),
    #: which the demo inbox at /demo/inbox reads.
    mail_sink_port: int = 2525
    mail_sink_dir: Path | None = None
    #: Outgoing email (bot/email/): the SMTP server the worker sends through. No host means no
    #: email at all. ``smtp_tls``: ``starttls`` (upgrade a plain connection, usually port 587),
    #: ``tls`` (TLS from the start, usually port 465) or ``none`` (a local relay or test sink).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_tls: str = "starttls"
    #: The address every email is sent from; the store's name is its display name.
    email_sender: str = ""
    #: A store or agent message the shopper has not read (nor been shown in an open widget) this
    #: long after it was stored is emailed, together with the rest of its burst.
    email_after_unread_seconds: int = 300
    #: Emails on or off (``EMAIL_NOTIFICATIONS=0`` turns them off while keeping the SMTP settings).
    email_notifications: bool = True
    #: The domain of reply addresses (``reply+<token>@`` it) for stores that name none; empty
    #: means the domain of ``EMAIL_SENDER``. Its mail must reach the inbound webhook.
    email_reply_domain: str = ""
    #: Key for the HMAC that signs "continue in chat" and unsubscribe links (generated in var/).
    email_link_secret: str = field(default="", repr=False)
    #: Days a "continue in chat" link keeps working.
    email_continue_link_days: int = 14
    #: The secret path part of the inbound-mail webhook (``/webhooks/email/inbound/<secret>``),
    #: generated in var/ unless set; ``python -m bot email-webhook-url`` prints the whole URL.
    email_inbound_secret: str = field(default="", repr=False)
    #: An uploaded PDF manual is attached to the delivery email up to this size; a bigger one is a link.
    email_attachment_max_bytes: int = 5 * 1024 * 1024
    #: A port to receive replies by SMTP directly (``python -m bot inbound-smtp``); 0: webhook only.
    inbound_smtp_port: int = 0
    #: Where photos shoppers and agents send are kept (bot/photos/storage.py): ``database`` (the
    #: default: works across processes and machines), ``disk`` (files under ``photo_dir``) or ``s3``.
    photo_storage: str = "database"
    #: The folder of ``PHOTO_STORAGE=disk``; None: ``var/photos``.
    photo_dir: Path | None = None
    #: ``PHOTO_STORAGE=s3``: the bucket, the S3-compatible service's address (empty: AWS S3 itself),
    #: its region, and the access key (empty: botocore's usual places, such as an instance role).
    photo_s3_bucket: str = ""
    photo_s3_endpoint_url: str = ""
    photo_s3_region: str = "us-east-1"
    photo_s3_access_key_id: str = ""
    photo_s3_secret_access_key: str = field(default="", repr=False)
    #: Photos one conversation may add a day (shopper and agents together); over that, refused.
    photos_per_conversation_per_day: int = 30

    @property
    def photo_path(self) -> Path:
        return self.photo_dir or self.var_dir / "photos"

    @property
    def mail_sink_maildir(self) -> Path:
        return self.mail_sink_dir or self.var_dir / "mail_sink"

    @property
    def email_enabled(self) -> bool:
        return self.email_notifications and bool(self.smtp_host)

    @property
    def reply_domain(self) -> str:
        """Where reply addresses live when the store names no domain of its own."""
        return self.email_reply_domain or self.email_sender.rpartition("@")[2].lower()

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


#: The umask of every process of ours and its children (set by ``python -m bot`` and by the stack
#: runner): what they create under ``var/`` (SQLite databases, Rasa's tracker store, logs, uploaded
#: manuals) holds secrets and personal data, so only the owner may read it.
PRIVATE_UMASK = 0o077


def make_var_dir_private(var_dir: Path) -> None:
    """Create ``var/`` owner-only (0700), and take group and other access off everything already
    in it: files written before the umask was set (by an older version, or by hand) become 0600."""
    var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for root, _dirs, files in os.walk(var_dir):
        os.chmod(root, 0o700)
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode & 0o700)


def _read_or_create_secret(path: Path) -> str:
    """A secret generated once at setup and kept in ``var/``, never in code."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        value = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
        return value


def _flag(value: str, name: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1 or 0, not {value!r}")


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
        login_attempts_per_minute=int(env.get("RATE_LIMIT_LOGIN_PER_MINUTE", "20")),
        password_hash_workers=int(env.get("PASSWORD_HASH_WORKERS", "2")),
        password_hash_waiting=int(env.get("PASSWORD_HASH_WAITING", "8")),
        escalations_per_conversation_per_day=int(env.get("ESCALATIONS_PER_CONVERSATION_PER_DAY", "3")),
        escalations_per_address_per_hour=int(env.get("ESCALATIONS_PER_ADDRESS_PER_HOUR", "10")),
        websockets_per_conversation=int(env.get("WEBSOCKETS_PER_CONVERSATION", "3")),
        websockets_per_address=int(env.get("WEBSOCKETS_PER_ADDRESS", "20")),
        identity_failures_per_order=int(env.get("IDENTITY_FAILURES_PER_ORDER", "5")),
        identity_failures_per_address=int(env.get("IDENTITY_FAILURES_PER_ADDRESS", "10")),
        identity_window_minutes=int(env.get("IDENTITY_WINDOW_MINUTES", "60")),
        identity_lock_minutes=int(env.get("IDENTITY_LOCK_MINUTES", "60")),
        identity_longest_lock_minutes=int(env.get("IDENTITY_LONGEST_LOCK_MINUTES", "1440")),
        public_url=env.get("PUBLIC_URL", ""),
        trusted_proxies=env.get("TRUSTED_PROXIES", ""),
        shopper_signature_max_age_seconds=int(env.get("SHOPPER_SIGNATURE_MAX_AGE_SECONDS", "3600")),
        demo=_flag(env.get("DEMO", "0"), "DEMO"),
        mail_sink_port=int(env.get("MAIL_SINK_PORT", "2525")),
        mail_sink_dir=Path(env["MAIL_SINK_DIR"]).resolve() if env.get("MAIL_SINK_DIR") else None,
        smtp_host=env.get("SMTP_HOST", "").strip(),
        smtp_port=int(env.get("SMTP_PORT", "465" if _smtp_tls(env) == "tls" else "587")),
        smtp_username=env.get("SMTP_USERNAME", ""),
        smtp_password=env.get("SMTP_PASSWORD", ""),
        smtp_tls=_smtp_tls(env),
        email_sender=_email_sender(env),
        email_after_unread_seconds=_seconds(env, "EMAIL_AFTER_UNREAD_SECONDS", "300"),
        email_notifications=_flag(env.get("EMAIL_NOTIFICATIONS", "1"), "EMAIL_NOTIFICATIONS"),
        email_reply_domain=env.get("EMAIL_REPLY_DOMAIN", "").strip().lower(),
        email_link_secret=env.get("EMAIL_LINK_SECRET") or _read_or_create_secret(var_dir / "email_link_secret"),
        email_continue_link_days=int(env.get("EMAIL_CONTINUE_LINK_DAYS", "14")),
        email_inbound_secret=env.get("EMAIL_INBOUND_SECRET") or _read_or_create_secret(var_dir / "email_inbound_secret"),
        email_attachment_max_bytes=int(env.get("EMAIL_ATTACHMENT_MAX_BYTES", str(5 * 1024 * 1024))),
        inbound_smtp_port=int(env.get("INBOUND_SMTP_PORT", "0")),
        photo_storage=_photo_storage(env),
        photo_dir=Path(env["PHOTO_DIR"]).resolve() if env.get("PHOTO_DIR") else None,
        photo_s3_bucket=env.get("PHOTO_S3_BUCKET", "").strip(),
        photo_s3_endpoint_url=env.get("PHOTO_S3_ENDPOINT_URL", "").strip(),
        photo_s3_region=env.get("PHOTO_S3_REGION", "us-east-1").strip(),
        photo_s3_access_key_id=env.get("PHOTO_S3_ACCESS_KEY_ID", ""),
        photo_s3_secret_access_key=env.get("PHOTO_S3_SECRET_ACCESS_KEY", ""),
        photos_per_conversation_per_day=int(env.get("PHOTOS_PER_CONVERSATION_PER_DAY", "30")),
    )


SMTP_TLS_MODES = ("none", "starttls", "tls")


def _smtp_tls(env: dict[str, str] | os._Environ) -> str:
    tls = env.get("SMTP_TLS", "starttls").strip().lower()
    if tls not in SMTP_TLS_MODES:
        raise ValueError(f"SMTP_TLS must be one of {', '.join(SMTP_TLS_MODES)}, not {tls!r}")
    return tls


PHOTO_STORAGES = ("database", "disk", "s3")


def _photo_storage(env: dict[str, str] | os._Environ) -> str:
    storage = env.get("PHOTO_STORAGE", "database").strip().lower()
    if storage not in PHOTO_STORAGES:
        raise ValueError(f"PHOTO_STORAGE must be one of {', '.join(PHOTO_STORAGES)}, not {storage!r}")
    if storage == "s3" and not env.get("PHOTO_S3_BUCKET", "").strip():
        raise ValueError("PHOTO_S3_BUCKET must name a bucket when PHOTO_STORAGE is s3")
    return storage


def _email_sender(env: dict[str, str] | os._Environ) -> str:
    sender = env.get("EMAIL_SENDER", "").strip()
    if env.get("SMTP_HOST", "").strip() and "@" not in sender:
        raise ValueError("EMAIL_SENDER must be an email address when SMTP_HOST is set")
    return sender


def _seconds(env: dict[str, str] | os._Environ, name: str, default: str) -> int:
    value = int(env.get(name, default))
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return value


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
        "RATE_LIMIT_LOGIN_PER_MINUTE": str(settings.login_attempts_per_minute),
        "PASSWORD_HASH_WORKERS": str(settings.password_hash_workers),
        "PASSWORD_HASH_WAITING": str(settings.password_hash_waiting),
        "ESCALATIONS_PER_CONVERSATION_PER_DAY": str(settings.escalations_per_conversation_per_day),
        "ESCALATIONS_PER_ADDRESS_PER_HOUR": str(settings.escalations_per_address_per_hour),
        "WEBSOCKETS_PER_CONVERSATION": str(settings.websockets_per_conversation),
        "WEBSOCKETS_PER_ADDRESS": str(settings.websockets_per_address),
        "IDENTITY_FAILURES_PER_ORDER": str(settings.identity_failures_per_order),
        "IDENTITY_FAILURES_PER_ADDRESS": str(settings.identity_failures_per_address),
        "IDENTITY_WINDOW_MINUTES": str(settings.identity_window_minutes),
        "IDENTITY_LOCK_MINUTES": str(settings.identity_lock_minutes),
        "IDENTITY_LONGEST_LOCK_MINUTES": str(settings.identity_longest_lock_minutes),
        "PUBLIC_URL": settings.public_url,
        "TRUSTED_PROXIES": settings.trusted_proxies,
        "SHOPPER_SIGNATURE_MAX_AGE_SECONDS": str(settings.shopper_signature_max_age_seconds),
        "DEMO": "1" if settings.demo else "0",
        "MAIL_SINK_PORT": str(settings.mail_sink_port),
        "MAIL_SINK_DIR": str(settings.mail_sink_dir or ""),
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": str(settings.smtp_port),
        "SMTP_USERNAME": settings.smtp_username,
        "SMTP_PASSWORD": settings.smtp_password,
        "SMTP_TLS": settings.smtp_tls,
        "EMAIL_SENDER": settings.email_sender,
        "EMAIL_AFTER_UNREAD_SECONDS": str(settings.email_after_unread_seconds),
        "EMAIL_NOTIFICATIONS": "1" if settings.email_notifications else "0",
        "EMAIL_REPLY_DOMAIN": settings.email_reply_domain,
        "EMAIL_LINK_SECRET": settings.email_link_secret,
        "EMAIL_CONTINUE_LINK_DAYS": str(settings.email_continue_link_days),
        "EMAIL_INBOUND_SECRET": settings.email_inbound_secret,
        "EMAIL_ATTACHMENT_MAX_BYTES": str(settings.email_attachment_max_bytes),
        "INBOUND_SMTP_PORT": str(settings.inbound_smtp_port),
        "PHOTO_STORAGE": settings.photo_storage,
        "PHOTO_DIR": str(settings.photo_dir or ""),
        "PHOTO_S3_BUCKET": settings.photo_s3_bucket,
        "PHOTO_S3_ENDPOINT_URL": settings.photo_s3_endpoint_url,
        "PHOTO_S3_REGION": settings.photo_s3_region,
        "PHOTO_S3_ACCESS_KEY_ID": settings.photo_s3_access_key_id,
        "PHOTO_S3_SECRET_ACCESS_KEY": settings.photo_s3_secret_access_key,
        "PHOTOS_PER_CONVERSATION_PER_DAY": str(settings.photos_per_conversation_per_day),
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
