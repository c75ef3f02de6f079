"""Proof for the county: ``distansmote report`` and ``/distansmöte rapport`` on a seeded set of meetings."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.cli import main
from bot.clock import ManualClock
from bot.core import Actor
from bot.runtime import Services
from bot.services.auto_delete import AUTO_DELETE_RULE
from bot.services.meetings import Person, cdr_tag
from bot.services.reminder_plan import SYSTEM
from bot.services.sweep import sweep
from bot.services.validation import MeetingTimes
from cards import texts
from tests.conftest import RunningCms, make_settings, open_with_chat
from tests.harness import Chat, last_card

NURSE = Person(key="memory:nurse-1", name="Nina Sjuksköterska")
COLLEAGUE = Person(key="memory:nurse-2", name="Kalle Kollega")
ADMIN = Person(key="memory:admin-1", name="Ada Admin", is_admin=True)
ADMIN_ACTOR = Actor(id="admin-1", name="Ada Admin")


def utc(day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, 11, day, hour, minute, tzinfo=UTC)


@dataclass
class Seeded:
    services: Services
    clock: ManualClock
    database_url: str
    chat: Chat


async def seed(services: Services, clock: ManualClock, cms: RunningCms) -> None:
    """Three units; every way a room goes; one room overdue, one orphan known and one unknown."""
    n = 0

    async def meeting(unit: str, start: datetime, creator: Person = NURSE):
        nonlocal n
        n += 1
        return await services.meetings.create(platform="memory", creator=creator, unit=unit,
                                              request_id=f"seeded-{n:04d}",
                                              times=MeetingTimes(start, start + timedelta(hours=1)))

    clock.set(utc(20, 8))
    earlier = await meeting("HC Emmaboda", utc(20, 9))  # created before the report's --from
    clock.set(utc(20, 12))
    await services.meetings.delete(earlier.id, NURSE)

    clock.set(utc(25, 8))
    by_creator, by_admin, automatic, forgotten = [await meeting("HC Torsås", utc(25, 9)) for _ in range(4)]
    await meeting("HC Torsås", utc(27, 9, year=2099))  # live, not yet held
    quick = await meeting("Avd 12 Medicin", utc(25, 9), creator=COLLEAGUE)
    clock.set(utc(25, 8, 1))
    cancelled = await meeting("avd 12 medicin", utc(25, 9), creator=COLLEAGUE)  # same unit, other spelling
    clock.set(utc(25, 8, 30))
    await services.meetings.delete(cancelled.id, COLLEAGUE)  # before the meeting ended: 0 minutes
    clock.set(utc(25, 10, 10))
    await services.meetings.delete(quick.id, COLLEAGUE)  # 10 minutes after the end
    clock.set(utc(25, 10, 30))
    await services.meetings.delete(by_creator.id, NURSE)  # 30 minutes
    clock.set(utc(25, 12))
    await services.meetings.delete(by_admin.id, ADMIN)  # 120 minutes
    clock.set(utc(26, 10))
    await services.meetings.delete(automatic.id, SYSTEM, rule=AUTO_DELETE_RULE)  # 1440 minutes
    assert forgotten.state == "created"

    # Rooms on the CMS with the bot's mark that no live meeting claims: a late duplicate of a deleted
    # HC Torsås meeting, and one whose meeting was never recorded.
    await services.cms.create_space(name="HC Torsås 90", uri="hc.torsas.90", call_id="918273640",
                                    cdr_tag=cdr_tag(by_creator.id))
    await services.cms.create_space(name="HC Okänd 5", uri="hc.okand.5", call_id="918273645",
                                    cdr_tag=cdr_tag(str(uuid.uuid4())))
    clock.set(utc(26, 12))
    assert len(await sweep(services.cms, services.sessions, delete=False, clock=clock)) == 2


EXPECTED = {
    "HC Torsås": dict(created=5, deleted_by_creator=1, deleted_by_admin=1, deleted_automatically=1,
                      median_minutes_to_deletion=120, longest_minutes_to_deletion=1440, live_now=2,
                      overdue_now=1, orphans_last_sweep=1),
    "avd 12 medicin": dict(created=2, deleted_by_creator=2, deleted_by_admin=0, deleted_automatically=0,
                           median_minutes_to_deletion=5, longest_minutes_to_deletion=10, live_now=0,
                           overdue_now=0, orphans_last_sweep=0),
    "": dict(created=0, deleted_by_creator=0, deleted_by_admin=0, deleted_automatically=0,
             median_minutes_to_deletion=None, longest_minutes_to_deletion=None, live_now=0, overdue_now=0,
             orphans_last_sweep=1),
}


@pytest.fixture
async def seeded(cms: RunningCms, database_url: str, clock: ManualClock):
    services, chat = await open_with_chat(make_settings(cms, database_url), clock)
    try:
        await seed(services, clock, cms)
        yield Seeded(services, clock, database_url, chat)
    finally:
        await services.close()


async def test_report_counts_each_way_a_room_went(seeded: Seeded):
    report = await seeded.services.reports.report()
    units = {row.unit: row.as_dict() for row in report.units}
    assert units.pop("HC Emmaboda")["deleted_by_creator"] == 1
    assert {unit: {k: v for k, v in row.items() if k != "unit"} for unit, row in units.items()} == EXPECTED
    assert report.total.created == 8 and report.total.orphans_last_sweep == 2
    assert report.total.created == (report.total.deleted_by_creator + report.total.deleted_by_admin
                                    + report.total.deleted_automatically + report.total.live_now)
    assert report.last_sweep_at == utc(26, 12)


def test_cli_report_as_json_csv_and_table(seeded: Seeded, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("DISTANSMOTE_DATABASE_URL", seeded.database_url)
    assert main(["report", "--from", "2026-11-25", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["from"] == "2026-11-25" and shown["to"] is None
    assert {row.pop("unit"): row for row in shown["units"]} == EXPECTED  # the real clock: overdue as seeded
    assert shown["total"]["created"] == 7

    assert main(["report", "--from", "2026-11-20", "--to", "2026-11-20", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("unit,created,deleted_by_creator,deleted_by_admin,deleted_automatically,")
    # The last sweep's orphans are a figure of now, shown whatever the period.
    assert lines[1:] == ["HC Emmaboda,1,1,0,0,120,120,0,0,0", "HC Torsås,0,0,0,0,,,0,0,1", ",0,0,0,0,,,0,0,1",
                         "total,1,1,0,0,120,120,0,0,2"]

    assert main(["report"]) == 0
    table = capsys.readouterr().out
    assert "HC Torsås" in table and "24:00" in table  # the longest: a day from the end to the deletion
    for private in ("Nina", "Kalle", "Kommunen"):
        assert private not in table


def test_cli_report_refuses_a_period_backwards(capsys: pytest.CaptureFixture[str], tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--from", "2026-11-30", "--to", "2026-11-01"]) == 2
    assert "--from is after --to" in capsys.readouterr().err


async def test_rapport_for_admins_and_overdue_rooms_in_status(seeded: Seeded):
    chat = seeded.chat
    card = last_card(await chat.say(ADMIN_ACTOR, "/distansmöte rapport från 2026-11-25"))
    body = card["body"]
    headings = [e["text"] for e in body if e.get("weight") == "Bolder" and e.get("size") != "Large"]
    assert headings == ["avd 12 medicin", "HC Torsås", texts.REPORT_UNKNOWN_UNIT, texts.REPORT_TOTAL]
    torsas = {f["title"]: f["value"] for f in body[headings.index("HC Torsås") * 2 + 4]["facts"]}
    figures = texts.REPORT_FIGURES
    assert torsas[figures["created"]] == "5"
    assert torsas[figures["deleted_by_creator"]] == "1"
    assert torsas[figures["deleted_by_admin"]] == "1"
    assert torsas[figures["deleted_automatically"]] == "1"
    assert torsas[figures["median_minutes_to_deletion"]] == "2 tim 0 min"
    assert torsas[figures["longest_minutes_to_deletion"]] == "24 tim 0 min"
    assert torsas[figures["overdue_now"]] == "1"
    assert torsas[figures["orphans_last_sweep"]] == "1"
    assert body[-1]["text"] == texts.REPORT_LAST_SWEEP.format(when="den 26/11 kl. 13.00")

    status = last_card(await chat.say(ADMIN_ACTOR, "/distansmöte status"))
    overdue = [e["text"] for e in status["body"] if "skapat av" in e.get("text", "")]
    assert overdue == ["- **HC Torsås 4** – skapat av Nina Sjuksköterska, mötet slutade den 25/11 kl. 11.00"]


async def test_rapport_is_for_admins_and_wants_dates_it_understands(seeded: Seeded):
    chat = seeded.chat
    nurse = Actor(id="nurse-1", name="Nina Sjuksköterska")
    assert (await chat.say(nurse, "/distansmöte rapport"))[0].text == texts.ADMIN_ONLY
    assert (await chat.say(ADMIN_ACTOR, "/distansmöte rapport förra månaden"))[0].text == texts.REPORT_DATES_INVALID
    card = last_card(await chat.say(ADMIN_ACTOR, "/distansmöte rapport till 2026-11-20"))
    assert card["body"][1]["text"] == texts.REPORT_PERIOD.format(period="till och med 2026-11-20")
    # Two dates as typed: not mistaken for a personnummer by the privacy guard.
    card = last_card(await chat.say(ADMIN_ACTOR, "/distansmöte rapport 2026-11-20 2026-11-30"))
    assert card["body"][1]["text"] == texts.REPORT_PERIOD.format(period="från 2026-11-20 till och med 2026-11-30")


async def test_the_rooms_report_gives_each_room_and_the_role_that_deleted_it(seeded: Seeded):
    rooms = await seeded.services.reports.rooms(since=datetime(2026, 11, 25).date())
    torsas = {room.room_name: room.state for room in rooms if room.unit == "HC Torsås"}
    assert torsas == {"HC Torsås 1": "creator", "HC Torsås 2": "admin", "HC Torsås 3": "automatically",
                      "HC Torsås 4": "overdue", "HC Torsås 5": "live"}
    assert [room.state for room in rooms if room.unit.casefold() == "avd 12 medicin"] == ["creator", "creator"]
    automatic = next(room for room in rooms if room.state == "automatically")
    assert (automatic.ends_at.hour, automatic.deleted_at and automatic.deleted_at.day) == (11, 26)  # local time
    assert [room.created_at for room in rooms] == sorted(room.created_at for room in rooms)


def test_cli_rooms_report_as_excel_csv_json_and_table(seeded: Seeded, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("DISTANSMOTE_DATABASE_URL", seeded.database_url)
    assert main(["report", "--rooms", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\ufeffroom;unit;created;meeting_end;deleted;deleted_by;cancelled;moved\r\n")  # Excel
    lines = out.lstrip("\ufeff").splitlines()
    assert len(lines) == 1 + 8
    assert lines[1] == "HC Emmaboda 1;HC Emmaboda;2026-11-20 09:00;2026-11-20 11:00;2026-11-20 13:00;creator;no;0"

    assert main(["report", "--rooms", "--from", "2026-11-25", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {row["room"]: row["deleted_by"] for row in shown if row["unit"] == "HC Torsås"} == {
        "HC Torsås 1": "creator", "HC Torsås 2": "admin", "HC Torsås 3": "automatic rule",
        "HC Torsås 4": "overdue", "HC Torsås 5": "live"}
    assert shown[0]["created"] == "2026-11-25T09:00:00+01:00"

    assert main(["report", "--rooms"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["room", "unit", "created", "meeting_end", "deleted", "deleted_by",
                                             "cancelled", "moved"]
    for private in ("Nina", "Kalle", "Ada", "memory:"):
        assert private not in table + out


async def test_rapport_rum_shows_each_room_to_admins_only(seeded: Seeded):
    chat = seeded.chat
    card = last_card(await chat.say(ADMIN_ACTOR, "/distansmöte rapport rum från 2026-11-25"))
    body = card["body"]
    assert body[0]["text"] == texts.ROOMS_REPORT_TITLE
    names = [e["text"] for e in body if e.get("weight") == "Bolder" and e.get("size") != "Large"]
    assert len(names) == 7 and "HC Torsås 3" in names
    heading = next(e for e in body if e.get("text") == "HC Torsås 3")
    automatic = {f["title"]: f["value"] for f in body[body.index(heading) + 1]["facts"]}
    assert automatic == {"Enhet": "HC Torsås", "Skapat": "2026-11-25 kl. 09.00",
                         "Mötets slut": "2026-11-25 kl. 11.00", "Borttaget": "2026-11-26 kl. 11.00",
                         texts.ROOMS_REPORT_DELETED_BY: "Automatiskt, efter tidsgränsen"}
    assert "Nina" not in json.dumps(card, ensure_ascii=False)

    nurse = Actor(id="nurse-1", name="Nina Sjuksköterska")
    assert last_card(await chat.say(nurse, "/distansmöte rapport rum"))["body"][0]["text"] == texts.ADMIN_ONLY
    refused = last_card(await chat.say(ADMIN_ACTOR, "/distansmöte rapport rum 2026-11-30 2026-11-01"))
    assert refused["body"][0]["text"] == texts.REPORT_DATES_INVALID
