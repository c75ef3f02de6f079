"""Benchmark: the bot with 100,000 pending reminders in PostgreSQL, 1,000 of them falling due at once.

    .venv/bin/python bench/reminders.py [--postgres-url URL] [--pending N] [--due N] [--latency MS ...]

Creates a scratch database on the server, fills it, and starts the real bot (``open_services`` +
``create_app(..., reminders=True)``: migrations, APScheduler timer, claim loops) as a separate
process with a recording adapter in place of Webex. Measured:

- start to ready: from spawning the process until the app has started (timer armed), wall clock;
- resident memory (VmRSS) when ready and after the burst, and the peak (VmHWM);
- lateness of each of the due reminders: when the adapter was called minus the due time;
- each message's arrival, to count any lost or doubled.

``--latency`` simulates a platform round trip per message (0 = the bot's own overhead).
``--rate-limit N`` adds a run against a platform that accepts N messages in any second and answers
the others 429 with a Retry-After in whole seconds, as Webex does (``--rate-latency`` its round trip);
the rate that got through is the messages accepted over the time from the first to the last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter, deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import ROOT
from bench.lib.host import status_kib
from bench.lib.postgres import DEFAULT_URL, scratch_database

LEAD = timedelta(seconds=20)  # the burst falls due this long after seeding: after the bot is ready


def _rss() -> dict[str, int]:
    return {name: status_kib(os.getpid(), name) for name in ("VmRSS", "VmHWM")}  # KiB


# -- the bot process -------------------------------------------------------------------------------


class RecordingAdapter:
    platform = "memory"
    ready = True

    def __init__(self, expected: int, latency: float, rate_limit: int = 0) -> None:
        self.expected, self.latency, self.rate_limit = expected, latency, rate_limit
        self.sent_at: list[float] = []
        self.accepted: list[float] = []
        self.texts: Counter[str] = Counter()
        self.refused = 0
        self.window: deque[float] = deque()
        self.done = asyncio.Event()

    def install(self, app: object, host: object) -> None:
        pass

    async def send_direct(self, person: object, replies: object) -> None:
        from bot.core.delivery import DeliveryFailed

        called = time.time()
        if not self.rate_limit:
            self.sent_at.append(called)
        await asyncio.sleep(self.latency)
        if self.rate_limit:
            now = time.time()
            while self.window and self.window[0] <= now - 1.0:
                self.window.popleft()
            if len(self.window) >= self.rate_limit:
                self.refused += 1
                raise DeliveryFailed("http_429", retry_after=max(1, math.ceil(self.window[0] + 1.0 - now)))
            self.window.append(now)
            self.sent_at.append(called)
            self.accepted.append(now)
        self.texts[getattr(replies[0], "text", "")] += 1  # type: ignore[index]
        if len(self.texts) >= self.expected:
            self.done.set()

    async def send_to_identity(self, identity: str, replies: object) -> None:
        await self.send_direct(identity, replies)


async def bot(url: str, due_at: float, expected: int, latency: float, rate_limit: int) -> None:
    from aiohttp import web

    from bot.app import create_app
    from bot.config import Settings
    from bot.runtime import open_services

    settings = Settings(_env_file=None, database_url=url, cms_url="http://127.0.0.1:9/api/v1/",  # type: ignore[call-arg]
                        cms_username="bench", cms_password="bench")
    adapter = RecordingAdapter(expected, latency, rate_limit)
    services = await open_services(settings, adapters=[adapter])  # type: ignore[list-item]
    runner = web.AppRunner(create_app(services, reminders=True))
    await runner.setup()
    print(json.dumps({"ready": time.time(), **_rss()}), flush=True)
    await asyncio.wait_for(adapter.done.wait(), timeout=900)
    await asyncio.sleep(2)  # anything doubled after the last new message shows up now
    lateness = sorted(sent - due_at for sent in adapter.sent_at)
    accepted = sorted(adapter.accepted)
    print(json.dumps({
        "lateness": lateness, "unique": len(adapter.texts), "messages": sum(adapter.texts.values()),
        "refused": adapter.refused,
        "rate": (len(accepted) - 1) / (accepted[-1] - accepted[0]) if len(accepted) > 1 else None,
        **_rss()}), flush=True)
    await runner.cleanup()
    await services.close()


# -- the harness -----------------------------------------------------------------------------------


async def seed(url: str, pending: int, due: int, due_at: datetime) -> None:
    """``pending`` reminders on ``pending // 4`` meetings; the first ``due`` fall due at ``due_at``."""
    import asyncpg

    from bot.store.engine import create_engine
    from bot.store.migrations import upgrade

    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    now = datetime.now(UTC)
    meetings, reminders = [], []
    for n in range(pending // 4):
        meeting_id = str(uuid.uuid4())
        starts = due_at + timedelta(minutes=5) if n < due else now + timedelta(days=1 + n % 30, minutes=n % 600)
        meetings.append((meeting_id, meeting_id, "memory", "memory:nurse", "Nina", "HC Bench", f"HC Bench {n}",
                         f"hc.bench.{n}", str(100_000_000 + n), meeting_id, starts, starts + timedelta(hours=1),
                         "invited", now))
        plan = [("start", starts - timedelta(minutes=5)), ("unconfirmed", starts - timedelta(hours=1)),
                ("cleanup", starts + timedelta(minutes=70)), ("auto_delete", starts + timedelta(hours=25))]
        if n < due:
            plan[1] = ("unconfirmed", starts + timedelta(days=400))  # only the start reminder is in the burst
        reminders += [(str(uuid.uuid4()), meeting_id, kind, at, "pending", 0, at) for kind, at in plan]
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await connection.copy_records_to_table("meeting", records=meetings, columns=[
            "id", "request_key", "platform", "creator_id", "creator_name", "unit", "room_name", "uri", "call_id",
            "space_id", "starts_at", "ends_at", "state", "created_at"])
        await connection.copy_records_to_table("reminder", records=reminders, columns=[
            "id", "meeting_id", "kind", "due_at", "state", "attempts", "planned_at"])
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def run_bot(url: str, due_at: datetime, due: int, latency: float, rate_limit: int = 0) -> dict[str, float]:
    started = time.time()
    process = subprocess.Popen(
        [sys.executable, __file__, "--bot", url, str(due_at.timestamp()), str(due), str(latency), str(rate_limit)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    ready = json.loads(process.stdout.readline())
    burst = json.loads(process.stdout.readline())
    process.wait(timeout=120)
    lateness = burst["lateness"]
    return {
        "start_to_ready_s": ready["ready"] - started,
        "rss_ready_mib": ready["VmRSS"] / 1024,
        "rss_after_mib": burst["VmRSS"] / 1024,
        "peak_mib": burst["VmHWM"] / 1024,
        "p50_s": statistics.median(lateness),
        "p99_s": lateness[int(len(lateness) * 0.99) - 1],
        "max_s": lateness[-1],
        "lost": due - burst["unique"],
        "doubled": burst["messages"] - burst["unique"],
        "refused": burst["refused"],
        "rate": burst["rate"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=DEFAULT_URL, help="a server the benchmark may create databases on")
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--latency", type=float, nargs="*", default=[0.0, 100.0], help="ms per message")
    parser.add_argument("--rate-limit", type=int, default=50, help="messages a second the rate-limited "
                        "platform accepts (0: no such run)")
    parser.add_argument("--rate-latency", type=float, default=20.0, help="ms per message of that platform")
    args = parser.parse_args()
    print(f"{args.pending} pending reminders, {args.due} due at once; python {sys.version.split()[0]}")
    print("| platform | start to ready | RSS ready / after / peak | lateness p50 | p99 | max "
          "| got through | lost | doubled | 429s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    runs = [(f"{latency:.0f} ms", latency, 0) for latency in args.latency]
    if args.rate_limit:
        runs.append((f"{args.rate_limit}/s limit, {args.rate_latency:.0f} ms", args.rate_latency, args.rate_limit))
    for label, latency, rate_limit in runs:
        with scratch_database(args.postgres_url) as (url, _):
            due_at = datetime.now(UTC) + LEAD
            asyncio.run(seed(url, args.pending, args.due, due_at))
            result = run_bot(url, due_at, args.due, latency / 1000, rate_limit)
        rate = f"{result['rate']:.1f}/s" if result["rate"] else "–"
        print(f"| {label} | {result['start_to_ready_s']:.2f} s | {result['rss_ready_mib']:.0f} / "
              f"{result['rss_after_mib']:.0f} / {result['peak_mib']:.0f} MiB | {result['p50_s']:.2f} s | "
              f"{result['p99_s']:.2f} s | {result['max_s']:.2f} s | {rate} | {result['lost']} | "
              f"{result['doubled']} | {result['refused']} |", flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--bot":
        _, _, bot_url, due_ts, expected, latency, rate_limit = sys.argv
        asyncio.run(bot(bot_url, float(due_ts), int(expected), float(latency), int(rate_limit)))
    else:
        main()
