"""Latency and throughput of this assistant, next to the `rasa init` starter bot on the same engine.

``make bench`` runs ``python -m bench.run``. In one run, on this machine:

1. the peer: the starter bot that ``rasa init`` creates (kept in ``var/bench/peer``,
   created and trained only once), served by the same Rasa 3.6 engine; its greet turn;
2. this project (``bot.runtime.stack.Stack``, fresh ``var/bench/project`` with the demo stores
   imported into its own SQLite store database): ``/model/parse``, a greet turn and the
   two-message order-status conversation, whose answer must carry the tracking number
   from the database.

Each scenario runs sequentially (after a warm-up) and with N concurrent conversations.
The peer is measured first and stopped before the project starts, so the two never
compete for the CPU. Results are printed as a table and written to
``var/bench/results.json``. Every loop is bounded in count and time; every process the
benchmark starts is stopped at the end, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from bot.core.config import PROJECT_ROOT, Settings, load_settings
from bot.runtime.stack import DEFAULT_MODEL, ENGINE_ENV, RASA_BIN, Service, ServiceFailed, Stack

BENCH_VAR = PROJECT_ROOT / "var" / "bench"
PEER_DIR = BENCH_VAR / "peer"
PROJECT_VAR = BENCH_VAR / "project"
LOG_DIR = BENCH_VAR / "logs"
DEFAULT_RESULTS = BENCH_VAR / "results.json"
DEMO_DATA = PROJECT_ROOT / "demo" / "demo_stores.jsonl"
ENGINE_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

LOOPBACK = "127.0.0.1"
STORE_METADATA = {"store_id": "yangteng-auto"}
ORDER_QUESTION = "where is my order FZ-20931"
ORDER_PROOF = "alex@example.com"
#: In the demo stores only: proves the order-status answer was read from the database.
TRACKING_NUMBER = "9400111899223100000000"

#: The peer runs as `rasa init` leaves it: quiet and offline, nothing tuned.
PEER_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}

#: Targets, both about the order-status conversation.
TARGET_P50_FACTOR = 2.0  # order-status message p50 (sequential) <= 2 x peer greet p50
TARGET_THROUGHPUT = 25.0  # order-status messages/s with 20 concurrent conversations
TARGET_CONCURRENCY = 20


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why and where to look."""


# --------------------------------------------------------------------------- output


class Progress:
    """One overwritten status line on a terminal; a line every few seconds in a log."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last = 0.0
        self._width = 0

    def update(self, text: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < (0.1 if self.tty else 5.0):
            return
        self._last = now
        if self.tty:
            self.stream.write("\r  " + text + " " * max(0, self._width - len(text)))
            self._width = len(text)
        else:
            self.stream.write("  " + text + "\n")
        self.stream.flush()

    def clear(self) -> None:
        if self.tty and self._width:
            self.stream.write("\r" + " " * (self._width + 2) + "\r")
            self.stream.flush()
        self._width = 0
        self._last = 0.0

    def line(self, text: str = "") -> None:
        self.clear()
        print(text, file=self.stream, flush=True)


# --------------------------------------------------------------------------- processes


def free_ports(count: int) -> list[int]:
    """Ports the kernel reports free on loopback, distinct from each other."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOOPBACK, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class DirService(Service):
    """A :class:`bot.runtime.stack.Service` that runs in its own directory (the peer project).

    Its environment is ours without PYTHONPATH (the peer must not see this
    project's packages) plus ``env``.
    """

    cwd: Path = PROJECT_ROOT

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env={**env, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )


def run_logged(
    command: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    label: str,
    progress: Progress,
    timeout: float,
) -> None:
    """Run a command to completion with its output in a log file and a ticking status line."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    started = time.monotonic()
    try:
        while process.poll() is None:
            waited = time.monotonic() - started
            if waited > timeout:
                raise BenchError(f"{label}: not finished after {timeout:.0f} s; see {log_path}")
            progress.update(f"{label} … {waited:4.0f} s")
            time.sleep(0.5)
    finally:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            except ProcessLookupError:
                pass
    progress.clear()
    if process.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-25:])
        raise BenchError(f"{label}: exited with code {process.returncode}; last log lines ({log_path}):\n{tail}")


def peer_models() -> list[Path]:
    return sorted((PEER_DIR / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)


def ensure_peer(progress: Progress, timeout: float) -> Path:
    """Create the `rasa init` starter bot once, train it if it has no model; its newest model."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | PEER_ENV
    label = "training the rasa init starter bot (about 1–2 minutes)"
    log_path = LOG_DIR / "peer_init.log"
    created = all(
        (PEER_DIR / name).exists() for name in ("config.yml", "domain.yml", "data", "endpoints.yml", "credentials.yml")
    )
    if not created:
        progress.line(f"Creating the peer with `rasa init` in {PEER_DIR.relative_to(PROJECT_ROOT)}; {label}")
        PEER_DIR.mkdir(parents=True, exist_ok=True)
        run_logged(
            [str(RASA_BIN), "init", "--no-prompt", "--init-dir", str(PEER_DIR)],
            cwd=PROJECT_ROOT,
            env=env,
            log_path=log_path,
            label=label,
            progress=progress,
            timeout=timeout,
        )
    if not peer_models():
        progress.line(f"The peer in {PEER_DIR.relative_to(PROJECT_ROOT)} has no model; {label}")
        run_logged(
            [str(RASA_BIN), "train"],
            cwd=PEER_DIR,
            env=env,
            log_path=log_path,
            label=label,
            progress=progress,
            timeout=timeout,
        )
    models = peer_models()
    if not models:
        raise BenchError(f"training the peer left no model in {PEER_DIR / 'models'}; see {log_path}")
    return models[-1]


def peer_service(port: int, tuned: bool) -> DirService:
    log_path = LOG_DIR / "peer_rasa.log"
    log_path.unlink(missing_ok=True)
    return DirService(
        name="peer Rasa server (rasa init bot)",
        command=[
            str(RASA_BIN),
            "run",
            "--enable-api",
            "-i",
            LOOPBACK,
            "-p",
            str(port),
            "-m",
            "models",
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
        ],
        env={**PEER_ENV, **(ENGINE_ENV if tuned else {})},
        health_url=f"http://{LOOPBACK}:{port}/status",
        log_path=log_path,
        cwd=PEER_DIR,
    )


def wait_for_model(model: Path, timeout: float, progress: Progress) -> None:
    """Wait until the model exists and has stopped changing (it may be training right now)."""
    started = time.monotonic()
    last: tuple[int, int] | None = None
    stable_since = 0.0
    announced = False
    while True:
        now = time.monotonic()
        if model.exists():
            st = model.stat()
            signature = (st.st_size, st.st_mtime_ns)
            if signature != last:
                last, stable_since = signature, now
            elif now - stable_since >= 3 and st.st_size > 0:
                progress.clear()
                return
        if now - started > timeout:
            raise BenchError(f"no finished model at {model} after {timeout:.0f} s; run `make train`")
        if not announced and not model.exists():
            progress.line(f"Waiting for the project model {model.relative_to(PROJECT_ROOT)} (training elsewhere?)")
            announced = True
        progress.update(f"waiting for {model.name} … {now - started:4.0f} s")
        time.sleep(1)


async def load_demo_stores(database_url: str) -> dict[str, int]:
    """Migrate a fresh store database and import the demo stores into it."""
    from bot.core.db import create_engine, create_sessionmaker
    from bot.core.migrate import upgrade
    from bot.orders.importer import import_lines

    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        with DEMO_DATA.open(encoding="utf-8") as lines:
            report = await import_lines(create_sessionmaker(engine), lines)
    finally:
        await engine.dispose()
    if not report.ok:
        errors = "; ".join(f"line {n}: {reason}" for n, reason in report.errors[:5])
        raise BenchError(f"importing {DEMO_DATA.name} failed: {errors}")
    return report.imported


def project_settings(rasa_port: int, action_port: int) -> Settings:
    env = {
        **os.environ,
        "RASA_PORT": str(rasa_port),
        "ACTION_SERVER_PORT": str(action_port),
        "VAR_DIR": str(PROJECT_VAR),
        "DATABASE_URL": f"sqlite:///{PROJECT_VAR / 'store.db'}",
        # Every benchmark conversation proves the same demo order from the same address, 20 at a
        # time. To the lockout (bot/orders/identity_checks.py counts a check before comparing, so that
        # parallel guesses cannot outrun it) that is 20 guesses in flight, and it locks the order.
        # The benchmark measures throughput, not the lockout, so it lifts both limits.
        "IDENTITY_FAILURES_PER_ORDER": "1000000",
        "IDENTITY_FAILURES_PER_ADDRESS": "1000000",
    }
    env.pop("RASA_TOKEN", None)  # this run's token is the one in the fresh var dir
    settings = load_settings(env)
    if settings.rasa_host != LOOPBACK or settings.action_server_host != LOOPBACK:
        raise BenchError("the project's services must listen on 127.0.0.1 only")
    return settings


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]), idle


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Share of all cores busy over ``seconds`` (our idle servers add next to nothing)."""
    try:
        total0, idle0 = _cpu_times()
        time.sleep(seconds)
        total1, idle1 = _cpu_times()
    except (OSError, ValueError, IndexError):
        return None
    total = total1 - total0
    return round(1 - (idle1 - idle0) / total, 3) if total > 0 else None


BUSY_WARNING = 0.25
#: Above this share of the machine used by other processes during a phase, its numbers are flagged.
OTHERS_WARNING = 0.10


def _process_ticks(roots: list[int]) -> int:
    """CPU ticks used so far by ``roots`` and all their descendants."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            data = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2 :].split()
        pid = int(entry)
        parents[pid] = int(fields[1])
        ticks[pid] = int(fields[11]) + int(fields[12])
    ours = set(roots)
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in ours and pid not in ours:
                ours.add(pid)
                changed = True
    return sum(ticks.get(pid, 0) for pid in ours)


class CpuMeter:
    """Who used the CPU during a phase: the benchmark (client and servers) or other processes."""

    def __init__(self, server_pids: list[int]) -> None:
        self.roots = [os.getpid(), *server_pids]
        self._start: tuple[int, int, int] | None = None

    def _read(self) -> tuple[int, int, int]:
        total, idle = _cpu_times()
        return total, total - idle, _process_ticks(self.roots)

    def start(self) -> None:
        try:
            self._start = self._read()
        except (OSError, ValueError, IndexError):
            self._start = None

    def stop(self) -> dict[str, float] | None:
        """Shares of the whole machine (1.0 = every core busy) since :meth:`start`."""
        if self._start is None:
            return None
        try:
            total, busy, ours = self._read()
        except (OSError, ValueError, IndexError):
            return None
        d_total = total - self._start[0]
        if d_total <= 0:
            return None
        d_busy, d_ours = busy - self._start[1], ours - self._start[2]
        return {
            "ours": round(min(d_ours, d_busy) / d_total, 3),
            "others": round(max(0, d_busy - d_ours) / d_total, 3),
        }


def check_quiet(progress: Progress, what: str, wait: float = 0) -> float | None:
    """Sample the CPU before ``what``; with ``wait`` > 0, first wait up to that long for it to calm down."""
    busy = cpu_busy()
    started = time.monotonic()
    while busy is not None and busy > BUSY_WARNING and time.monotonic() - started < wait:
        progress.update(f"waiting for a quiet CPU ({busy:.0%} busy) … {time.monotonic() - started:4.0f} s")
        busy = cpu_busy(2.0)
    progress.clear()
    if busy is not None and busy > BUSY_WARNING:
        progress.line(
            f"    warning: the CPU was {busy:.0%} busy just before {what} (other processes?); these numbers will be noisy"
        )
    return busy


# --------------------------------------------------------------------------- HTTP


class Client:
    """Timed calls to one Rasa server; every failure becomes a BenchError with context."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str | None, log_hint: str) -> None:
        self.session = session
        self.base_url = base_url
        self.token = token
        self.log_hint = log_hint

    async def _post(
        self, what: str, path: str, body: dict[str, Any], params: dict[str, str] | None = None
    ) -> tuple[float, Any]:
        started = time.perf_counter()
        try:
            async with self.session.post(self.base_url + path, json=body, params=params) as response:
                payload = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise BenchError(f"{what}: request failed: {exc.__class__.__name__}: {exc}; see {self.log_hint}") from None
        latency = time.perf_counter() - started
        if status != 200:
            raise BenchError(f"{what}: HTTP {status}: {payload[:300]!r}; see {self.log_hint}")
        try:
            return latency, json.loads(payload)
        except ValueError:
            raise BenchError(f"{what}: the reply is not JSON: {payload[:300]!r}") from None

    async def say(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> tuple[float, list[str]]:
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        latency, replies = await self._post(f"message {text!r} (conversation {sender})", "/webhooks/rest/webhook", body)
        if not isinstance(replies, list):
            raise BenchError(f"message {text!r} (conversation {sender}): expected a list of replies, got {replies!r:.300}")
        texts = [str(r.get("text", "")) for r in replies if isinstance(r, dict) and (r.get("text") or r.get("buttons"))]
        if not texts:
            raise BenchError(f"message {text!r} (conversation {sender}): the bot did not answer; see {self.log_hint}")
        return latency, texts

    async def parse(self, text: str) -> tuple[float, dict[str, Any]]:
        params = {"token": self.token} if self.token else None
        latency, result = await self._post(f"parse {text!r}", "/model/parse", {"text": text}, params)
        if not isinstance(result, dict) or not isinstance(result.get("intent"), dict):
            raise BenchError(f"parse {text!r}: no intent in the result: {result!r:.300}")
        return latency, result


# --------------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    key: str
    label: str
    #: Messages (requests) in one conversation of this scenario.
    messages_per_conversation: int
    #: Drives one fresh conversation; returns each message's latency in seconds.
    converse: Callable[[Client, str], Awaitable[list[float]]]
    #: The first conversation's exchange, kept for the report.
    sample: list[dict[str, Any]] = field(default_factory=list)


def peer_scenarios() -> list[Scenario]:
    async def greet(client: Client, sender: str) -> list[float]:
        latency, texts = await client.say(sender, "hello")
        if not scenario.sample:
            scenario.sample = [{"user": "hello", "bot": texts}]
        return [latency]

    scenario = Scenario("peer_greet", 'peer (rasa init bot): greet turn "hello"', 1, greet)
    return [scenario]


def project_scenarios() -> list[Scenario]:
    async def parse(client: Client, sender: str) -> list[float]:
        latency, result = await client.parse(ORDER_QUESTION)
        if not parse_scn.sample:
            parse_scn.sample = [{"text": ORDER_QUESTION, "intent": result["intent"], "entities": result.get("entities")}]
        return [latency]

    async def greet(client: Client, sender: str) -> list[float]:
        latency, texts = await client.say(sender, "hello", STORE_METADATA)
        if not greet_scn.sample:
            greet_scn.sample = [{"user": "hello", "bot": texts}]
        return [latency]

    async def order_status(client: Client, sender: str) -> list[float]:
        first, asked = await client.say(sender, ORDER_QUESTION, STORE_METADATA)
        second, answer = await client.say(sender, ORDER_PROOF, STORE_METADATA)
        if TRACKING_NUMBER not in " ".join(answer):
            raise BenchError(
                "the order-status answer did not come from the store database: the reply to "
                f"{ORDER_PROOF!r} lacks tracking number {TRACKING_NUMBER} (conversation {sender}).\n"
                f"  shopper: {ORDER_QUESTION}\n  bot:     {' | '.join(asked)}\n"
                f"  shopper: {ORDER_PROOF}\n  bot:     {' | '.join(answer)}\n"
                f"Logs: {PROJECT_VAR / 'logs'}"
            )
        if not order_scn.sample:
            order_scn.sample = [{"user": ORDER_QUESTION, "bot": asked}, {"user": ORDER_PROOF, "bot": answer}]
        return [first, second]

    parse_scn = Scenario("project_parse", f'project: POST /model/parse "{ORDER_QUESTION}"', 1, parse)
    greet_scn = Scenario("project_greet", 'project: greet turn "hello"', 1, greet)
    order_scn = Scenario("project_order", "project: order-status message (2 per conversation)", 2, order_status)
    return [parse_scn, greet_scn, order_scn]


# --------------------------------------------------------------------------- measuring


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return math.nan
    position = (len(sorted_values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


@dataclass
class PhaseResult:
    scenario: str
    label: str
    mode: str  # "sequential" or "concurrent"
    concurrency: int
    latencies: list[float]
    elapsed: float
    timed_out: bool
    #: Latencies by position in the conversation (1st message, 2nd message, …).
    by_step: list[list[float]] = field(default_factory=list)
    #: Share of the CPU that was busy just before the scenario (other processes included).
    cpu_busy_before: float | None = None
    #: Shares of the machine's CPU used during the phase by the benchmark and by other processes.
    cpu_during: dict[str, float] | None = None

    def summary(self) -> dict[str, Any]:
        values = sorted(self.latencies)
        count = len(values)
        steps = {}
        if len(self.by_step) > 1:
            steps = {
                "p50_ms_by_message": [round(percentile(sorted(v), 0.5) * 1000, 2) for v in self.by_step],
                "p95_ms_by_message": [round(percentile(sorted(v), 0.95) * 1000, 2) for v in self.by_step],
            }
        return {
            "scenario": self.scenario,
            "label": self.label,
            "mode": self.mode,
            "concurrency": self.concurrency,
            "messages": count,
            "p50_ms": round(percentile(values, 0.50) * 1000, 2),
            "p95_ms": round(percentile(values, 0.95) * 1000, 2),
            "mean_ms": round(sum(values) / count * 1000, 2) if count else None,
            "min_ms": round(values[0] * 1000, 2) if count else None,
            "max_ms": round(values[-1] * 1000, 2) if count else None,
            "messages_per_s": round(count / self.elapsed, 2) if self.elapsed > 0 else None,
            "elapsed_s": round(self.elapsed, 3),
            "timed_out": self.timed_out,
            **steps,
            "cpu_busy_before": self.cpu_busy_before,
            "cpu_share_benchmark": self.cpu_during["ours"] if self.cpu_during else None,
            "cpu_share_other_processes": self.cpu_during["others"] if self.cpu_during else None,
        }


def _first_error(group: BaseExceptionGroup) -> BaseException:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first_error(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return group


async def run_phase(
    client: Client,
    scenario: Scenario,
    mode: str,
    messages: int,
    concurrency: int,
    time_limit: float,
    progress: Progress,
    run_id: str,
    meter: CpuMeter | None = None,
) -> PhaseResult:
    """Drive ``concurrency`` workers, each through its own fresh conversations, until
    ``messages`` messages are answered or ``time_limit`` seconds have passed."""
    per = scenario.messages_per_conversation
    conversations = max(1, math.ceil(messages / per))
    total = conversations * per
    latencies: list[float] = []
    by_step: list[list[float]] = [[] for _ in range(per)]
    claimed = 0
    timed_out = False
    started = time.perf_counter()
    deadline = started + time_limit
    title = f"{scenario.key} {mode}" + (f" ×{concurrency}" if concurrency > 1 else "")

    async def worker() -> None:
        nonlocal claimed, timed_out
        while claimed < conversations:
            if time.perf_counter() > deadline:
                timed_out = True
                return
            number = claimed
            claimed += 1
            conversation = await scenario.converse(client, f"bench-{run_id}-{scenario.key}-{mode}-{number}")
            latencies.extend(conversation)
            for step, latency in enumerate(conversation):
                by_step[step].append(latency)
            progress.update(f"{title}: {len(latencies)}/{total} messages, {time.perf_counter() - started:.1f} s")

    progress.update(f"{title}: 0/{total} messages", force=True)
    if meter is not None:
        meter.start()
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
    except BaseExceptionGroup as group_error:
        raise _first_error(group_error) from None
    elapsed = time.perf_counter() - started
    cpu = meter.stop() if meter is not None else None
    progress.clear()
    return PhaseResult(
        scenario.key, scenario.label, mode, concurrency, latencies, elapsed, timed_out, by_step, cpu_during=cpu
    )


async def measure(
    base_url: str,
    token: str | None,
    log_hint: str,
    scenarios: list[Scenario],
    options: argparse.Namespace,
    progress: Progress,
    run_id: str,
    server_pids: list[int],
) -> list[PhaseResult]:
    """Warm-up, sequential and concurrent phases of each scenario, one after the other."""
    results = []
    meter = CpuMeter(server_pids)
    connector = aiohttp.TCPConnector(limit=max(TARGET_CONCURRENCY, options.concurrency))
    timeout = aiohttp.ClientTimeout(total=options.request_timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        client = Client(session, base_url, token, log_hint)
        for scenario in scenarios:
            progress.line(f"» {scenario.label}")
            busy = check_quiet(progress, "this scenario", options.wait_quiet)
            if options.warmup:
                warm = await run_phase(
                    client, scenario, "warmup", options.warmup, 1, options.phase_timeout, progress, run_id
                )
                progress.line(f"    warm-up     {len(warm.latencies):4d} messages in {warm.elapsed:5.1f} s")
            for mode, concurrency in (("sequential", 1), ("concurrent", options.concurrency)):
                phase = await run_phase(
                    client, scenario, mode, options.requests, concurrency, options.phase_timeout, progress, run_id, meter
                )
                phase.cpu_busy_before = busy
                s = phase.summary()
                flag = "  (stopped at the time limit)" if phase.timed_out else ""
                if phase.cpu_during:
                    flag += f"   CPU: bench {phase.cpu_during['ours']:.0%}, others {phase.cpu_during['others']:.0%}"
                    if phase.cpu_during["others"] > OTHERS_WARNING:
                        flag += "  ← noisy: other processes ran"
                progress.line(
                    f"    {mode:<11} {s['messages']:4d} messages in {s['elapsed_s']:5.1f} s   "
                    f"p50 {s['p50_ms']:7.1f} ms   p95 {s['p95_ms']:7.1f} ms   {s['messages_per_s']:6.1f} msg/s{flag}"
                )
                results.append(phase)
    return results


# --------------------------------------------------------------------------- report


def _run_quiet(command: list[str], timeout: float = 30) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=PROJECT_ROOT).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    cpu_model = ""
    mem_total_gb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    engine = {}
    probe = (
        "import importlib.metadata as m, json, sys\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return None\n"
        "print(json.dumps({'python': sys.version.split()[0], 'rasa': v('rasa'),"
        " 'tensorflow': v('tensorflow') or v('tensorflow-cpu'), 'sanic': v('sanic')}))"
    )
    out = _run_quiet([str(ENGINE_PYTHON), "-c", probe])
    if out:
        with contextlib.suppress(ValueError):
            engine = json.loads(out.splitlines()[-1])
    commit = _run_quiet(["git", "rev-parse", "--short", "HEAD"])
    dirty = bool(_run_quiet(["git", "status", "--porcelain", "--untracked-files=no"]))
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gb": mem_total_gb,
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "app_python": sys.version.split()[0],
        "app_packages": {n: _version(n) for n in ("rasa-sdk", "aiohttp", "SQLAlchemy", "aiosqlite")},
        "engine_python": engine.get("python"),
        "rasa": engine.get("rasa"),
        "engine_packages": {k: v for k, v in engine.items() if k not in ("python", "rasa")},
        "git_commit": (commit + ("-dirty" if dirty else "")) or None,
    }


def model_info(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    st = path.stat()
    return {
        "path": str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path),
        "size_bytes": st.st_size,
        "modified": dt.datetime.fromtimestamp(st.st_mtime, dt.UTC).isoformat(timespec="seconds"),
        "sha256": digest.hexdigest(),
    }


def add_ratios(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Ratios to the peer's greet turn: p50 for sequential rows, throughput for concurrent rows."""
    peer = {r["mode"]: r for r in rows if r["scenario"] == "peer_greet"}
    for row in rows:
        base = peer.get(row["mode"])
        if base is None:
            row["ratio_to_peer_greet"] = None
        elif row["mode"] == "sequential":
            row["ratio_to_peer_greet"] = {"of": "p50", "value": round(row["p50_ms"] / base["p50_ms"], 3)}
        else:
            row["ratio_to_peer_greet"] = {
                "of": "messages_per_s",
                "value": round(row["messages_per_s"] / base["messages_per_s"], 3),
            }
    return peer or None


def evaluate_targets(rows: list[dict[str, Any]], concurrency: int) -> list[dict[str, Any]]:
    find = {(r["scenario"], r["mode"]): r for r in rows}
    peer_seq, order_seq = find.get(("peer_greet", "sequential")), find.get(("project_order", "sequential"))
    order_conc = find.get(("project_order", "concurrent"))
    targets = []
    if peer_seq and order_seq:
        limit = TARGET_P50_FACTOR * peer_seq["p50_ms"]
        targets.append(
            {
                "name": "order-status message p50 (sequential) <= 2 x peer greet p50",
                "measured_ms": order_seq["p50_ms"],
                "limit_ms": round(limit, 2),
                "met": order_seq["p50_ms"] <= limit,
            }
        )
    if order_conc:
        targets.append(
            {
                "name": f">= {TARGET_THROUGHPUT:g} order-status messages/s with {TARGET_CONCURRENCY} concurrent conversations",
                "measured_messages_per_s": order_conc["messages_per_s"],
                "limit_messages_per_s": TARGET_THROUGHPUT,
                "concurrency": concurrency,
                "met": order_conc["messages_per_s"] >= TARGET_THROUGHPUT and concurrency == TARGET_CONCURRENCY,
            }
        )
    return targets


def render_table(rows: list[dict[str, Any]]) -> str:
    header = ("scenario", "mode", "msgs", "p50 ms", "p95 ms", "msg/s", "vs peer greet", "CPU others")
    lines = []
    for r in rows:
        mode = "sequential" if r["mode"] == "sequential" else f"{r['concurrency']} concurrent"
        ratio = r.get("ratio_to_peer_greet")
        ratio_text = (
            ""
            if ratio is None
            else (f"p50 ×{ratio['value']:.2f}" if ratio["of"] == "p50" else f"msg/s ×{ratio['value']:.2f}")
        )
        if r["timed_out"]:
            ratio_text += " (time limit)"
        others = r.get("cpu_share_other_processes")
        others_text = "" if others is None else f"{others:.0%}" + (" !" if others > OTHERS_WARNING else "")
        lines.append(
            (
                r["label"],
                mode,
                str(r["messages"]),
                f"{r['p50_ms']:.1f}",
                f"{r['p95_ms']:.1f}",
                f"{r['messages_per_s']:.1f}",
                ratio_text,
                others_text,
            )
        )
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    right = {2, 3, 4, 5, 7}

    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(line) for line in lines)])


def render_targets(targets: list[dict[str, Any]], rows: list[dict[str, Any]]) -> str:
    peer_seq = next((r for r in rows if r["scenario"] == "peer_greet" and r["mode"] == "sequential"), None)
    out = []
    for i, t in enumerate(targets, start=1):
        verdict = "MET" if t["met"] else "NOT MET"
        if "limit_ms" in t:
            detail = (
                f"{t['measured_ms']:.1f} ms vs limit 2 × {peer_seq['p50_ms']:.1f} = {t['limit_ms']:.1f} ms"
                if peer_seq
                else f"{t['measured_ms']:.1f} ms"
            )
        else:
            detail = f"{t['measured_messages_per_s']:.1f} msg/s vs ≥ {t['limit_messages_per_s']:g} msg/s"
            if t["concurrency"] != TARGET_CONCURRENCY:
                detail += f" (measured with {t['concurrency']} concurrent, not {TARGET_CONCURRENCY}: not comparable)"
        out.append(f"  ({i}) {t['name']}: {detail}  → {verdict}")
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Latency and throughput of this assistant next to the `rasa init` starter bot (same engine).",
    )
    parser.add_argument("--requests", type=int, help="messages per scenario and mode (default 200; 40 with --quick)")
    parser.add_argument(
        "--warmup", type=int, help="warm-up messages per scenario, not measured (default 20; 4 with --quick)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=TARGET_CONCURRENCY,
        help=f"concurrent conversations in the concurrent mode (default {TARGET_CONCURRENCY})",
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run (fewer messages)")
    parser.add_argument(
        "--phase-timeout", type=float, help="time limit of each measured phase, s (default 300; 120 with --quick)"
    )
    parser.add_argument("--request-timeout", type=float, default=60, help="time limit of one HTTP request, s (default 60)")
    parser.add_argument("--start-timeout", type=float, default=240, help="time limit for a server to become healthy, s")
    parser.add_argument("--train-timeout", type=float, default=900, help="time limit for creating/training the peer, s")
    parser.add_argument(
        "--model", type=Path, default=DEFAULT_MODEL, help="the project's model (default models/assistant.tar.gz)"
    )
    parser.add_argument(
        "--model-wait",
        type=float,
        default=900,
        help="how long to wait for the project model to appear and stop changing, s (default 900)",
    )
    parser.add_argument(
        "--peer-tuned",
        action="store_true",
        help="give the peer the project's engine environment (bot.runtime.stack.ENGINE_ENV: 1 TensorFlow thread…)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each scenario, wait up to this long for the CPU to be under "
        f"{BUSY_WARNING * 100:.0f}%% busy (default 0: measure at once, warn if busy)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_RESULTS, help="results JSON (default var/bench/results.json)")
    parser.add_argument("--check", action="store_true", help="exit with status 3 when a target is not met")
    args = parser.parse_args(argv)
    if args.requests is None:
        args.requests = 40 if args.quick else 200
    if args.warmup is None:
        args.warmup = 4 if args.quick else 20
    if args.phase_timeout is None:
        args.phase_timeout = 120 if args.quick else 300
    args.model = args.model.resolve()
    for name in ("requests", "concurrency"):
        if not 1 <= getattr(args, name) <= 100_000:
            parser.error(f"--{name} must be between 1 and 100000")
    if not 0 <= args.warmup <= 10_000:
        parser.error("--warmup must be between 0 and 10000")
    return args


def _raise_keyboard_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    progress = Progress()
    began = time.monotonic()
    date = dt.datetime.now(dt.UTC)
    run_id = uuid.uuid4().hex[:8]
    running: list[Service] = []
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_keyboard_interrupt)

    def stop_all() -> None:
        while running:
            service = running.pop()
            progress.update(f"stopping the {service.name} …", force=True)
            service.stop()
        progress.clear()

    phases: list[PhaseResult] = []
    try:
        progress.line(
            f"Benchmark ({'quick' if options.quick else 'full'}): {options.requests} messages per scenario and mode, "
            f"{options.warmup} warm-up, {options.concurrency} concurrent conversations"
        )
        wait_for_model(options.model, options.model_wait, progress)
        machine = machine_info()
        machine["cpu_busy_at_start"] = busy_at_start = cpu_busy(2.0)
        progress.line(
            f"Machine: {machine['nproc']} cores, load average {machine['load_average_at_start'][0]}, "
            f"Python {machine['app_python']} (app) / {machine['engine_python']} (engine), Rasa {machine['rasa']}"
        )
        if busy_at_start is not None:
            progress.line(
                f"  CPU busy before starting anything: {busy_at_start:.0%}"
                + ("  (warning: other processes are running; results will be noisy)" if busy_at_start > BUSY_WARNING else "")
            )

        # 1. The peer: created and trained once, served by the same engine, measured, stopped.
        peer_model = ensure_peer(progress, options.train_timeout)
        (peer_port,) = free_ports(1)
        peer = peer_service(peer_port, options.peer_tuned)
        progress.line(f"Starting the peer (rasa init bot) on {LOOPBACK}:{peer_port}; loading its model takes ~20 s")
        running.append(peer)
        peer_started = time.monotonic()
        peer.start()
        peer.wait_healthy(options.start_timeout, progress.update)
        progress.line(f"  up after {time.monotonic() - peer_started:.0f} s (log: {peer.log_path.relative_to(PROJECT_ROOT)})")
        peer_scns = peer_scenarios()
        phases += asyncio.run(
            measure(
                f"http://{LOOPBACK}:{peer_port}",
                None,
                str(peer.log_path),
                peer_scns,
                options,
                progress,
                run_id,
                [peer.process.pid] if peer.process else [],
            )
        )
        stop_all()

        # 2. This project: fresh var dir, its own store database with the demo stores.
        if PROJECT_VAR.exists():
            shutil.rmtree(PROJECT_VAR)
        PROJECT_VAR.mkdir(parents=True)
        rasa_port, action_port = free_ports(2)
        settings = project_settings(rasa_port, action_port)
        progress.line(f"Loading the demo stores into {(PROJECT_VAR / 'store.db').relative_to(PROJECT_ROOT)}")
        imported = asyncio.run(load_demo_stores(settings.database_url))
        progress.line("  imported " + ", ".join(f"{n} {kind}s" for kind, n in imported.items()))
        stack = Stack(settings, options.model, with_gateway=False, with_worker=False)
        progress.line(
            f"Starting the project: action server on {LOOPBACK}:{action_port}, Rasa server on "
            f"{LOOPBACK}:{rasa_port}; loading the model takes ~20 s"
        )
        running.extend(stack.services)
        stack_started = time.monotonic()
        for service in stack.services:
            service.start()
        for service in stack.services:
            service.wait_healthy(options.start_timeout, progress.update)
        progress.line(
            f"  up after {time.monotonic() - stack_started:.0f} s (logs: {(settings.var_dir / 'logs').relative_to(PROJECT_ROOT)})"
        )
        project_scns = project_scenarios()
        phases += asyncio.run(
            measure(
                settings.rasa_url,
                settings.rasa_token,
                str(settings.var_dir / "logs"),
                project_scns,
                options,
                progress,
                run_id,
                [service.process.pid for service in stack.services if service.process],
            )
        )
        stop_all()
    except (BenchError, ServiceFailed) as exc:
        stop_all()
        progress.line(f"\nerror: {exc}")
        return 1
    except KeyboardInterrupt:
        stop_all()
        progress.line("\ninterrupted; all processes the benchmark started are stopped")
        return 130
    finally:
        stop_all()

    rows = [p.summary() for p in phases]
    add_ratios(rows)
    targets = evaluate_targets(rows, options.concurrency)
    duration = time.monotonic() - began
    progress.line()
    progress.line(
        f"Results ({date:%Y-%m-%d %H:%M} UTC, {machine['nproc']} cores, Rasa {machine['rasa']}). Latency per "
        "message, from sending the request to the last byte of the reply;\n"
        "CPU others: share of all cores used by processes other than the benchmark's during the phase"
    )
    progress.line(render_table(rows))
    if any((r.get("cpu_share_other_processes") or 0) > OTHERS_WARNING for r in rows):
        progress.line(
            f"  ! other processes used more than {OTHERS_WARNING:.0%} of the CPU during that phase: "
            "its numbers are pessimistic; rerun on a quiet machine"
        )
    progress.line()
    progress.line("Targets")
    progress.line(render_targets(targets, rows))
    order_seq = next((r for r in rows if r["scenario"] == "project_order" and r["mode"] == "sequential"), None)
    if order_seq and "p50_ms_by_message" in order_seq:
        first, second = order_seq["p50_ms_by_message"][:2]
        progress.line(
            f"  order-status p50 by message (sequential): {first:.1f} ms for the question, "
            f"{second:.1f} ms for the email and the answer"
        )
    progress.line()
    progress.line("Sample order-status conversation:")
    order = next((s for s in project_scns if s.key == "project_order"), None)
    for turn in order.sample if order else []:
        progress.line(f"  shopper: {turn['user']}")
        for text in turn["bot"]:
            progress.line("  bot:     " + text.replace("\n", "\n           "))

    results = {
        "date": date.isoformat(timespec="seconds"),
        "duration_s": round(duration, 1),
        "machine": machine,
        "options": {
            "quick": options.quick,
            "requests": options.requests,
            "warmup": options.warmup,
            "concurrency": options.concurrency,
            "phase_timeout_s": options.phase_timeout,
            "request_timeout_s": options.request_timeout,
            "peer_tuned": options.peer_tuned,
            "wait_quiet_s": options.wait_quiet,
        },
        "peer": {
            "what": "the starter bot from `rasa init`, served by the same engine, in-memory tracker store, no action server",
            "dir": str(PEER_DIR.relative_to(PROJECT_ROOT)),
            "model": model_info(peer_model),
            "env": {**PEER_ENV, **(ENGINE_ENV if options.peer_tuned else {})},
        },
        "project": {
            "model": model_info(options.model),
            "var_dir": str(PROJECT_VAR.relative_to(PROJECT_ROOT)),
            "store_database": "SQLite, fresh, demo/demo_stores.jsonl imported",
            "tracker_store": settings.tracker_store_url.split("://", 1)[0]
            if settings.tracker_store_url
            else "sqlite (var dir)",
            "lock_store": settings.lock_store_url.split("://", 1)[0] if settings.lock_store_url else "in_memory",
            "engine_env": ENGINE_ENV,
        },
        "results": rows,
        "targets": targets,
        "samples": {s.key: s.sample for s in [*peer_scns, *project_scns]},
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    progress.line()
    progress.line(f"Written to {options.output} in {duration:.0f} s total.")
    if options.check and not all(t["met"] for t in targets):
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
