"""A real assistant for end-to-end tests: Rasa server + action server on free ports."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.core.config import PROJECT_ROOT, Settings, load_settings
from bot.runtime.stack import DEFAULT_MODEL, ENGINE_ENV, Stack, free_port

__all__ = ["DEMO_DATA", "bot_cli", "engine_python", "engine_settings", "free_port", "running_engine"]

DEMO_DATA = PROJECT_ROOT / "demo" / "demo_stores.jsonl"


def engine_settings(var_dir: Path, env: dict[str, str] | None = None) -> Settings:
    """The test stack's settings; ``env`` adds to them (an SMTP server, shorter delays)."""
    return load_settings(
        {
            "VAR_DIR": str(var_dir),
            "DATABASE_URL": f"sqlite:///{var_dir / 'store.db'}",
            "RASA_PORT": str(free_port()),
            "ACTION_SERVER_PORT": str(free_port()),
            "GATEWAY_PORT": str(free_port()),
            # The browser and end-to-end tests shop on the demo page, as `make run` does.
            "DEMO": "1",
            **(env or {}),
        }
    )


def bot_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` against the test stack's store database."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(PROJECT_ROOT),
            "VAR_DIR": str(settings.var_dir),
            "DATABASE_URL": settings.database_url,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def engine_python(code: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in the engine's Python 3.10 (which has rasa), from the project root."""
    return subprocess.run(
        [str(PROJECT_ROOT / ".venv-rasa" / "bin" / "python"), "-c", code],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "HOME": str(Path.home()), **ENGINE_ENV},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def running_engine(
    var_dir: Path, with_gateway: bool = False, with_worker: bool = False, env: dict[str, str] | None = None
) -> Iterator[tuple[Stack, Settings]]:
    """Rasa and the action server (and the gateway and worker processes if asked)
    over a fresh store database holding the demo stores; stopped on exit."""
    settings = engine_settings(var_dir, env)
    for args in (("migrate",), ("import", str(DEMO_DATA)), ("demo-secrets",)):
        result = bot_cli(settings, *args)
        assert result.returncode == 0, result.stderr
    stack = Stack(settings, DEFAULT_MODEL, with_gateway=with_gateway, with_worker=with_worker)
    stack.start(timeout=240)
    try:
        yield stack, settings
    finally:
        stack.stop()
