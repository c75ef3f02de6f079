"""Benchmark: signed webhooks at fixed rates against ``distansmote serve``, beside a bare reference.

    .venv/bin/python bench/webhooks.py [--database postgresql|sqlite] [--seconds 6] [--write]

Three processes on 127.0.0.1 besides this one: a lean fake Webex API (this file with ``--fake-webex``,
recording when each reply arrives), the bot (``distansmote serve``, a real subprocess with its own
PostgreSQL database, or a SQLite file) and the reference (``bench/reference_bot.py``: aiohttp plus
``webexpythonsdk`` in eight threads, verify, answer 200, fetch the message, post a text reply).

Open loop: at each rate, signed ``messages/created`` webhooks are sent on a fixed schedule whatever
the answers, each from its own person and 1:1 room (no cache can help), carrying
``/distansmöte hjälp``. Bot and reference take turns at every rate (the order alternates). The
ramp goes up until the reference saturates (replies per second below 90 % of the rate, or its
median reply later than a second), then both run once more at twice the last rate the reference
kept up with. Per rate and program: replies per second, webhook-to-reply latency (p50, p90, p99,
max), the webhook answer's own latency (p50, p99), replies lost, CPU seconds per 1,000 commands
(utime+stime of the process from /proc) and peak resident memory (VmHWM, reset before each step).
With PostgreSQL, the CPU of the server's backends for the bench database is shown beside the bot's.

``--quick`` (about a minute, for CI): only the target rate, bot and reference in turns, on SQLite and then on
PostgreSQL, printing the bot's CPU per command over the reference's for each (on PostgreSQL the bot's database
backends counted with the bot); ``--max-cpu-ratio`` makes it exit 1 when a ratio is above that bound.

Bounded: at most ``--max-count`` webhooks per step, ``--max-seconds`` for the whole run; every
process it starts is stopped at the end, and the scratch database dropped. ``--write`` puts the
report into ``docs/benchmarks.md`` (section "Webhooks").
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import math
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
TOKEN = "bench-token"
SECRET = "bench-webhook-secret"
COMMAND = "/distansmöte hjälp"
DEFAULT_POSTGRES = os.environ.get("DISTANSMOTE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
RAMP = (50, 75, 100, 150, 200, 300, 400, 600, 800, 1200, 1600)
TARGET_RATE = 50  # the rate the latency and CPU targets are read at
BOT, BOT_ORG_ONLY, REFERENCE = "bot", "bot, org allowlist only", "reference"
SATURATED_SHARE = 0.9  # replies per second below this share of the rate: saturated
SATURATED_P50 = 1.0  # or the median reply later than this (seconds): a queue is building up
CLK_TCK = os.sysconf("SC_CLK_TCK")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def webex_id(kind: str, number: int) -> str:
    """An id shaped like Webex's; the number comes back out with :func:`number_of`."""
    return base64.urlsafe_b64encode(f"ciscospark://us/{kind}/{uuid.UUID(int=number)}".encode()).decode().rstrip("=")


def number_of(webex_id_: str) -> int:
    decoded = base64.urlsafe_b64decode(webex_id_ + "=" * (-len(webex_id_) % 4)).decode()
    return uuid.UUID(decoded.rsplit("/", 1)[1]).int


ORG_ID = webex_id("ORGANIZATION", 1)
BOT_ID = webex_id("PEOPLE", 0)
WEBHOOK_ID = webex_id("WEBHOOK", 1)
APP_ID = webex_id("APPLICATION", 1)


# -- the fake Webex API (its own process) -----------------------------------------------------------


class FakeWebex:
    """Just what the bot and the reference call, answered at once; replies recorded by sender."""

    def __init__(self) -> None:
        self.replies: dict[int, float] = {}  # person number -> monotonic time of the first reply
        self.extra_replies: dict[int, int] = {}  # person number -> replies after the first
        self.created = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_bearer_token])
        app.add_routes([
            web.get("/v1/people/me", self._me), web.get("/v1/people/{id}", self._person),
            web.get("/v1/messages/{id}", self._message), web.post("/v1/messages", self._post),
            web.get("/v1/webhooks", self._webhooks), web.get("/bench/replies", self._replies),
        ])
        return app

    def _person_json(self, number: int) -> dict[str, Any]:
        return {"id": webex_id("PEOPLE", number), "emails": [f"person{number}@region.example"],
                "displayName": f"Person {number}", "firstName": "Person", "lastName": str(number),
                "orgId": ORG_ID, "created": self.created, "type": "person"}

    async def _me(self, request: web.Request) -> web.Response:
        return web.json_response({**self._person_json(0), "displayName": "Distansmöte", "firstName": "Distansmöte",
                                  "type": "bot"})

    async def _person(self, request: web.Request) -> web.Response:
        return web.json_response(self._person_json(number_of(request.match_info["id"])))

    async def _message(self, request: web.Request) -> web.Response:
        number = number_of(request.match_info["id"])
        return web.json_response({
            "id": request.match_info["id"], "roomId": webex_id("ROOM", number), "roomType": "direct",
            "text": COMMAND, "personId": webex_id("PEOPLE", number), "personEmail": f"person{number}@region.example",
            "created": self.created,
        })

    async def _post(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        body = await request.json()
        number = number_of(body.get("toPersonId") or body["roomId"])
        if number in self.replies:
            self.extra_replies[number] = self.extra_replies.get(number, 0) + 1
        else:
            self.replies[number] = arrived
        return web.json_response({"id": webex_id("MESSAGE", 10**12 + number), "roomId": webex_id("ROOM", number),
                                  "roomType": "direct", "personId": BOT_ID, "created": self.created})

    async def _webhooks(self, request: web.Request) -> web.Response:
        return web.json_response({"items": []})

    async def _replies(self, request: web.Request) -> web.Response:
        """``?first=&last=``: how many replies arrived for that range (``&times=1``: and when)."""
        first, last = int(request.query["first"]), int(request.query["last"])
        times = {n: t for n, t in self.replies.items() if first <= n <= last}
        extra = sum(n for number, n in self.extra_replies.items() if first <= number <= last)
        answer: dict[str, Any] = {"count": len(times), "extra": extra}
        if request.query.get("times"):
            answer["times"] = times
        return web.json_response(answer)


@web.middleware
async def _bearer_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/v1/") and request.headers.get("Authorization") != f"Bearer {TOKEN}":
        return web.json_response({"message": "invalid token", "trackingId": "BENCH"}, status=401)
    return await handler(request)


def run_fake(port: int) -> None:
    web.run_app(FakeWebex().app(), host=HOST, port=port, print=None, access_log=None)


# -- processes and /proc ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of all the process's threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kib(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+), so each step has its own peak."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def database_backends_cpu(database: str) -> dict[int, float]:
    """CPU so far of each PostgreSQL backend serving ``database``, by process id."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f" {database} ".encode() in (entry / "cmdline").read_bytes().replace(b"\0", b" "):
                found[int(entry.name)] = cpu_seconds(int(entry.name))
        except OSError:
            continue
    return found


def backends_cpu_since(database: str, before: dict[int, float]) -> float:
    """CPU the backends used since ``before`` (a backend that ended meanwhile is not counted)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in database_backends_cpu(database).items())


@dataclass
class Program:
    name: str
    command: list[str]
    port: int
    env: dict[str, str]
    cwd: Path
    log: Path
    database: str | None = None  # PostgreSQL database of its own, whose backends' CPU is measured
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def wait_listening(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), timeout=1):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not listen on {HOST}:{self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- one step: a rate against one program ------------------------------------------------------------


@dataclass
class Step:
    program: str
    rate: float
    sent: int
    accepted: int  # answered 200
    replies: int
    extra_replies: int
    seconds: float  # first send to last reply
    reply_latency: list[float]
    answer_latency: list[float]
    cpu: float
    db_cpu: float | None
    peak_kib: int
    peak_is_per_step: bool

    @property
    def replies_per_second(self) -> float:
        return self.replies / self.seconds if self.seconds > 0 else 0.0

    @property
    def lost(self) -> int:
        return self.sent - self.replies

    def saturated(self) -> bool:
        return (self.replies_per_second < SATURATED_SHARE * self.rate
                or percentile(self.reply_latency, 50) > SATURATED_P50 or self.lost > 0)


def pooled(steps: Sequence[Step]) -> Step:
    """Rounds of one program at one rate as one step: counts and CPU added, samples joined."""
    first = steps[0]
    db = [s.db_cpu for s in steps if s.db_cpu is not None]
    return Step(first.program, first.rate, sum(s.sent for s in steps), sum(s.accepted for s in steps),
                sum(s.replies for s in steps), sum(s.extra_replies for s in steps), sum(s.seconds for s in steps),
                [x for s in steps for x in s.reply_latency], [x for s in steps for x in s.answer_latency],
                sum(s.cpu for s in steps), sum(db) if db else None, max(s.peak_kib for s in steps),
                all(s.peak_is_per_step for s in steps))


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share / 100 * len(ordered)) - 1)]


def envelope(number: int) -> bytes:
    """A ``messages/created`` delivery as Webex signs it: ids only, no text."""
    return json.dumps({
        "id": WEBHOOK_ID, "name": "Distansmöte messages/created", "targetUrl": "https://bot.region.example/webex/events",
        "resource": "messages", "event": "created", "filter": None, "orgId": ORG_ID, "createdBy": BOT_ID,
        "appId": APP_ID, "ownedBy": "creator", "status": "active", "created": "2026-01-01T00:00:00.000Z",
        "actorId": webex_id("PEOPLE", number),
        "data": {"id": webex_id("MESSAGE", number), "roomId": webex_id("ROOM", number), "roomType": "direct",
                 "personId": webex_id("PEOPLE", number), "personEmail": f"person{number}@region.example",
                 "created": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")},
    }, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Load:
    session: aiohttp.ClientSession
    fake_url: str
    next_number: int = 1
    quiet: float = 10.0
    max_wait: float = 180.0

    async def step(self, program: Program, rate: float, count: int) -> Step:
        first = self.next_number
        self.next_number += count
        bodies = [envelope(n) for n in range(first, first + count)]
        signed = [(body, {"Content-Type": "application/json",
                          "X-Spark-Signature": hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()})
                  for body in bodies]
        url = f"http://{HOST}:{program.port}/webex/events"
        sent_at = [0.0] * count
        answer = [math.nan] * count
        accepted = 0

        async def post(index: int) -> None:
            nonlocal accepted
            body, headers = signed[index]
            sent_at[index] = time.monotonic()
            try:
                async with self.session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    answer[index] = time.monotonic() - sent_at[index]
                    accepted += response.status == 200
            except Exception:  # noqa: BLE001 - counted as not accepted
                answer[index] = time.monotonic() - sent_at[index]

        peak_per_step = reset_peak(program.pid)
        cpu_before = cpu_seconds(program.pid)
        db_before = database_backends_cpu(program.database) if program.database else None
        start = time.monotonic()
        tasks = []
        for index in range(count):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(index)))
        await asyncio.gather(*tasks)
        times = await self._replies(first, first + count - 1)
        cpu = cpu_seconds(program.pid) - cpu_before
        db_cpu = backends_cpu_since(program.database, db_before) if program.database and db_before is not None else None
        extra = (await self._query(first, first + count - 1))["extra"]
        latency = [times[n] - sent_at[n - first] for n in times]
        last = max(times.values(), default=start)
        return Step(program.name, rate, count, accepted, len(times), extra, last - sent_at[0], latency,
                    [a for a in answer if not math.isnan(a)], cpu, db_cpu, status_kib(program.pid, "VmHWM"),
                    peak_per_step)

    async def _query(self, first: int, last: int, times: bool = False) -> dict[str, Any]:
        query = f"first={first}&last={last}" + ("&times=1" if times else "")
        async with self.session.get(f"{self.fake_url}/bench/replies?{query}") as response:
            return await response.json()  # type: ignore[no-any-return]

    async def _replies(self, first: int, last: int) -> dict[int, float]:
        """Wait until every reply came, or none came for ``quiet`` seconds; their arrival times."""
        expected = last - first + 1
        seen, changed = -1, time.monotonic()
        deadline = changed + self.max_wait
        while time.monotonic() < deadline:
            count = (await self._query(first, last))["count"]
            if count == expected:
                break
            if count != seen:
                seen, changed = count, time.monotonic()
            elif time.monotonic() - changed > self.quiet:
                break
            await asyncio.sleep(0.05)
        return {int(n): t for n, t in (await self._query(first, last, times=True))["times"].items()}


# -- the run -----------------------------------------------------------------------------------------


@dataclass
class Run:
    args: argparse.Namespace
    steps: list[Step] = field(default_factory=list)
    reference_saturation: float | None = None  # the last rate it kept up with
    saturated_at: float | None = None  # the first rate it did not
    overload_rate: float | None = None
    database_label: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment without any DISTANSMOTE_* of the caller, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISTANSMOTE_")}
    return {**env, **extra}


async def _admin(url: str, sql: str) -> Any:
    import asyncpg

    connection = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=5)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


@contextlib.contextmanager
def database(args: argparse.Namespace, scratch: Path, run: Run, label: str = "bot") -> Iterator[tuple[str, str | None]]:
    """A bot's database URL (and, for PostgreSQL, the database name), removed afterwards."""
    if args.database == "sqlite":
        import sqlite3

        run.database_label = f"SQLite {sqlite3.sqlite_version} (a file in a temporary directory, WAL)"
        yield f"sqlite+aiosqlite:///{scratch / f'{label}.db'}", None
        return
    name = f"distansmote_bench_{uuid.uuid4().hex[:10]}"
    version = asyncio.run(_admin(args.postgres_url, "SHOW server_version"))
    run.database_label = f"PostgreSQL {version} on {HOST} (a database of its own per bot, dropped afterwards)"
    asyncio.run(_admin(args.postgres_url, f'CREATE DATABASE "{name}"'))
    try:
        yield args.postgres_url.rsplit("/", 1)[0] + "/" + name, name
    finally:
        asyncio.run(_admin(args.postgres_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


def bot_program(name: str, scratch: Path, api_url: str, database: tuple[str, str | None], workers: int,
                domains: str) -> Program:
    """``distansmote serve``; with ``domains`` empty the allowlist is the organisation only."""
    port = free_port()
    return Program(name, [str(Path(sys.executable).parent / "distansmote"), "serve", "--host", HOST,
                          "--port", str(port)], port,
                   child_env({
                       "DISTANSMOTE_DATABASE_URL": database[0], "DISTANSMOTE_WEBEX_TOKEN": TOKEN,
                       "DISTANSMOTE_WEBEX_WEBHOOK_SECRET": SECRET, "DISTANSMOTE_WEBEX_API_URL": api_url,
                       "DISTANSMOTE_WEBEX_WORKERS": str(workers), "DISTANSMOTE_ALLOWED_WEBEX_ORG_IDS": ORG_ID,
                       "DISTANSMOTE_ALLOWED_EMAIL_DOMAINS": domains,
                       # Required at start; ``hjälp`` never calls the CMS (nothing listens on port 9).
                       "DISTANSMOTE_CMS_URL": f"http://{HOST}:9/api/v1/", "DISTANSMOTE_CMS_USERNAME": "bench",
                       "DISTANSMOTE_CMS_PASSWORD": "bench", "DISTANSMOTE_VIDEO_DOMAIN": "video.bench.example",
                   }), scratch, scratch / f"{name.split()[0]}-{port}.log", database=database[1])


def reference_program(scratch: Path, api_url: str, workers: int) -> Program:
    port = free_port()
    return Program(REFERENCE, [sys.executable, str(ROOT / "bench" / "reference_bot.py"), "--port", str(port),
                               "--api-url", api_url, "--token", TOKEN, "--secret", SECRET, "--workers", str(workers)],
                   port, child_env({}), scratch, scratch / "reference.log")


async def measure(run: Run, bot: Program, reference: Program, org_only: Program | None, fake_url: str) -> None:
    """The ramp with bot and reference; the organisation-only bot at the target rate only."""
    args = run.args
    deadline = time.monotonic() + args.max_seconds
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        load = Load(session, fake_url)
        for program in (bot, reference, org_only):  # warm up: pools, connections, first imports
            if program is not None:
                await load.step(program, 50, 100)

        def count(rate: float) -> int:
            return min(args.max_count, max(args.min_count, round(rate * args.seconds)))

        turn = 0

        async def both(rate: float) -> Step:
            """Bot and reference in turns, the order alternating; at the target rate several rounds."""
            nonlocal turn
            at_target = rate == TARGET_RATE
            order = [bot, reference] + ([org_only] if org_only is not None and at_target else [])
            rounds: dict[str, list[Step]] = {program.name: [] for program in order}
            for _ in range(args.rounds if at_target else 1):
                for program in order if turn % 2 == 0 else order[::-1]:
                    step = await load.step(program, rate, count(rate))
                    rounds[program.name].append(step)
                    print(f"  {program.name:9} {rate:6.0f}/s: {step.replies_per_second:7.1f} replies/s, reply p50 "
                          f"{1000 * percentile(step.reply_latency, 50):8.1f} ms, answer p99 "
                          f"{1000 * percentile(step.answer_latency, 99):6.1f} ms, lost {step.lost}, "
                          f"cpu {1000 * step.cpu / step.sent:.2f} s/1000", flush=True)
                turn += 1
            run.steps += [pooled(steps) for steps in rounds.values()]
            return next(step for step in reversed(run.steps) if step.program == REFERENCE)

        for rate in RAMP:
            if rate > args.max_rate or time.monotonic() > deadline:
                break
            reference_step = await both(rate)
            if reference_step.saturated():
                run.saturated_at = rate
                break
            run.reference_saturation = rate
        if run.saturated_at and run.reference_saturation and time.monotonic() < deadline:
            run.overload_rate = 2 * run.reference_saturation
            await both(run.overload_rate)


QUICK_COUNT = 250  # webhooks per quick step: 5 s at the target rate
QUICK_ROUNDS = 2


@dataclass
class Quick:
    database: str
    bot: Step
    reference: Step

    @property
    def ratio(self) -> float:
        """CPU per command, bot (with its database backends) over reference."""
        bot = self.bot.cpu + (self.bot.db_cpu or 0.0)
        return (bot / self.bot.sent) / (self.reference.cpu / self.reference.sent) if self.reference.cpu else math.inf

    def line(self) -> str:
        added = percentile(self.bot.reply_latency, 50) - percentile(self.reference.reply_latency, 50)
        bot, reference = self.bot, self.reference
        db = f" + {1000 * bot.db_cpu / bot.sent:.2f} db" if bot.db_cpu is not None else ""
        return (f"quick {self.database}: CPU per command {self.ratio:.2f}x the reference's "
                f"({1000 * bot.cpu / bot.sent:.2f}{db} / {1000 * reference.cpu / reference.sent:.2f} s per 1,000); "
                f"p50 added {1000 * added:.1f} ms; lost {bot.lost} / {reference.lost}")


async def measure_quick(bot: Program, reference: Program, fake_url: str, database_name: str) -> Quick:
    """The target rate only: a warm-up, then bot and reference in turns, pooled."""
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        load = Load(session, fake_url)
        load.next_number = 10**9 * (1 + ("sqlite", "postgresql").index(database_name))  # new people per database
        for program in (bot, reference):
            await load.step(program, TARGET_RATE, 100)
        steps: dict[str, list[Step]] = {bot.name: [], reference.name: []}
        for turn in range(QUICK_ROUNDS):
            for program in (bot, reference) if turn % 2 == 0 else (reference, bot):
                steps[program.name].append(await load.step(program, TARGET_RATE, QUICK_COUNT))
    return Quick(database_name, pooled(steps[bot.name]), pooled(steps[reference.name]))


def run_quick(args: argparse.Namespace, scratch: Path, run: Run, api_url: str, fake_url: str,
              started: list[Program]) -> list[Quick]:
    reference = reference_program(scratch, api_url, args.workers)
    reference.start()
    started.append(reference)
    reference.wait_listening()
    results = []
    for name in ("sqlite", "postgresql"):
        args.database = name
        with database(args, scratch, run, f"quick-{name}") as db:
            bot = bot_program(BOT, scratch, api_url, db, args.workers, "region.example")
            try:
                bot.start()
                bot.wait_listening()
                results.append(asyncio.run(measure_quick(bot, reference, fake_url, name)))
            finally:
                bot.stop()
        print(results[-1].line(), flush=True)
    return results


# -- the report --------------------------------------------------------------------------------------


def commit() -> str:
    """The commit measured (``+changes`` if the work tree differs from it)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    memory = status_line("/proc/meminfo", "MemTotal")
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}, "
            f"{memory / 1024 / 1024:.1f} GiB memory, Linux {platform.release()}, Python {platform.python_version()}")


def status_line(path: str, name: str) -> int:
    for line in Path(path).read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)


def _ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{1000 * value:.1f}"


def _ratio(bot: float, reference: float) -> str:
    if math.isnan(bot) or math.isnan(reference) or reference == 0:
        return "–"
    return f"{bot / reference:.2f}×"


def _figures(step: Step) -> list[float]:
    return [step.replies_per_second, *(percentile(step.reply_latency, p) for p in (50, 90, 99, 100)),
            *(percentile(step.answer_latency, p) for p in (50, 99)), float(step.lost),
            1000 * step.cpu / step.sent, step.peak_kib / 1024]


def report(run: Run, command: str) -> str:
    by_rate: dict[float, dict[str, Step]] = {}
    for step in run.steps:
        by_rate.setdefault(step.rate, {})[step.program] = step
    lines = [
        f"Command: `{command}`",
        "",
        f"Run {run.started:%Y-%m-%d %H:%M} UTC at commit {commit()} on {machine()}. "
        f"Bot database: {run.database_label}. "
        "All processes (load, fake Webex API, bot, reference, database) share this machine, on 127.0.0.1.",
        "",
        "Each rate: signed `messages/created` webhooks carrying `/distansmöte hjälp`, each from its own person and "
        f"1:1 room, sent open-loop for about {run.args.seconds:g} s (at least {run.args.min_count}, at most "
        f"{run.args.max_count}); at {TARGET_RATE}/s {run.args.rounds} rounds each, pooled. The bot allows the "
        "fake's organisation and the senders' e-mail domain, so a typed command needs no people lookup; the "
        f"organisation-only bot (at {TARGET_RATE}/s) looks every new sender up, as the reference never does. "
        "Latencies in ms; CPU in seconds per 1,000 commands (utime+stime of the process; for a bot on PostgreSQL, "
        "in brackets, the database backends serving it); peak = VmHWM during the step.",
        "",
        "| rate /s | program | replies /s | reply p50 | p90 | p99 | max | answer p50 | answer p99 | lost | "
        "CPU s/1000 | peak MiB |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for rate, steps in by_rate.items():
        label = f"{rate:g}" + (" (2× saturation)" if rate == run.overload_rate else "")
        for step in (steps.get(name) for name in (BOT, REFERENCE, BOT_ORG_ONLY)):
            if step is None:
                continue
            f = _figures(step)
            cpu = f"{f[8]:.2f}"
            if step.db_cpu is not None:
                cpu += f" (+{1000 * step.db_cpu / step.sent:.2f} db)"
            lines.append(f"| {label} | {step.program} | {f[0]:.1f} | " + " | ".join(_ms(v) for v in f[1:7])
                         + f" | {step.lost} | {cpu} | {f[9]:.0f} |")
        reference = steps.get(REFERENCE)
        for step in (steps.get(name) for name in (BOT, BOT_ORG_ONLY)):
            if step is None or reference is None:
                continue
            b, r = _figures(step), _figures(reference)
            lines.append(f"| {label} | {step.program} ÷ reference | "
                         + " | ".join(_ratio(x, y) for x, y in zip(b[:7], r[:7], strict=True))
                         + f" | – | {_ratio(b[8], r[8])} | {_ratio(b[9], r[9])} |")
    lines += ["", *verdicts(run, by_rate), "", *reading(run, by_rate)]
    notes = [f"{s.program} at {s.rate:g}/s: {s.sent - s.accepted} webhooks not answered 200"
             for s in run.steps if s.accepted != s.sent]
    notes += [f"{s.program} at {s.rate:g}/s: {s.extra_replies} duplicate replies" for s in run.steps if s.extra_replies]
    if any(not s.peak_is_per_step for s in run.steps):
        notes.append("VmHWM could not be reset per step: peaks are since process start")
    if notes:
        lines += ["", "Notes: " + "; ".join(notes) + "."]
    return "\n".join(lines) + "\n"


def verdicts(run: Run, by_rate: dict[float, dict[str, Step]]) -> list[str]:
    lines = ["Targets:", ""]
    at_target = by_rate.get(TARGET_RATE, {})
    reference = at_target.get(REFERENCE)
    for name, what in ((BOT, "the bot"), (BOT_ORG_ONLY, "with an organisation-only allowlist (a people lookup "
                                                       "per new sender) it")):
        bot = at_target.get(name)
        if bot is None or reference is None:
            continue
        added = percentile(bot.reply_latency, 50) - percentile(reference.reply_latency, 50)
        ratio = (bot.cpu / bot.sent) / (reference.cpu / reference.sent) if reference.cpu else math.inf
        lines.append(f"- at {TARGET_RATE}/s {what} adds {1000 * added:.1f} ms at the median (target ≤ 3 ms: "
                     f"{'met' if added <= 0.003 else 'NOT met'}); CPU per command {ratio:.2f}× the reference's "
                     f"(target ≤ 1.3×: {'met' if ratio <= 1.3 else 'NOT met'})")
    if run.saturated_at is None or run.reference_saturation is None:
        lines.append("- the reference did not saturate within the ramp (raise --max-rate or --max-seconds)")
    else:
        lines.append(f"- the reference keeps up with {run.reference_saturation:g}/s and saturates at "
                     f"{run.saturated_at:g}/s (replies per second below {SATURATED_SHARE:.0%} of the rate, its "
                     f"median reply later than {SATURATED_P50:g} s, or a reply lost)")
        overload = by_rate.get(run.overload_rate or -1, {}).get(BOT)
        reference_overload = by_rate.get(run.overload_rate or -1, {}).get(REFERENCE)
        if overload is None or reference_overload is None:
            lines.append("- twice the saturation rate was not run (time limit)")
        else:
            p99 = percentile(overload.answer_latency, 99)
            ok = p99 <= 0.050 and overload.lost == 0 and overload.accepted == overload.sent
            lines.append(f"- at {overload.rate:g}/s (twice that) the bot's webhook answer p99 is {1000 * p99:.1f} ms "
                         f"(target ≤ 50 ms) and {overload.lost} replies were lost (target 0; the last came "
                         f"{overload.seconds:.1f} s after the first webhook): {'met' if ok else 'NOT met'}")
            ours, theirs = overload.replies_per_second, reference_overload.replies_per_second
            lines.append(f"- at {overload.rate:g}/s the bot replies at {ours:.0f} a second, the reference at "
                         f"{theirs:.0f} (target: at least the reference's): {'met' if ours >= theirs else 'NOT met'}")
    return lines


def reading(run: Run, by_rate: dict[float, dict[str, Step]]) -> list[str]:
    """What the figures say, from this run's figures."""
    lines = [
        "Reading it:",
        "",
        "- Per command the bot does what the reference does (verify, answer 200, fetch the message, post a "
        "reply) and also: writes the job to the database before answering (one transaction), checks the "
        "allowlist, routes the command, replies with a card, and records the job done and the event handled "
        "in one transaction after the reply, the next webhook's (docs/reliability.md, \"The writes of a "
        "command\"; the backends' CPU in brackets is not in the ratio of the table; --quick counts it on "
        "PostgreSQL).",
    ]
    at_target = by_rate.get(TARGET_RATE, {})
    bot, org_only = at_target.get(BOT), at_target.get(BOT_ORG_ONLY)
    if bot and org_only:
        extra = 1000 * (org_only.cpu / org_only.sent - bot.cpu / bot.sent)
        lines.append(f"- A people lookup (`GET /people/{{id}}`, one more Webex call through requests) costs about "
                     f"{extra:.1f} ms of CPU. The bot keeps people for ten minutes, but here every sender is new; "
                     "with the senders' e-mail domain allowed, a typed command needs no lookup at all.")
    overload = by_rate.get(run.overload_rate or -1, {})
    if BOT in overload and REFERENCE in overload:
        bot_most = max(s.replies_per_second for s in run.steps if s.program == BOT)
        reference_most = max(s.replies_per_second for s in run.steps if s.program == REFERENCE)
        ours, theirs = overload[BOT], overload[REFERENCE]
        lines.append(
            f"- The bot works off at most about {bot_most:.0f} commands a second here, the reference about "
            f"{reference_most:.0f}. Beyond that the bot's backlog waits in the database: webhooks are still "
            f"answered within {1000 * percentile(ours.answer_latency, 99):.0f} ms (p99) at {ours.rate:g}/s and its "
            f"peak memory stays at {ours.peak_kib / 1024:.0f} MiB, while the reference, whose backlog is tasks in "
            f"memory, answers its webhooks only after {1000 * percentile(theirs.answer_latency, 99):.0f} ms (p99) "
            f"and grows to {theirs.peak_kib / 1024:.0f} MiB. (Webex disables a webhook after 100 failed deliveries "
            "in five minutes.)")
    lines.append("- Everything shares one machine; figures move by about ±10 % from run to run, which is why bot "
                 "and reference take turns at every rate and the target rate is measured in several rounds.")
    return lines


def write_section(path: Path, body: str) -> None:
    """Replace (or add) the "Webhooks" section of ``path``, leaving every other section alone."""
    heading = "## Webhooks"
    section = f"{heading}\n\n{body}"
    if not path.exists():
        path.write_text(f"# Benchmarks\n\n{section}")
        return
    text = path.read_text()
    start = text.find(f"\n{heading}\n")
    if start < 0:
        path.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    end = text.find("\n## ", start + len(heading) + 2)
    path.write_text(text[:start + 1] + section + (text[end:] if end >= 0 else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES,
                        help="a server the benchmark may create (and drop) a database on")
    parser.add_argument("--seconds", type=float, default=6.0, help="sending time per step")
    parser.add_argument("--min-count", type=int, default=300, help="fewest webhooks per step")
    parser.add_argument("--max-count", type=int, default=4000, help="most webhooks per step")
    parser.add_argument("--max-rate", type=float, default=max(RAMP))
    parser.add_argument("--max-seconds", type=float, default=900, help="no new step after this")
    parser.add_argument("--rounds", type=int, default=3, help=f"rounds at {TARGET_RATE}/s, pooled (less noise)")
    parser.add_argument("--workers", type=int, default=8, help="SDK threads of both programs")
    parser.add_argument("--no-org-only", action="store_true",
                        help=f"leave out the bot with an organisation-only allowlist (run at {TARGET_RATE}/s)")
    parser.add_argument("--write", action="store_true", help="write the report into docs/benchmarks.md")
    parser.add_argument("--quick", action="store_true",
                        help=f"about a minute: {TARGET_RATE}/s only, on SQLite and PostgreSQL; prints the CPU ratios")
    parser.add_argument("--max-cpu-ratio", type=float, metavar="RATIO",
                        help="with --quick: exit 1 when the bot's CPU per command is above RATIO times the reference's")
    parser.add_argument("--fake-webex", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake_webex:
        run_fake(args.fake_webex)
        return
    command = " ".join([".venv/bin/python bench/webhooks.py", *map(shlex.quote, sys.argv[1:])])
    run = Run(args)
    with tempfile.TemporaryDirectory(prefix="distansmote-bench-") as tmp:
        scratch = Path(tmp)
        fake_port = free_port()
        fake = Program("fake Webex API", [sys.executable, __file__, "--fake-webex", str(fake_port)], fake_port,
                       child_env({}), ROOT, scratch / "fake.log")
        started: list[Program] = []
        try:
            fake.start()
            started.append(fake)
            fake.wait_listening()
            fake_url = f"http://{HOST}:{fake_port}"
            api_url = f"{fake_url}/v1/"
            if args.quick:
                print(f"commit {commit()}", flush=True)
                quick = run_quick(args, scratch, run, api_url, fake_url, started)
                over = [q for q in quick if args.max_cpu_ratio is not None and q.ratio > args.max_cpu_ratio]
                if over:
                    sys.exit(f"CPU ratio above {args.max_cpu_ratio:g}: " + ", ".join(q.database for q in over))
                return
            with contextlib.ExitStack() as databases:
                bot = bot_program(BOT, scratch, api_url, databases.enter_context(database(args, scratch, run)),
                                  args.workers, "region.example")
                reference = reference_program(scratch, api_url, args.workers)
                org_only = None if args.no_org_only else bot_program(
                    BOT_ORG_ONLY, scratch, api_url, databases.enter_context(database(args, scratch, run, "org")),
                    args.workers, "")
                programs = [p for p in (bot, reference, org_only) if p is not None]
                try:
                    for program in programs:
                        program.start()
                        started.append(program)
                    for program in programs:
                        program.wait_listening()
                    print(f"{machine()}\n{run.database_label}", flush=True)
                    asyncio.run(measure(run, bot, reference, org_only, fake_url))
                finally:
                    for program in programs:
                        program.stop()
        finally:
            for program in started:
                program.stop()
        markdown = report(run, command)
    print("\n" + markdown)
    if args.write:
        write_section(ROOT / "docs" / "benchmarks.md", markdown)
        print("written to docs/benchmarks.md (section Webhooks)")


if __name__ == "__main__":
    main()
