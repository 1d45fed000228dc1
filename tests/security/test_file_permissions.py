"""Issue 13, item 11: what the assistant keeps under var/ (databases with secrets and transcripts,
Rasa's tracker store, logs) is readable by its owner only: files 0600, folders 0700.

The real commands and the real stack write the files (``python -m bot migrate``, ``import``,
``demo-secrets``, then the action server, Rasa, the gateway and the worker handling a chat), and
the test process itself runs with the usual umask 022, as a shell would."""

from __future__ import annotations

import json
import os
import stat
import urllib.request
from pathlib import Path

import pytest

from tests.engine import running_engine

pytestmark = pytest.mark.engine


def modes(var_dir: Path) -> dict[str, int]:
    """Every file and folder under var_dir (itself included) with its permission bits."""
    found = {".": stat.S_IMODE(var_dir.stat().st_mode)}
    for root, dirs, files in os.walk(var_dir):
        for name in dirs + files:
            path = Path(root) / name
            found[str(path.relative_to(var_dir))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def assert_private(var_dir: Path) -> None:
    found = modes(var_dir)
    wrong = {name: oct(mode) for name, mode in found.items() if mode != (0o700 if (var_dir / name).is_dir() else 0o600)}
    assert not wrong, f"not owner-only under {var_dir}: {wrong}"


def post(url: str, body: dict[str, object], token: str | None = None) -> dict[str, object]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def test_every_file_under_var_is_owner_only_after_setup_and_a_chat(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        # What an older version left behind: a world-readable folder, database and log.
        var_dir = tmp_path / "var"
        (var_dir / "logs").mkdir(parents=True, mode=0o755)
        var_dir.chmod(0o755)
        (var_dir / "logs" / "old-gateway.log").write_text("2026-11-01 shopper alex@example.com said hello\n")
        (var_dir / "logs" / "old-gateway.log").chmod(0o644)

        with running_engine(var_dir, with_gateway=True, with_worker=True) as (_, settings):
            base = settings.gateway_url
            started = post(f"{base}/api/v1/stores/yangteng-auto/conversations", {})
            reply = post(
                f"{base}/api/v1/conversations/{started['conversation_id']}/messages",
                {"text": "hello"},
                str(started["token"]),
            )
            assert reply["messages"], reply
            # While everything runs: the store database, Rasa's tracker store (and its WAL), the logs.
            names = set(modes(var_dir))
            assert {"store.db", "rasa_tracker.db", "rasa_token", "logs/rasa.log", "logs/gateway.log"} <= names, names
            assert {"logs/action_server.log", "logs/worker.log"} <= names, names
            assert_private(var_dir)
        assert_private(var_dir)
    finally:
        os.umask(old_umask)
