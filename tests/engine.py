"""A real assistant for end-to-end tests: Rasa server + action server on free ports."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT, Settings, load_settings
from bot.stack import DEFAULT_MODEL, Stack

DEMO_DATA = PROJECT_ROOT / "demo" / "demo_stores.jsonl"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def engine_settings(var_dir: Path) -> Settings:
    return load_settings(
        {
            "VAR_DIR": str(var_dir),
            "DATABASE_URL": f"sqlite:///{var_dir / 'store.db'}",
            "RASA_PORT": str(free_port()),
            "ACTION_SERVER_PORT": str(free_port()),
            "GATEWAY_PORT": str(free_port()),
        }
    )


def bot_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` against the test stack's store database."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "VAR_DIR": str(settings.var_dir),
             "DATABASE_URL": settings.database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start_engine(var_dir: Path, with_gateway: bool = False, with_worker: bool = False) -> tuple[Stack, Settings]:
    """Rasa and the action server (and the gateway process if asked) over a
    fresh store database holding the demo stores."""
    settings = engine_settings(var_dir)
    for args in (("migrate",), ("import", str(DEMO_DATA)), ("demo-secrets",)):
        result = bot_cli(settings, *args)
        assert result.returncode == 0, result.stderr
    stack = Stack(settings, DEFAULT_MODEL, with_gateway=with_gateway, with_worker=with_worker)
    stack.start(timeout=240)
    return stack, settings


async def wait_until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.2)
