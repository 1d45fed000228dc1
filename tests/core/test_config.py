"""Settings: read once from the environment, handed to child processes intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import load_settings, normalize_database_url, rasa_process_env, settings_env


def test_child_processes_read_back_the_same_settings(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgresql://app@127.0.0.1/store",
            "RASA_PORT": "6005",
            "GATEWAY_PORT": "9090",
            "RASA_LOCK_STORE_URL": "redis://127.0.0.1:6379/3",
            "RATE_LIMIT_IP_PER_MINUTE": "7",
            "SMTP_HOST": "smtp.example.com",
            "SMTP_USERNAME": "mailer",
            "SMTP_PASSWORD": "s3cret",
            "SMTP_TLS": "tls",
            "EMAIL_SENDER": "notifications@shop.example",
            "EMAIL_AFTER_UNREAD_SECONDS": "120",
        }
    )
    assert load_settings(settings_env(settings)) == settings
    assert settings.smtp_port == 465 and settings.email_enabled  # TLS from the start: its usual port
    assert "s3cret" not in repr(settings)


def test_email_is_off_without_an_smtp_host_and_documented_defaults_otherwise(tmp_path: Path) -> None:
    plain = load_settings({"VAR_DIR": str(tmp_path)})
    assert not plain.email_enabled
    assert (plain.smtp_port, plain.smtp_tls, plain.email_after_unread_seconds) == (587, "starttls", 300)
    on = {"VAR_DIR": str(tmp_path), "SMTP_HOST": "smtp.example.com", "EMAIL_SENDER": "n@shop.example"}
    assert load_settings(on).email_enabled
    assert not load_settings({**on, "EMAIL_NOTIFICATIONS": "0"}).email_enabled


@pytest.mark.parametrize(
    "env, problem",
    [
        ({"SMTP_TLS": "ssl"}, "SMTP_TLS"),
        ({"SMTP_HOST": "smtp.example.com"}, "EMAIL_SENDER"),
        ({"EMAIL_AFTER_UNREAD_SECONDS": "-1"}, "EMAIL_AFTER_UNREAD_SECONDS"),
    ],
)
def test_wrong_email_settings_are_a_clear_error(tmp_path: Path, env: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        load_settings({"VAR_DIR": str(tmp_path), **env})


def test_the_rasa_token_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load_settings({"VAR_DIR": str(tmp_path)}).rasa_token
    assert len(first) >= 40
    assert load_settings({"VAR_DIR": str(tmp_path)}).rasa_token == first
    assert (tmp_path / "rasa_token").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///var/store.db", "sqlite+aiosqlite:///var/store.db"),
    ],
)
def test_database_urls_become_async(url: str, expected: str) -> None:
    assert normalize_database_url(url) == expected


def test_unsupported_database_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="sqlite or postgresql"):
        normalize_database_url("mysql://root@localhost/test")


def test_rasa_gets_postgres_and_redis_from_the_urls(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "VAR_DIR": str(tmp_path),
            "RASA_TRACKER_STORE_URL": "postgresql://rasa@127.0.0.1:5432/tracker",
            "RASA_LOCK_STORE_URL": "redis://127.0.0.1:6380/2",
        }
    )
    env = rasa_process_env(settings)
    assert env["RASA_TRACKER_DIALECT"] == "postgresql"
    assert env["RASA_TRACKER_URL"] == "postgresql://rasa@127.0.0.1:5432/tracker"
    assert (
        env["RASA_LOCK_STORE_TYPE"],
        env["RASA_LOCK_STORE_HOST"],
        env["RASA_LOCK_STORE_PORT"],
        env["RASA_LOCK_STORE_DB"],
    ) == ("redis", "127.0.0.1", "6380", "2")
