"""The ``distansmote`` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from bot.config import ConfigError, load_settings

log = logging.getLogger(__name__)


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.db import create_engine, upgrade

    settings = load_settings()

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print("database schema is up to date")
    return 0


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is 0-65535 (0 picks a free one)")
    return port


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo
    from bot.platforms.demo import DemoSetupError

    try:
        asyncio.run(run_demo(args.port, args.data_dir))
    except DemoSetupError as exc:
        print(f"distansmote demo: {exc}", file=sys.stderr)
        return 2
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from bot.runtime import open_services
    from bot.services.cms import CmsError
    from bot.services.reminders import Orphan, sweep

    settings = load_settings()

    async def run() -> list[Orphan]:
        services = await open_services(settings)
        try:
            return await sweep(services.cms, services.sessions, delete=args.delete, clock=services.clock)
        finally:
            await services.close()

    try:
        orphans = asyncio.run(run())
    except CmsError as exc:
        print(f"distansmote sweep: {exc}", file=sys.stderr)
        return 1
    for orphan in orphans:
        print(f"{orphan.space_id}  {orphan.name}  (meeting {orphan.meeting_id}){'  deleted' if orphan.deleted else ''}")
    print(f"{len(orphans)} orphaned room(s){' deleted' if args.delete else ''}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.county_report import render
    from bot.db import create_engine, sessionmaker, upgrade
    from bot.services.report import Report, ReportService

    settings = load_settings()
    if args.since and args.until and args.since > args.until:
        print("distansmote report: --from is after --to", file=sys.stderr)
        return 2

    async def run() -> Report:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
            return await ReportService(sessionmaker(engine), SystemClock(), settings).report(args.since, args.until)
        finally:
            await engine.dispose()

    print(render(asyncio.run(run()), args.format))
    return 0


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a date is YYYY-MM-DD, e.g. 2026-11-01") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="distansmote",
        description="Distansmöte: the region's distance-meeting routine as a Webex/Teams bot. "
        "Settings come from DISTANSMOTE_* environment variables (and .env).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="try the bot in a local chat page: everything embedded, no accounts, "
        "listens on 127.0.0.1 only, ignores DISTANSMOTE_* settings",
    )
    demo.add_argument("--port", type=_port, default=8080, help="port of the page (default 8080)")
    demo.add_argument("--data-dir", type=Path, default=Path("demo-data"),
                      help="the demo's own data folder; its database starts empty each time (default ./demo-data)")
    demo.set_defaults(run=_demo)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply all migrations").set_defaults(run=_db_upgrade)

    sweep = commands.add_parser(
        "sweep", help="list rooms on the CMS that carry this bot's mark but that no live meeting claims "
        "(orphans); with --delete remove them, each recorded in the audit trail as actor 'sweep'",
    )
    sweep.add_argument("--delete", action="store_true", help="delete the orphaned rooms")
    sweep.set_defaults(run=_sweep)

    report = commands.add_parser(
        "report", help="the county's figures per unit: rooms created, deleted by the creator, by an admin "
        "and automatically, median and longest time from meeting end to deletion, live and overdue now, "
        "orphans the last sweep found (no patient data, no recipients); see docs/reminders.md",
    )
    report.add_argument("--from", dest="since", type=_date, metavar="DATE",
                        help="rooms created on or after this local date (YYYY-MM-DD)")
    report.add_argument("--to", dest="until", type=_date, metavar="DATE",
                        help="rooms created on or before this local date (YYYY-MM-DD)")
    report.add_argument("--format", choices=("table", "csv", "json"), default="table",
                        help="output format (default table)")
    report.set_defaults(run=_report)

    cms = commands.add_parser("cms", help="Cisco Meeting Server")
    cms_commands = cms.add_subparsers(dest="cms_command", required=True, metavar="ACTION")
    cms_commands.add_parser(
        "check", help="log in to CMS once with the DISTANSMOTE_CMS_* settings and say what is wrong"
    ).set_defaults(run=_cms_check)

    cms_simulator = commands.add_parser(
        "cms-simulator", help="serve a fake CMS API for development and demos (until Ctrl-C)"
    )
    cms_simulator.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    cms_simulator.add_argument("--port", type=int, default=8081,
                               help="port (default 8081; 0 picks a free one)")
    cms_simulator.add_argument("--username", default="api", help="API username it accepts (default api)")
    cms_simulator.add_argument("--password", default=_SIMULATOR_PASSWORD,
                               help=f"API password it accepts (default {_SIMULATOR_PASSWORD})")
    cms_simulator.set_defaults(run=_cms_simulator)

    serve = commands.add_parser(
        "serve", help="run the bot for the configured platforms (POST /webex/events, GET /healthz, "
        "GET /readyz, GET /metrics) until SIGINT/SIGTERM; applies database migrations first",
    )
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    serve.add_argument("--port", type=_port, default=8080, help="port (default 8080)")
    serve.set_defaults(run=_serve)

    webex = commands.add_parser("webex", help="Webex operator commands")
    webex_commands = webex.add_subparsers(dest="webex_command", required=True, metavar="ACTION")
    webex_setup = webex_commands.add_parser(
        "setup", help="create or repair the bot's two webhooks (messages, card submissions) with "
        "DISTANSMOTE_WEBEX_WEBHOOK_SECRET and reactivate disabled ones; safe to run again",
    )
    webex_setup.add_argument("--url", required=True, type=_https_url,
                             help="the public HTTPS address of POST /webex/events, e.g. https://bot.example.se/webex/events")
    webex_setup.set_defaults(run=_webex_setup)
    return parser


def _https_url(value: str) -> str:
    if not value.startswith("https://") or len(value) <= len("https://"):
        raise argparse.ArgumentTypeError("Webex delivers webhooks only to a public https:// address")
    return value


def _serve(args: argparse.Namespace) -> int:
    import gc

    from bot.serve import serve

    # The modules just imported live as long as the process: keep the collector from scanning
    # them again and again under load.
    gc.freeze()
    asyncio.run(serve(load_settings(), args.host, args.port))
    return 0


def _webex_setup(args: argparse.Namespace) -> int:
    from bot.platforms.webex import WEBEX_ERRORS, describe_error, setup_from_settings

    try:
        report = asyncio.run(setup_from_settings(load_settings(), args.url))
    except WEBEX_ERRORS as exc:
        print(f"distansmote webex setup: Webex refused or did not answer: {describe_error(exc)}", file=sys.stderr)
        return 1
    for line in report:
        print(line)
    return 0


_SIMULATOR_PASSWORD = "simulator"


def _cms_check(args: argparse.Namespace) -> int:
    from yarl import URL

    from bot.services.cms import (
        CmsAuthError, CmsClient, CmsError, CmsFailure, CmsProtocolError, CmsUnavailable, missing_settings,
    )

    settings = load_settings()
    if missing := missing_settings(settings):
        print(f"distansmote cms check: CMS is not configured; set {', '.join(missing)}", file=sys.stderr)
        return 2
    url = str(URL(settings.cms_url or "").with_user(None))  # never echo credentials typed into the URL

    async def check() -> None:
        # Few retries: a person is waiting for the answer.
        client = CmsClient.from_settings(settings, max_attempts=2, retry_for=5.0)
        try:
            await client.check()
        finally:
            await client.close()

    try:
        asyncio.run(check())
    except CmsAuthError:
        problem = "wrong username or password (DISTANSMOTE_CMS_USERNAME / DISTANSMOTE_CMS_PASSWORD)"
    except CmsUnavailable as exc:
        problem = f"not reachable: {exc}"
    except (CmsProtocolError, CmsFailure) as exc:
        problem = f"does not answer like a CMS API (the URL should end in /api/v1/): {exc}"
    except (CmsError, ValueError) as exc:
        problem = str(exc)
    else:
        print(f"CMS OK: {url}")
        return 0
    print(f"distansmote cms check: {url}: {problem}", file=sys.stderr)
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


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # A line per webhook says nothing the adapter does not log when it matters, and costs CPU under load.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as exc:
        print(f"distansmote: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
