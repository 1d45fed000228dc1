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
        }
    )
    assert load_settings(settings_env(settings)) == settings


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
