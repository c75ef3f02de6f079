"""``distansmote cms`` and ``cms-simulator``: Cisco Meeting Server, and a fake of its API."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.cli.arguments import command
from bot.cli.check import cms_problem, shown_cms_url
from bot.platforms.registry import load_settings

_SIMULATOR_PASSWORD = "simulator"


def add_commands(commands: argparse._SubParsersAction) -> None:
    cms = command(commands, "cms", "Cisco Meeting Server", details="Uses the DISTANSMOTE_CMS_* settings only; "
                  "touches no database.")
    cms_commands = cms.add_subparsers(dest="cms_command", required=True, metavar="ACTION")
    command(cms_commands, "check", "log in to CMS once with the DISTANSMOTE_CMS_* settings and say what is wrong",
            details="Exit code 0 when the API answered, 1 when it did not, 2 when settings are missing."
            ).set_defaults(run=_cms_check)

    cms_simulator = command(commands, "cms-simulator", "serve a fake CMS API for development and demos",
                            details="Runs until Ctrl-C; prints the DISTANSMOTE_CMS_* settings that point at it.")
    cms_simulator.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    cms_simulator.add_argument("--port", type=int, default=8081,
                               help="port (default 8081; 0 picks a free one)")
    cms_simulator.add_argument("--username", default="api", help="API username it accepts (default api)")
    cms_simulator.add_argument("--password", default=_SIMULATOR_PASSWORD,
                               help=f"API password it accepts (default {_SIMULATOR_PASSWORD})")
    cms_simulator.set_defaults(run=_cms_simulator)


def _cms_check(args: argparse.Namespace) -> int:
    from bot.services.cms import missing_settings

    settings = load_settings()
    if missing := missing_settings(settings):
        print(f"distansmote cms check: CMS is not configured; set {', '.join(missing)}", file=sys.stderr)
        return 2
    problem = asyncio.run(cms_problem(settings))
    if problem is None:
        print(f"CMS OK: {shown_cms_url(settings)}")
        return 0
    print(f"distansmote cms check: {shown_cms_url(settings)}: {problem}", file=sys.stderr)
    return 1


def _cms_simulator(args: argparse.Namespace) -> int:
    from bot.simulators.cms import run_simulator

    def ready(url: str) -> None:
        # Only the simulator's well-known default is shown; a password someone chose stays off the screen.
        shown = args.password == _SIMULATOR_PASSWORD
        password = _SIMULATOR_PASSWORD if shown else "<the --password you gave>"
        print(f"CMS simulator listening on {url} (Ctrl-C stops it). Point the bot at it with:\n"
              f"  DISTANSMOTE_CMS_URL={url}\n  DISTANSMOTE_CMS_USERNAME={args.username}\n"
              f"  DISTANSMOTE_CMS_PASSWORD={password}", flush=True)

    try:
        asyncio.run(run_simulator(args.host, args.port, ready=ready, username=args.username,
                                  password=args.password))
    except KeyboardInterrupt:
        print("CMS simulator stopped")
    except OSError as exc:
        print(f"distansmote cms-simulator: cannot listen on {args.host}:{args.port} ({exc.strerror})",
              file=sys.stderr)
        return 1
    return 0
