"""Find what the store already holds that rule 1 forbids, and replace it (``distansmote privacy scan``).

What an earlier, weaker guard let through is found with today's guard and, with ``fix``, replaced or removed; a live
room whose name held a number is only listed (docs/reliability.md). It works on a plain connection and table names,
so that a migration (0009) can run it as the schema was.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.services.privacy import PersonalNumberGuard

_meeting = sa.table("meeting", sa.column("id"), sa.column("unit"), sa.column("room_name"), sa.column("uri"),
                    sa.column("state"), sa.column("space_id"))
_creation = sa.table("room_creation", sa.column("meeting_id"), sa.column("unit"))
_recipient = sa.table("recipient", sa.column("id"), sa.column("label"))
_preference = sa.table("preference", sa.column("actor_key"), sa.column("last_unit"))
_counter = sa.table("unit_counter", sa.column("unit_key"))
_job = sa.table("inbound_job", sa.column("key"), sa.column("payload"))
_event = sa.table("inbound_event", sa.column("key"), sa.column("replies"))


@dataclass(frozen=True)
class Neutral:
    """What a finding is replaced with: the staff-facing words come from ``cards.texts``."""

    unit: str
    label: str


@dataclass(frozen=True)
class Finding:
    """Where a personal identity number was found (never the number itself)."""

    place: str  # table.column
    key: str  # the row's primary key
    live_space_id: str | None = None  # a live room whose name on the CMS holds it
    renamed_to: str | None = None  # what the bot calls that room now


def scan(connection: Connection, guard: PersonalNumberGuard, *, fix: bool, neutral: Neutral,
         units: Iterable[str] = ()) -> list[Finding]:
    """Every place where the store holds a number; replaced when ``fix``. With the region's ``units``,
    a preference for a unit not on the list is found (and forgotten) too."""
    listed = frozenset(units)
    found = list(_meetings(connection, guard, fix, neutral))
    found += _simple(connection, guard, fix, _creation, "meeting_id", "unit", {"unit": neutral.unit})
    found += _simple(connection, guard, fix, _recipient, "id", "label", {"label": neutral.label})
    found += _rows_to_forget(connection, fix, _preference, "actor_key", "last_unit",
                             lambda unit: guard([unit]) or bool(listed) and unit not in listed)
    found += _rows_to_forget(connection, fix, _counter, "unit_key", "unit_key", lambda key: guard([key]))
    found += _rows_to_forget(connection, fix, _job, "key", "payload", lambda payload: guard(_typed(payload)))
    found += _simple(connection, guard, fix, _event, "key", "replies", {"replies": None}, read=_strings)
    return found


def _meetings(connection: Connection, guard: PersonalNumberGuard, fix: bool, neutral: Neutral) -> Iterator[Finding]:
    rows = connection.execute(sa.select(_meeting.c.id, _meeting.c.unit, _meeting.c.room_name, _meeting.c.uri,
                                        _meeting.c.state, _meeting.c.space_id))
    for row in list(rows):
        if not guard([row.unit, row.room_name, row.uri]):
            continue
        # Unique like the names it replaces, and no number in it.
        name, uri = f"{neutral.unit} {row.id[:8]}", f"x.{row.id[:8]}"
        if fix:
            connection.execute(sa.update(_meeting).where(_meeting.c.id == row.id)
                               .values(unit=neutral.unit, room_name=name, uri=uri))
        live = row.state != "deleted"
        yield Finding("meeting.room_name", row.id, row.space_id if live else None, name if fix else None)


def _simple(connection: Connection, guard: PersonalNumberGuard, fix: bool, table: sa.TableClause, key: str,
            column: str, replacement: dict[str, Any], read: Callable[[str], list[str]] = lambda v: [v],
            ) -> list[Finding]:
    found = [Finding(f"{table.name}.{column}", row[0])
             for row in connection.execute(sa.select(table.c[key], table.c[column]).where(table.c[column].isnot(None)))
             if guard(read(row[1]))]
    if fix:
        for finding in found:
            connection.execute(sa.update(table).where(table.c[key] == finding.key).values(**replacement))
    return found


def _rows_to_forget(connection: Connection, fix: bool, table: sa.TableClause, key: str, column: str,
                    forbidden: Callable[[str], bool]) -> list[Finding]:
    found = [Finding(f"{table.name}.{column}", row[0])
             for row in connection.execute(sa.select(table.c[key], table.c[column])) if forbidden(row[1])]
    if fix:
        for finding in found:
            connection.execute(sa.delete(table).where(table.c[key] == finding.key))
    return found


def _typed(payload: str) -> list[str]:
    """What a person typed, in a job's payload; the platforms' ids beside it are not read."""
    try:
        content = json.loads(payload)
    except ValueError:
        return [payload]
    if not isinstance(content, dict):
        return []
    inputs = content.get("inputs")
    typed = [content.get("text")] + list(inputs.values() if isinstance(inputs, dict) else [])
    return [value for value in typed if isinstance(value, str)]


def _strings(replies: str) -> list[str]:
    """Every text in kept replies (JSON), each on its own: the bot's ids stand alone there."""
    try:
        return list(_leaves(json.loads(replies)))
    except ValueError:
        return [replies]


def _leaves(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
