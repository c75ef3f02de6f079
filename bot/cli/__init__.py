"""The ``distansmote`` command line: the parser and the entry point; each group of commands is a module here.

A command imports what it runs (SQLAlchemy, the services, an SDK) when it runs, so that building the parser,
which every command does, stays cheap.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot import installed_version
from bot.cli import audit, check, cms, db, demo, privacy, report, serve, sweep, teams, webex
from bot.config import ConfigError
from bot.outbound import share_ca_bundle
from bot.platforms.registry import load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="distansmote",
        description="Distansmöte: the region's distance-meeting routine as a Webex/Teams bot. "
        "Settings come from DISTANSMOTE_* environment variables (and .env; a secret also from the file "
        "DISTANSMOTE_<NAME>_FILE names); .env.example lists them.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}",
                        help="print the installed version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # In the order `distansmote --help` lists them.
    for group in (demo, check, db, audit, sweep, report, privacy, cms, serve, webex, teams):
        group.add_commands(commands)
    return parser


def _configure_logging(command: str) -> None:
    from bot.logs import configure_logging

    if command == "demo":  # the demo ignores DISTANSMOTE_* settings
        configure_logging()
        return
    try:
        settings = load_settings()
    except ConfigError:
        configure_logging()  # the command reports the error itself
        return
    configure_logging(settings.log_format, settings.log_level)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    share_ca_bundle()
    _configure_logging(args.command)
    try:
        return args.run(args)
    except ConfigError as exc:
        print(f"distansmote: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
