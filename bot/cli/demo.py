"""``distansmote demo``: the bot in a local chat page (bot/demo/)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.cli.arguments import command, port_number


def add_commands(commands: argparse._SubParsersAction) -> None:
    demo = command(commands, "demo", "try the bot in a local chat page: everything embedded, no accounts",
                   details="Listens on 127.0.0.1 only and ignores DISTANSMOTE_* settings and .env; runs until Ctrl-C.")
    demo.add_argument("--port", type=port_number, default=8080, help="port of the page (default 8080)")
    demo.add_argument("--data-dir", type=Path, default=Path("demo-data"),
                      help="the demo's own data folder; its database starts empty each time (default ./demo-data)")
    demo.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    from bot.demo.adapter import DemoSetupError
    from bot.demo.runner import run_demo

    try:
        asyncio.run(run_demo(args.port, args.data_dir))
    except DemoSetupError as exc:
        print(f"distansmote demo: {exc}", file=sys.stderr)
        return 2
    return 0
