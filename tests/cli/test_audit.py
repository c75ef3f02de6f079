"""``distansmote audit export`` and ``distansmote db downgrade``, run as an operator would, on a
database the routine filled."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.store.migrations import head_revision
from bot.store.schema import AuditRecord
from tests.conftest import cli
from tests.services.test_meetings import NURSE, _create, _open

HEAD = head_revision()
pytestmark = pytest.mark.usefixtures("cli_database_url")  # every command here runs on it


async def test_the_export_has_every_record_oldest_first_and_since_filters(cms, clock, capsys,
                                                                         cli_database_url):
    services = await _open(cms, cli_database_url, clock)
    try:
        [first] = await _create(services, 1)
        clock.advance(timedelta(hours=2))
        await services.meetings.delete(first.id, NURSE)
    finally:
        await services.close()
    capsys.readouterr()

    assert await cli("audit", "export") == 0
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert [(r["action"], r["room_name"], r["actor"]) for r in records] == [
        ("created", first.room_name, NURSE.key), ("deleting", first.room_name, NURSE.key),
        ("deleted", first.room_name, NURSE.key)]
    assert [r["at"] for r in records] == ["2026-11-25T08:00:00+00:00", *["2026-11-25T10:00:00+00:00"] * 2]
    assert records[0]["meeting_id"] == first.id and records[0]["id"] < records[1]["id"] < records[2]["id"]
    assert captured.err.strip() == "3 audit record(s)"
    assert NURSE.name not in captured.out  # the creator's name is not in the audit trail

    # 10:00 UTC is 11:00 in Stockholm: a local moment without an offset is DISTANSMOTE_TIMEZONE's.
    assert await cli("audit", "export", "--since", "2026-11-25T11:00", "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(row["action"], row["room_name"]) for row in rows] == [("deleting", first.room_name),
                                                                   ("deleted", first.room_name)]
    assert list(rows[0]) == ["id", "at", "action", "actor", "room_name", "meeting_id", "space_id", "detail",
                             "operation"]
    assert await cli("audit", "export", "--since", "2026-11-25T10:00:01+00:00") == 0
    assert capsys.readouterr().out == ""


def test_since_must_be_a_moment(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["audit", "export", "--since", "yesterday"])
    assert stopped.value.code == 2
    assert "a moment is YYYY-MM-DD" in capsys.readouterr().err


def _revision(tmp_path: Path) -> str:
    with sqlite3.connect(tmp_path / "bot.db") as connection:
        return str(connection.execute("SELECT version_num FROM alembic_version").fetchone()[0])


def test_downgrade_goes_back_and_upgrade_forward_again(tmp_path, capsys):
    assert main(["db", "upgrade"]) == 0 and _revision(tmp_path) == HEAD
    assert main(["db", "downgrade", "0007"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "database schema downgraded to 0007"
    assert _revision(tmp_path) == "0007"
    assert main(["db", "downgrade", "-1"]) == 0 and _revision(tmp_path) == "0006"
    assert main(["db", "upgrade"]) == 0 and _revision(tmp_path) == HEAD


def test_downgrade_to_an_unknown_revision_is_one_line(tmp_path, capsys):
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["db", "downgrade", "0999"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("distansmote db downgrade: ") and "0999" in line
    assert _revision(tmp_path) == HEAD


def test_the_audit_record_fields_are_exported(capsys):
    from bot.cli.audit import FIELDS

    assert set(FIELDS) - {"room_name"} == {column.name for column in AuditRecord.__table__.columns}
