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
import contextlib
import shlex
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import ROOT
from bench.lib.host import commit, machine
from bench.lib.postgres import DEFAULT_URL as DEFAULT_POSTGRES
from bench.lib.processes import HOST, Program, child_env, free_port
from bench.lib.report import report, write_section
from bench.lib.runs import (
    BOT,
    BOT_ORG_ONLY,
    RAMP,
    TARGET_RATE,
    Run,
    bot_program,
    database,
    measure,
    reference_program,
    run_quick,
)
from bench.lib.webex_fake import run_fake


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
