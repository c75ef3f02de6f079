"""The demo page's clock control: jump to the meeting's start and end, and an hour ahead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import SERVICES
from bot.demo.runner import demo_parts
from bot.services.meetings import Person
from bot.services.validation import MeetingTimes
from cards import texts as wording

ANNA = "demo-anna"
START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 13:00 in Stockholm


async def _messages(client: Any) -> list[str]:
    response = await client.get("/api/demo/messages", params={"user": ANNA, "after": "0", "wait": "0"})
    return [m["text"] for m in (await response.json())["messages"]]


async def _jump(client: Any, to: str) -> dict[str, Any]:
    response = await client.post("/api/demo/clock", json={"user": ANNA, "to": to})
    assert response.status == 200, await response.text()
    return await response.json()


async def test_the_clock_control_shows_reminders_at_once(aiohttp_client, tmp_path: Path, clock):
    async with demo_parts(tmp_path / "demo-data", clock=clock) as parts:
        client = await aiohttp_client(parts.app)
        assert (await _jump(client, "hour"))["meeting"] is None
        response = await client.post("/api/demo/clock", json={"user": ANNA, "to": "start"})
        assert response.status == 409  # no meeting to jump to

        await parts.app[SERVICES].meetings.create(
            platform="demo", creator=Person(key=f"demo:{ANNA}", name="Anna"), unit="HC Torsås",
            times=MeetingTimes(START, START + timedelta(hours=1)), request_id="request-0001")
        state = await (await client.get("/api/demo/clock", params={"user": ANNA})).json()
        assert state["meeting"] == {"room": "HC Torsås 1", "starts": "2026-11-25 13:00", "ends": "2026-11-25 14:00"}

        assert (await _jump(client, "start"))["now"] == "2026-11-25 13:00"
        texts = await _messages(client)
        # Both fell due: the start reminder first, then the one that nobody is registered.
        assert wording.START_TITLE.format(room="HC Torsås 1", start="13.00") in texts[-2]
        assert (await _jump(client, "end"))["now"] == "2026-11-25 14:10"
        assert wording.CLEANUP_TITLE.format(room="HC Torsås 1") in (await _messages(client))[-1]
        assert (await _jump(client, "hour"))["now"] == "2026-11-25 15:10"
        bad = await client.post("/api/demo/clock", json={"user": ANNA, "to": "yesterday"})
        assert bad.status == 400
