"""``distansmote report``: the county's figures, or one row per room: a table, CSV or JSON (English, for operators)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from bot.cli.arguments import command, day
from bot.platforms.registry import load_settings

if TYPE_CHECKING:
    from bot.services.report import Report, RoomRow, UnitFigures

FORMATS = ("table", "csv", "json")
_HEADERS = ("unit", "created", "by creator", "by admin", "automatic", "median to deletion",
            "longest to deletion", "live now", "overdue now", "orphans (last sweep)")


def add_commands(commands: argparse._SubParsersAction) -> None:
    report = command(commands, "report", "the county's figures per unit: rooms created, deleted by the creator, "
                     "by an admin and automatically, median and longest time from meeting end to deletion, live "
                     "and overdue now, orphans the last sweep found", details="No patient data, no recipients; "
                     "see docs/reminders.md.")
    report.add_argument("--from", dest="since", type=day, metavar="DATE",
                        help="rooms created on or after this local date (YYYY-MM-DD)")
    report.add_argument("--to", dest="until", type=day, metavar="DATE",
                        help="rooms created on or before this local date (YYYY-MM-DD)")
    report.add_argument("--rooms", action="store_true",
                        help="one row per room instead: its name, unit, created, meeting end, deleted, and by "
                             "which role (creator, admin, automatic rule); CSV as Excel opens it (UTF-8 with a "
                             "byte order mark, ';')")
    report.add_argument("--format", choices=FORMATS, default="table",
                        help="output format (default table)")
    report.set_defaults(run=_report)


def _report(args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.services.report import ReportService
    from bot.store.engine import sessionmaker
    from bot.store.migrations import open_engine

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


def render(report: Report, fmt: str) -> str:
    from bot.services.report import FIGURES

    if fmt == "json":
        return json.dumps(_json(report), ensure_ascii=False, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FIGURES)
        for row in (*report.units, report.total):
            writer.writerow("" if value is None else value for value in row.as_dict().values())
        return out.getvalue().rstrip("\n")
    return _table(report)


ROOM_FIELDS = ("room", "unit", "created", "meeting_end", "deleted", "deleted_by", "cancelled", "moved")
_ROLES = {"creator": "creator", "cisco_meeting": "creator in Cisco Meeting", "admin": "admin",
          "automatically": "automatic rule"}
# Excel opens a CSV by double-click as UTF-8 only with a byte order mark, and splits it at the
# list separator of the machine's region: ";" in Sweden.
EXCEL_CSV_BOM = "\ufeff"


def render_rooms(rows: list[RoomRow], fmt: str) -> str:
    """``report --rooms``: when each room was created and deleted, and by which role (never by whom)."""
    cells = [_room_cells(row) for row in rows]
    if fmt == "json":
        return json.dumps([dict(zip(ROOM_FIELDS, (row.room_name, row.unit, row.created_at.isoformat(),
                                                  row.ends_at.isoformat(),
                                                  row.deleted_at.isoformat() if row.deleted_at else None,
                                                  _ROLES.get(row.state, row.state), row.cancelled, row.moved),
                                      strict=True))
                           for row in rows], ensure_ascii=False, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerows([ROOM_FIELDS, *cells])
        return EXCEL_CSV_BOM + out.getvalue().rstrip("\r\n")
    if not rows:
        return "No rooms were created in the period."
    return _aligned([list(ROOM_FIELDS), *cells], right=0)


def _room_cells(row: RoomRow) -> list[str]:
    return [row.room_name, row.unit, _stamp(row.created_at), _stamp(row.ends_at),
            _stamp(row.deleted_at) if row.deleted_at else "-", _ROLES.get(row.state, row.state),
            "yes" if row.cancelled else "no", str(row.moved)]


def _json(report: Report) -> dict[str, object]:
    return {
        "from": report.since.isoformat() if report.since else None,
        "to": report.until.isoformat() if report.until else None,
        "generated_at": report.generated_at.isoformat(),
        "last_sweep_at": report.last_sweep_at.isoformat() if report.last_sweep_at else None,
        "units": [row.as_dict() for row in report.units],
        "total": report.total.as_dict(),
    }


def duration(minutes: int | None) -> str:
    """``1565`` -> ``26:05`` (hours:minutes); ``-`` for none."""
    return "-" if minutes is None else f"{minutes // 60}:{minutes % 60:02d}"


def _cells(row: UnitFigures) -> list[str]:
    return [row.unit or "(unknown)", str(row.created), str(row.deleted_by_creator), str(row.deleted_by_admin),
            str(row.deleted_automatically), duration(row.median_minutes_to_deletion),
            duration(row.longest_minutes_to_deletion), str(row.live_now), str(row.overdue_now),
            str(row.orphans_last_sweep)]


def _stamp(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"


def _table(report: Report) -> str:
    period = f"{report.since or '…'} to {report.until or '…'}" if report.since or report.until else "at any time"
    rows = [list(_HEADERS), *(_cells(r) for r in report.units)]
    body = _aligned([*rows, _cells(report.total)], right=len(_HEADERS), total=True)
    return "\n".join([
        f"Rooms created {period} (as of {_stamp(report.generated_at)}; "
        f"last sweep {_stamp(report.last_sweep_at)})", "", body, "",
        "Times are hours:minutes from the meeting's end to the room's deletion. "
        "Live and overdue are as of now; overdue = still live after the automatic deletion's deadline.",
    ])


def _aligned(rows: list[list[str]], *, right: int, total: bool = False) -> str:
    """Columns padded to their widest cell, a rule under the header (and above a ``total`` row);
    the first column left-aligned, the next ``right`` columns right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(cells: list[str]) -> str:
        padded = (c.rjust(w) if 0 < i <= right else c.ljust(w)
                  for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        return "  ".join(padded).rstrip()

    rule = line(["-" * w for w in widths])
    body = [line(rows[0]), rule, *(line(r) for r in rows[1:-1] if total)]
    body += [rule, line(rows[-1])] if total else [line(r) for r in rows[1:]]
    return "\n".join(body)
