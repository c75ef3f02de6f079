"""The ``distansmote`` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot import installed_version
from bot.config import ConfigError
from bot.outbound import share_ca_bundle
from bot.platforms.registry import load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import async_sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

# What bot.cli.report.render writes; kept here, not there, since every command builds the
# parser and that module loads SQLAlchemy.
REPORT_FORMATS = ("table", "csv", "json")
SWITCH_INTERVAL = 0.001  # seconds; see _serve


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.db import open_engine

    settings = load_settings()

    async def run() -> None:
        engine = await open_engine(settings.database_url)
        await engine.dispose()

    asyncio.run(run())
    print("database schema is up to date")
    return 0


def _db_downgrade(args: argparse.Namespace) -> int:
    from alembic.util.exc import CommandError

    from bot.db import downgrade, reach

    settings = load_settings()

    async def run() -> None:
        engine = await reach(settings.database_url)
        try:
            await downgrade(engine, args.revision)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except CommandError as exc:
        print(f"distansmote db downgrade: {exc}", file=sys.stderr)
        return 2
    print(f"database schema downgraded to {args.revision}")
    return 0


def _audit_export(args: argparse.Namespace) -> int:
    from bot.cli.audit import export_audit

    zone = load_settings().zone
    since = args.since.replace(tzinfo=zone) if args.since and args.since.tzinfo is None else args.since
    count = asyncio.run(_with_store(lambda sessions: export_audit(sessions, sys.stdout, since=since,
                                                                  format=args.format)))
    print(f"{count} audit record(s)", file=sys.stderr)
    return 0


def _privacy_export(args: argparse.Namespace) -> int:
    import json

    from bot.services.retention import export_person

    exported = asyncio.run(_with_store(lambda sessions: export_person(sessions, args.person)))
    print(json.dumps({"person": args.person, **exported}, ensure_ascii=False, indent=2))
    found = sum(map(len, exported.values()))
    print(f"{found} row(s) hold {args.person}" if found else f"nothing stored holds {args.person}", file=sys.stderr)
    return 0


def _privacy_erase(args: argparse.Namespace) -> int:
    from bot.services.retention import PersonHasLiveRooms, erase_person

    try:
        counts = asyncio.run(_with_store(lambda sessions: erase_person(sessions, args.person)))
    except PersonHasLiveRooms:
        print(f"distansmote privacy erase: {args.person} has a live room; delete it first (or let the automatic "
              "deletion do it), then erase", file=sys.stderr)
        return 1
    for table, count in counts.items():
        print(f"{table}: {count}")
    print(f"{args.person} erased; the audit trail keeps their actions (docs/privacy.md)")
    return 0


async def _with_store(work: Callable[[async_sessionmaker], Awaitable[T]]) -> T:
    """``work`` on the configured database, migrated, closed after."""
    from bot.db import open_engine, sessionmaker

    engine = await open_engine(load_settings().database_url)
    try:
        return await work(sessionmaker(engine))
    finally:
        await engine.dispose()


def _moment(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a moment is YYYY-MM-DD or YYYY-MM-DDTHH:MM, e.g. 2026-11-01T08:00") from None


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is 0-65535 (0 picks a free one)")
    return port


def _demo(args: argparse.Namespace) -> int:
    from bot.demo.adapter import DemoSetupError
    from bot.demo.runner import run_demo

    try:
        asyncio.run(run_demo(args.port, args.data_dir))
    except DemoSetupError as exc:
        print(f"distansmote demo: {exc}", file=sys.stderr)
        return 2
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from bot.cli.check import missing_sqlite_file
    from bot.runtime import open_services
    from bot.services.cms import CmsError
    from bot.services.sweep import Orphan, sweep

    settings = load_settings()
    if (missing := missing_sqlite_file(settings.database_url)) is not None:
        # An empty new database claims no room: every marked room would look orphaned.
        print(f"distansmote sweep: the database file {missing} does not exist (DISTANSMOTE_DATABASE_URL)",
              file=sys.stderr)
        return 1

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
    from bot.cli.report import render, render_rooms
    from bot.clock import SystemClock
    from bot.db import open_engine, sessionmaker
    from bot.services.report import ReportService

    settings = load_settings()
    if args.since and args.until and args.since > args.until:
        print("distansmote report: --from is after --to", file=sys.stderr)
        return 2

    async def run() -> str:
        engine = await open_engine(settings.database_url)
        try:
            reports = ReportService(sessionmaker(engine), SystemClock(), settings)
            if args.rooms:
                return render_rooms(await reports.rooms(args.since, args.until), args.format)
            return render(await reports.report(args.since, args.until), args.format)
        finally:
            await engine.dispose()

    print(asyncio.run(run()))
    return 0


def _privacy_scan(args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.db import open_engine
    from bot.services.privacy import PersonalNumberGuard
    from bot.services.privacy_scan import Finding, Neutral, scan
    from cards import texts

    settings = load_settings()
    today = SystemClock().now().astimezone(settings.zone).date
    guard = PersonalNumberGuard(today, own_numbers=[settings.dial_in_number])

    async def run() -> list[Finding]:
        engine = await open_engine(settings.database_url)
        try:
            async with engine.begin() as connection:
                return await connection.run_sync(
                    scan, guard, fix=args.fix, neutral=Neutral(texts.REMOVED_UNIT, texts.REMOVED_LABEL),
                    units=settings.units)
        finally:
            await engine.dispose()

    found = asyncio.run(run())
    for finding in found:  # where, never what
        print(f"{finding.place}  {finding.key}{'  replaced' if args.fix else ''}")
        if finding.live_space_id:
            called = f" (now {finding.renamed_to!r} in the bot)" if finding.renamed_to else ""
            print(f"  live room {finding.live_space_id}{called}: its name on the CMS holds a personal identity "
                  "number; rename or delete it in Cisco Meeting Server")
    print(f"{len(found)} place(s) holding a personal identity number{' replaced' if args.fix else ''}")
    return 1 if found and not args.fix else 0


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a date is YYYY-MM-DD, e.g. 2026-11-01") from None


def _command(commands: argparse._SubParsersAction, name: str, summary: str, *, details: str = "",
             ) -> argparse.ArgumentParser:
    """A sub-command whose own --help starts with the line shown in its parent's list."""
    return commands.add_parser(name, help=summary, description=f"{summary[0].upper()}{summary[1:]}. {details}".strip())


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

    demo = _command(commands, "demo", "try the bot in a local chat page: everything embedded, no accounts",
                    details="Listens on 127.0.0.1 only and ignores DISTANSMOTE_* settings and .env; runs until Ctrl-C.")
    demo.add_argument("--port", type=_port, default=8080, help="port of the page (default 8080)")
    demo.add_argument("--data-dir", type=Path, default=Path("demo-data"),
                      help="the demo's own data folder; its database starts empty each time (default ./demo-data)")
    demo.set_defaults(run=_demo)

    check = _command(commands, "check", "try every configured part once and say what is wrong",
                     details="Database and migrations, CMS credentials and API, each configured chat platform "
                     "(Webex: token and webhooks; Teams: settings and a token from Microsoft Entra). One "
                     "verdict line per part (OK, FAIL, SKIP when not "
                     "configured); exit code 1 when any part fails. Prints no secrets and creates nothing.")
    check.set_defaults(run=_check)

    db = _command(commands, "db", "database schema", details="DISTANSMOTE_DATABASE_URL names the database.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    _command(db_commands, "upgrade", "apply all migrations",
             details="Creates the database (a SQLite file) if it does not exist; safe to run again. "
             "serve does the same at start; several at once migrate once (PostgreSQL advisory lock)."
             ).set_defaults(run=_db_upgrade)
    db_downgrade = _command(db_commands, "downgrade", "undo migrations down to REVISION",
                            details="For going back to an older version of the bot: run it with the newer "
                            "version installed, before installing the older one. Take a backup first: a "
                            "downgrade drops what the newer migrations added.")
    db_downgrade.add_argument("revision", metavar="REVISION",
                              help="the migration to end at (e.g. 0007), -1 for one step, base for none")
    db_downgrade.set_defaults(run=_db_downgrade)

    audit = _command(commands, "audit", "the audit trail: who did what to which room, when")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_export = _command(audit_commands, "export", "write the audit records, oldest first, to standard "
                            "output (for a SIEM or an archive)", details="Fields: id, at (UTC, ISO 8601), action, "
                            "actor (a platform id, system or sweep), room_name, meeting_id, space_id, detail, "
                            "operation. Codes only, never text from chat; the count goes to standard error.")
    audit_export.add_argument("--since", type=_moment, metavar="WHEN",
                              help="records at or after this moment: YYYY-MM-DD or YYYY-MM-DDTHH:MM, local time "
                              "(DISTANSMOTE_TIMEZONE) unless it ends in an offset such as +01:00")
    audit_export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                              help="one JSON object a line (default) or CSV with a header")
    audit_export.set_defaults(run=_audit_export)

    sweep = _command(commands, "sweep", "list orphaned rooms: on the CMS with this bot's mark, but claimed by "
                     "no live meeting", details="With --delete remove them, each recorded in the audit trail "
                     "as actor 'sweep'. Refuses a SQLite database file that does not exist.")
    sweep.add_argument("--delete", action="store_true", help="delete the orphaned rooms")
    sweep.set_defaults(run=_sweep)

    report = _command(commands, "report", "the county's figures per unit: rooms created, deleted by the creator, "
                      "by an admin and automatically, median and longest time from meeting end to deletion, live "
                      "and overdue now, orphans the last sweep found", details="No patient data, no recipients; "
                      "see docs/reminders.md.")
    report.add_argument("--from", dest="since", type=_date, metavar="DATE",
                        help="rooms created on or after this local date (YYYY-MM-DD)")
    report.add_argument("--to", dest="until", type=_date, metavar="DATE",
                        help="rooms created on or before this local date (YYYY-MM-DD)")
    report.add_argument("--rooms", action="store_true",
                        help="one row per room instead: its name, unit, created, meeting end, deleted, and by "
                             "which role (creator, admin, automatic rule); CSV as Excel opens it (UTF-8 with a "
                             "byte order mark, ';')")
    report.add_argument("--format", choices=REPORT_FORMATS, default="table",
                        help="output format (default table)")
    report.set_defaults(run=_report)

    privacy = _command(commands, "privacy", "rule 1 and a staff member's data in the store (docs/privacy.md)",
                       details="DISTANSMOTE_DATABASE_URL names the database. A person is named as the audit trail "
                       "names them: webex:<Webex person id> or teams:<Entra object id>.")
    privacy_commands = privacy.add_subparsers(dest="privacy_command", required=True, metavar="ACTION")
    privacy_scan = _command(privacy_commands, "scan", "list every place in the store that holds a personal "
                            "identity number (a unit, a room name, a recipient, a preference, a waiting job, "
                            "kept replies)", details="Prints where, never what. With --fix each is replaced by a "
                            "neutral text or removed; a live room whose name on the CMS holds one is listed for "
                            "an admin to rename or delete there. Exit code 1 when something was found and not "
                            "fixed. Migration 0009 ran it once with --fix.")
    privacy_scan.add_argument("--fix", action="store_true", help="replace or remove what is found")
    privacy_scan.set_defaults(run=_privacy_scan)
    _person_commands(privacy_commands)

    cms = _command(commands, "cms", "Cisco Meeting Server", details="Uses the DISTANSMOTE_CMS_* settings only; "
                   "touches no database.")
    cms_commands = cms.add_subparsers(dest="cms_command", required=True, metavar="ACTION")
    _command(cms_commands, "check", "log in to CMS once with the DISTANSMOTE_CMS_* settings and say what is wrong",
             details="Exit code 0 when the API answered, 1 when it did not, 2 when settings are missing."
             ).set_defaults(run=_cms_check)

    cms_simulator = _command(commands, "cms-simulator", "serve a fake CMS API for development and demos",
                             details="Runs until Ctrl-C; prints the DISTANSMOTE_CMS_* settings that point at it.")
    cms_simulator.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    cms_simulator.add_argument("--port", type=int, default=8081,
                               help="port (default 8081; 0 picks a free one)")
    cms_simulator.add_argument("--username", default="api", help="API username it accepts (default api)")
    cms_simulator.add_argument("--password", default=_SIMULATOR_PASSWORD,
                               help=f"API password it accepts (default {_SIMULATOR_PASSWORD})")
    cms_simulator.set_defaults(run=_cms_simulator)

    serve = _command(commands, "serve", "run the bot for the configured platforms until SIGINT/SIGTERM",
                     details="Webex, Teams or both. Applies database migrations first. Endpoints: "
                     "POST /webex/events, POST /api/messages, GET /healthz, GET /readyz, GET /metrics, and the "
                     "Swedish pages GET /privacy and GET /terms.")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    serve.add_argument("--port", type=_port, default=8080, help="port (default 8080)")
    serve.set_defaults(run=_serve)

    webex = _command(commands, "webex", "Webex operator commands",
                     details="Use DISTANSMOTE_WEBEX_TOKEN and DISTANSMOTE_WEBEX_WEBHOOK_SECRET; touch no database.")
    webex_commands = webex.add_subparsers(dest="webex_command", required=True, metavar="ACTION")
    webex_setup = _command(webex_commands, "setup", "create or repair the bot's two webhooks (messages, card "
                           "submissions)", details="Signs them with DISTANSMOTE_WEBEX_WEBHOOK_SECRET and "
                           "reactivates disabled ones; safe to run again.")
    webex_setup.add_argument("--url", type=_https_url,
                             help="the public HTTPS address of POST /webex/events, e.g. "
                             "https://bot.example.se/webex/events (default: /webex/events at DISTANSMOTE_PUBLIC_URL)")
    webex_setup.set_defaults(run=_webex_setup)

    teams = _command(commands, "teams", "Microsoft Teams operator commands",
                     details="They touch no database and no Teams service.")
    teams_commands = teams.add_subparsers(dest="teams_command", required=True, metavar="ACTION")
    teams_package = _command(teams_commands, "package", "write the Teams app package (manifest.json and both "
                             "icons in a zip)", details="Upload it in the Teams admin center, or in Teams itself "
                             "where custom apps are allowed. Its privacy, terms and website links are the bot's "
                             "own /privacy and /terms pages at DISTANSMOTE_PUBLIC_URL unless given.")
    teams_package.add_argument("--app-id", required=True,
                               help="the Azure Bot's Microsoft App ID (DISTANSMOTE_TEAMS_APP_ID), a GUID")
    teams_package.add_argument("--out", type=Path, default=Path("distansmote-teams.zip"),
                               help="where to write the zip (default ./distansmote-teams.zip)")
    teams_package.add_argument("--developer-name", help="publisher shown in Teams (at most 32 characters)")
    for flag, page in (("website", "/privacy"), ("privacy", "/privacy"), ("terms-of-use", "/terms")):
        teams_package.add_argument(f"--{flag}-url", help=f"the region's {flag.replace('-', ' ')} page (https://...; "
                                   f"default the bot's own {page} at DISTANSMOTE_PUBLIC_URL)")
    teams_package.set_defaults(run=_teams_package)
    return parser


def _person_commands(privacy_commands: argparse._SubParsersAction) -> None:
    """``privacy export`` and ``privacy erase``: one person's data (bot.services.retention)."""
    for action, summary, details, run in (
        ("export", "print every row that holds the person, table by table, as JSON",
         "Meetings they created or deleted (with their recipients' labels), room creations, their "
         "conversation reference and last unit, webhooks of theirs not yet processed, their audit records.",
         _privacy_export),
        ("erase", "remove the person from every table but the audit trail",
         "Their meetings stay for the county report, without their name or ids. Refused while they have a "
         "live room. The audit trail keeps their actions: docs/privacy.md says why.", _privacy_erase),
    ):
        command = _command(privacy_commands, action, summary, details=details)
        command.add_argument("--person", required=True, metavar="PERSON",
                             help="the person: webex:<person id> or teams:<Entra object id>")
        command.set_defaults(run=run)


def _https_url(value: str) -> str:
    if not value.startswith("https://") or len(value) <= len("https://"):
        raise argparse.ArgumentTypeError("Webex delivers webhooks only to a public https:// address")
    return value


def _serve(args: argparse.Namespace) -> int:
    import gc

    from bot.cli.serve import serve

    # The modules just imported live as long as the process: keep the collector from scanning
    # them again and again under load.
    gc.freeze()
    # The Webex SDK's threads hold the GIL while requests builds and parses; the loop answering
    # webhooks waits up to this interval for it each time (5 ms by default, which put the acks'
    # p99 above 100 ms under load: bench/webhooks.py).
    sys.setswitchinterval(SWITCH_INTERVAL)
    asyncio.run(serve(load_settings(), args.host, args.port))
    return 0


def _webex_setup(args: argparse.Namespace) -> int:
    from bot.platforms.webex.transport import WEBEX_ERRORS, describe_error
    from bot.platforms.webex.webhooks import setup_from_settings

    settings = load_settings()
    url = args.url or (f"{settings.public_url}/webex/events" if settings.public_url else None)
    if url is None:
        raise ConfigError("DISTANSMOTE_PUBLIC_URL: not set; give the webhooks' address with --url "
                          "https://<the bot>/webex/events, or set the bot's public address")
    try:
        report = asyncio.run(setup_from_settings(settings, url))
    except WEBEX_ERRORS as exc:
        print(f"distansmote webex setup: Webex refused or did not answer: {describe_error(exc)}", file=sys.stderr)
        return 1
    for line in report:
        print(line)
    return 0


def _teams_package(args: argparse.Namespace) -> int:
    from bot.platforms.teams.package import manifest, write_package

    developer = {"name": args.developer_name, "websiteUrl": args.website_url, "privacyUrl": args.privacy_url,
                 "termsOfUseUrl": args.terms_of_use_url}
    out = write_package(args.out, manifest(args.app_id, developer=developer, public_url=load_settings().public_url))
    print(f"Teams app package written to {out}")
    return 0


_SIMULATOR_PASSWORD = "simulator"


def _cms_check(args: argparse.Namespace) -> int:
    from bot.cli.check import cms_problem, shown_cms_url
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


def _check(args: argparse.Namespace) -> int:
    from bot.cli.check import run_checks

    verdicts = asyncio.run(run_checks(load_settings()))
    for verdict in verdicts:
        print(verdict.line())
    failed = sum(verdict.ok is False for verdict in verdicts)
    print(f"{failed} of {len(verdicts)} part(s) failed" if failed else "everything configured works")
    return 1 if failed else 0


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

