"""Start and stop the assistant's processes: the action server and the Rasa server.

Used by ``make run`` (``python -m bot run``), the end-to-end tests and the
benchmark, so that all three run the services exactly the same way.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.config import (
    PRIVATE_UMASK,
    PROJECT_ROOT,
    Settings,
    get_settings,
    make_var_dir_private,
    rasa_process_env,
    settings_env,
)
from bot.runtime.demo import read_demo_agents

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
DEFAULT_MODEL = PROJECT_ROOT / "models" / "assistant.tar.gz"

#: Quiet, offline, predictable: no telemetry calls, no GPU probing, few threads
#: on a 2-core machine (each TensorFlow pool defaults to one thread per core,
#: which only adds contention to one small prediction per message).
ENGINE_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "CUDA_VISIBLE_DEVICES": "",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    # The sentence encoder (nlu_components/) runs OpenMP next to TensorFlow's pools: busy-waiting
    # threads of one starved the other (a 9 ms embedding took 91 ms) until both were kept to one
    # passive thread.
    "OMP_NUM_THREADS": "1",
    "OMP_WAIT_POLICY": "PASSIVE",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "LOG_LEVEL_LIBRARIES": "ERROR",
}


def free_port() -> int:
    """A loopback port the kernel says is free now (for tests and benchmarks)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceFailed(RuntimeError):
    pass


@dataclass
class Service:
    name: str
    command: list[str]
    env: dict[str, str]
    #: None for a service without HTTP: healthy once it has run for a moment (or accepts on health_port).
    health_url: str | None
    log_path: Path
    #: A loopback port that accepts connections once the service is ready (a service without HTTP).
    health_port: int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # The log holds what the process prints: owner-only, like everything under var/.
        log = os.fdopen(os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT_ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us; we stop the whole group
            umask=PRIVATE_UMASK,  # the databases, the tracker store and uploads it writes are owner-only
        )
        log.close()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def wait_healthy(self, timeout: float, progress: Callable[[str], None] | None = None) -> None:
        assert self.process is not None
        started = time.monotonic()
        while True:
            if self.process.poll() is not None:
                raise ServiceFailed(
                    f"{self.name} exited with code {self.process.returncode}; last log lines "
                    f"({self.log_path}):\n{self.log_tail()}"
                )
            if self.health_url is None and self.health_port is None:
                if time.monotonic() - started > 1.0:
                    return
                time.sleep(0.2)
                continue
            if self._answers():
                return
            waited = time.monotonic() - started
            if waited > timeout:
                raise ServiceFailed(f"{self.name} not ready after {timeout:.0f} s; see {self.log_path}")
            if progress is not None:
                progress(f"waiting for {self.name} … {waited:4.0f} s")
            time.sleep(0.5)

    def _answers(self) -> bool:
        """Whether the health URL answers 200, or the health port accepts a connection."""
        try:
            if self.health_url is not None:
                with urllib.request.urlopen(self.health_url, timeout=2) as response:
                    return bool(response.status == 200)
            if self.health_port is not None:
                socket.create_connection(("127.0.0.1", self.health_port), timeout=2).close()
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        return False

    def stop(self, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


def _app_env(settings: Settings) -> dict[str, str]:
    """Environment for this project's own processes: the same settings, and the code."""
    return {**settings_env(settings), "PYTHONPATH": str(PROJECT_ROOT)}


def action_server(settings: Settings) -> Service:
    # rasa-sdk reads endpoints.yml too, so it gets the same ${…} values as Rasa.
    env = {**rasa_process_env(settings), **_app_env(settings), "SANIC_HOST": settings.action_server_host}
    return Service(
        name="action server",
        command=[sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.action_server_port)],
        env=env,
        health_url=f"http://{settings.action_server_host}:{settings.action_server_port}/health",
        log_path=settings.var_dir / "logs" / "action_server.log",
    )


def prepare_sqlite_tracker_store(settings: Settings) -> None:
    """Put the default SQLite tracker store in WAL mode before Rasa opens it.

    WAL is a property of the database file, so Rasa's own connections inherit
    it: each turn's commit appends to the log instead of rewriting a rollback
    journal, which takes a few milliseconds off every message.
    """
    if settings.tracker_store_url:
        return
    settings.tracker_sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(settings.tracker_sqlite_path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def rasa_server(settings: Settings, model: Path = DEFAULT_MODEL) -> Service:
    prepare_sqlite_tracker_store(settings)
    if not RASA_BIN.exists():
        raise ServiceFailed(f"the Rasa engine is not installed at {RASA_BIN}; run `make engine`")
    if not model.exists():
        raise ServiceFailed(f"no trained model at {model}; run `make train`")
    return Service(
        name="Rasa server",
        command=[
            # `rasa run` through bot/runtime/rasa_server.py: the same command, with a log that holds no shopper text.
            str(RASA_BIN.parent / "python"),
            "-m",
            "bot.runtime.rasa_server",
            "run",
            "--enable-api",
            f"--auth-token={settings.rasa_token}",
            "--interface",
            settings.rasa_host,
            "--port",
            str(settings.rasa_port),
            "--model",
            str(model),
            "--endpoints",
            str(PROJECT_ROOT / "endpoints.yml"),
            "--credentials",
            str(PROJECT_ROOT / "credentials.yml"),
        ],
        env={**ENGINE_ENV, **rasa_process_env(settings)},
        health_url=f"{settings.rasa_url}/status?token={settings.rasa_token}",
        log_path=settings.var_dir / "logs" / "rasa.log",
    )


def gateway(settings: Settings) -> Service:
    return Service(
        name="gateway",
        command=[sys.executable, "-m", "bot", "gateway"],
        env=_app_env(settings),
        health_url=f"{settings.gateway_url}/healthz",
        log_path=settings.var_dir / "logs" / "gateway.log",
    )


def worker(settings: Settings) -> Service:
    return Service(
        name="worker",
        command=[sys.executable, "-m", "bot", "worker"],
        env=_app_env(settings),
        health_url=None,
        log_path=settings.var_dir / "logs" / "worker.log",
    )


def mail_sink(settings: Settings) -> Service:
    """The demo's SMTP sink (bot/runtime/mail_sink.py): keeps every email, sends none."""
    return Service(
        name="mail sink",
        command=[sys.executable, "-m", "bot", "mail-sink"],
        env=_app_env(settings),
        health_url=None,
        health_port=settings.mail_sink_port,
        log_path=settings.var_dir / "logs" / "mail_sink.log",
    )


#: The demo's sender, on a domain that can never receive mail from outside (RFC 6761 .localhost).
DEMO_EMAIL_SENDER = "assistant@demo.localhost"
#: How long a demo message stays unread before it is emailed: short enough to watch it happen.
DEMO_EMAIL_AFTER_UNREAD_SECONDS = 20


def with_demo_mail_sink(settings: Settings, env: dict[str, str] | os._Environ[str] = os.environ) -> Settings:
    """The settings of a demo (DEMO=1) without an SMTP server of its own: every process sends through
    the local sink, from a demo address, soon after a message is left unread. Anything else is
    returned as it is: a configured SMTP_HOST is never replaced, nor a delay someone chose."""
    if not settings.demo or settings.smtp_host:
        return settings
    return dataclasses.replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=settings.mail_sink_port,
        smtp_tls="none",
        smtp_username="",
        smtp_password="",
        email_sender=settings.email_sender or DEMO_EMAIL_SENDER,
        email_after_unread_seconds=(
            settings.email_after_unread_seconds if "EMAIL_AFTER_UNREAD_SECONDS" in env else DEMO_EMAIL_AFTER_UNREAD_SECONDS
        ),
    )


class Stack:
    """The action server, the Rasa server and (optionally) the gateway and the
    worker, started together and stopped together."""

    def __init__(
        self,
        settings: Settings,
        model: Path = DEFAULT_MODEL,
        with_gateway: bool = True,
        with_worker: bool = True,
        with_mail_sink: bool = False,
    ) -> None:
        self.var_dir = settings.var_dir
        # The sink first: the worker may send an email as soon as it starts.
        self.services = [mail_sink(settings)] if with_mail_sink else []
        self.services += [action_server(settings), rasa_server(settings, model)]
        if with_gateway:
            self.services.append(gateway(settings))
        if with_worker:
            self.services.append(worker(settings))

    def start(self, progress: Callable[[str], None] | None = None, timeout: float = 180) -> None:
        make_var_dir_private(self.var_dir)
        try:
            for service in self.services:
                service.start()
            for service in self.services:
                service.wait_healthy(timeout, progress)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def service(self, name: str) -> Service:
        """One of the stack's processes by its name ("action server", "Rasa server", "gateway", "worker", "mail sink")."""
        for service in self.services:
            if service.name == name:
                return service
        raise LookupError(name)

    def kill(self, name: str) -> None:
        """Stop one process abruptly (SIGKILL), as a crash would: the others keep running."""
        process = self.service(name).process
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def restart(self, name: str, timeout: float = 180) -> None:
        """Start one stopped process again and wait until it is healthy."""
        service = self.service(name)
        service.stop()
        service.start()
        service.wait_healthy(timeout)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _progress_line(text: str) -> None:
    print(f"\r  {text}", end="", flush=True)


def _stop_on_sigterm() -> None:
    """Treat SIGTERM (from a process manager or `timeout`) like Ctrl-C."""

    def handler(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _demo_seller_admins() -> set[str]:
    """The demo file's seller admins (they sign in at /seller; agents at /agent)."""
    import json

    admins = set()
    try:
        with (PROJECT_ROOT / "demo" / "demo_stores.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                obj = json.loads(line) if line.strip() else {}
                if obj.get("type") == "agent" and obj.get("role") == "seller_admin":
                    admins.add(str(obj.get("email", "")).strip().lower())
    except (OSError, ValueError):
        pass
    return admins


def run_stack(chat: bool, store: str, shopper_email: str | None) -> int:
    _stop_on_sigterm()
    configured = get_settings()
    settings = with_demo_mail_sink(configured)
    sink = settings is not configured
    stack = Stack(settings, with_mail_sink=sink)
    print(
        "Starting the action server, the Rasa server, the gateway, the worker"
        + (" and the mail sink" if sink else "")
        + " (loading the model takes ~20 s)"
    )
    try:
        stack.start(progress=_progress_line)
    except ServiceFailed as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    print("\r" + " " * 60)
    if settings.demo:  # DEMO=1, as `make run` sets it
        print(f"  demo store     {settings.gateway_url}/   (open it in a browser and chat)")
    print(f"  chat API       {settings.gateway_url}/api/v1/  (OpenAPI: {settings.gateway_url}/api/v1/openapi.yaml)")
    seller_admins = _demo_seller_admins()
    demo_accounts = sorted(read_demo_agents(settings.var_dir).items())
    print(f"  agent console  {settings.gateway_url}/agent")
    for email, password in demo_accounts:
        if email not in seller_admins:
            print(f"                 demo agent {email}  password {password}  (generated at setup)")
    print(f"  seller console {settings.gateway_url}/seller")
    for email, password in demo_accounts:
        if email in seller_admins:
            print(f"                 demo seller admin {email}  password {password}  (generated at setup)")
    print(f"  Rasa server    {settings.rasa_url}  (REST channel: {settings.rasa_url}/webhooks/rest/webhook)")
    print(f"  action server  {settings.action_server_url}")
    print("  worker         python -m bot worker (delivery confirmations, install videos, review invitations)")
    if sink:
        print(
            f"  mail sink      smtp://127.0.0.1:{settings.mail_sink_port}  (keeps every email, sends none: "
            f"{settings.mail_sink_maildir})"
        )
        print(
            f"  demo inbox     {settings.gateway_url}/demo/inbox  (what the store emailed, sent "
            f"{settings.email_after_unread_seconds} s after a message is left unread; reply from there)"
        )
    elif settings.demo and settings.email_enabled:
        print(
            f"  email          through {settings.smtp_host}:{settings.smtp_port} (SMTP_HOST), from {settings.email_sender}"
        )
    print(f"  logs           {settings.var_dir / 'logs'}")
    print(f"  API token      in {settings.var_dir / 'rasa_token'} (or $RASA_TOKEN)")
    try:
        if chat:
            import asyncio

            from bot.runtime.terminal_chat import chat as terminal_chat

            return asyncio.run(terminal_chat(settings, store=store, shopper_email=shopper_email))
        print("Chat with `make shell` in another terminal. Press Ctrl-C to stop.")
        while all(s.process is not None and s.process.poll() is None for s in stack.services):
            time.sleep(1)
        dead = [s for s in stack.services if s.process is not None and s.process.poll() is not None]
        for service in dead:
            print(f"error: {service.name} stopped; last log lines:\n{service.log_tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        print("\nStopping…")
        # A second Ctrl-C or SIGTERM must not cut the shutdown short and leave children running.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()
