"""``distansmote privacy export|erase --person``, run as an operator would, on a database the routine
filled: the export holds every row of the person, the erase leaves them only in the audit trail."""

from __future__ import annotations

import json

import pytest

from bot.core import PersonKey
from bot.store.schema import Channel
from tests.conftest import cli
from tests.services.test_meetings import NURSE, _create, _open
from tests.services.test_retention import OTHER, _holding, _stored_rows

pytestmark = pytest.mark.usefixtures("cli_database_url")


async def test_export_then_erase_a_person(cms, clock, capsys, cli_database_url):
    services = await _open(cms, cli_database_url, clock)
    try:
        [room] = await _create(services, 1)
        await _create(services, 1, person=OTHER)
        await services.meetings.add_recipient(room.id, NURSE, "Tolk", Channel.PHONE)
        await services.references.remember(PersonKey.parse(NURSE.key), "nurse-address")
        capsys.readouterr()

        assert await cli("privacy", "export", "--person", NURSE.key) == 0
        captured = capsys.readouterr()
        exported = json.loads(captured.out)
        assert exported["person"] == NURSE.key
        assert [m["creator_name"] for m in exported["meeting"]] == [NURSE.name]
        assert [r["label"] for r in exported["recipient"]] == ["Tolk"]
        assert exported["conversation_reference"][0]["reference"] == "nurse-address"
        assert OTHER.key not in captured.out and captured.err.strip().endswith(f"hold {NURSE.key}")

        assert await cli("privacy", "erase", "--person", NURSE.key) == 1  # her room is live
        assert "has a live room" in capsys.readouterr().err
        await services.meetings.delete(room.id, NURSE)
        assert await cli("privacy", "erase", "--person", NURSE.key) == 0
        out = capsys.readouterr().out
        assert "meeting: 1" in out and "conversation_reference: 1" in out

        assert _holding(await _stored_rows(services), NURSE.key, NURSE.name) == {"audit"}
        assert await cli("privacy", "export", "--person", NURSE.key) == 0
        remaining = json.loads(capsys.readouterr().out)
        assert {table for table, rows in remaining.items() if rows and table != "person"} == {"audit"}
    finally:
        await services.close()
