"""The webhook benchmark's runs: the programs measured, their databases, the ramp and the quick round."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench.lib import ROOT
from bench.lib.load import Load
from bench.lib.postgres import admin, scratch_database
from bench.lib.processes import HOST, Program, child_env, free_port
from bench.lib.stats import Step, percentile, pooled
from bench.lib.webex_fake import ORG_ID, SECRET, TOKEN

RAMP = (50, 75, 100, 150, 200, 300, 400, 600, 800, 1200, 1600)
TARGET_RATE = 50  # the rate the latency and CPU targets are read at
BOT, BOT_ORG_ONLY, REFERENCE = "bot", "bot, org allowlist only", "reference"


@dataclass
class Run:
    args: argparse.Namespace
    steps: list[Step] = field(default_factory=list)
    reference_saturation: float | None = None  # the last rate it kept up with
    saturated_at: float | None = None  # the first rate it did not
    overload_rate: float | None = None
    database_label: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


@contextlib.contextmanager
def database(args: argparse.Namespace, scratch: Path, run: Run, label: str = "bot") -> Iterator[tuple[str, str | None]]:
    """A bot's database URL (and, for PostgreSQL, the database name), removed afterwards."""
    if args.database == "sqlite":
        import sqlite3

        run.database_label = f"SQLite {sqlite3.sqlite_version} (a file in a temporary directory, WAL)"
        yield f"sqlite+aiosqlite:///{scratch / f'{label}.db'}", None
        return
    version = asyncio.run(admin(args.postgres_url, "SHOW server_version"))
    run.database_label = f"PostgreSQL {version} on {HOST} (a database of its own per bot, dropped afterwards)"
    with scratch_database(args.postgres_url) as scratch_db:
        yield scratch_db


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
