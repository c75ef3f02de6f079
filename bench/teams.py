"""Benchmark: how fast the Teams endpoint answers while the CMS is slow.

    .venv/bin/python bench/teams.py [--people N] [--cms-delay SECONDS] [--database-url URL]

Teams delivers an activity again when the bot has not answered within 15 seconds. This runs the
real bot (``open_services`` + ``create_app``, the Teams adapter in anonymous mode) on 127.0.0.1
with the CMS simulator answering each request only after ``--cms-delay`` seconds, and the fake
Bot Framework connector of the tests in place of Teams. ``--people`` people each type ``ny``, then
all submit their new-meeting card at once. Measured, per submission: the time until
``POST /api/messages`` answered, and the time until every room card and invitation arrived at the
connector (in place of the form, or after "Mötesrummet skapas …" for a create that was queued).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web

from bot.app import create_app
from bot.config import Settings
from bot.platforms.teams.adapter import TeamsAdapter
from bot.runtime import open_services
from bot.simulators.cms import CmsSimulator
from cards import texts
from tests.fakes.teams import FakeConnector, Posted
from tests.harness import submission

TENANT = "11111111-2222-3333-4444-555555555555"


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def _until(condition: Any, limit: float = 300.0) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > limit:
            raise TimeoutError("the bot did not answer in time")
        await asyncio.sleep(0.01)
    return time.perf_counter()


async def run(people: int, cms_delay: float, database_url: str) -> dict[str, Any]:
    cms = CmsSimulator(username="api", password="simulator")
    connector = FakeConnector()
    cms_runner, cms_url = await _serve(cms.app)
    connector_runner, connector_url = await _serve(connector.app)
    connector.service_url = connector_url + "/"
    settings = Settings(_env_file=None, database_url=database_url, cms_url=f"{cms_url}/api/v1/",  # type: ignore[call-arg]
                        cms_username="api", cms_password="simulator", video_domain="video.region.example",
                        teams_allow_anonymous=True, allowed_teams_tenant_ids=(TENANT,))
    adapter = TeamsAdapter(settings)
    services = await open_services(settings, adapters=[adapter])
    bot_runner, bot_url = await _serve(create_app(services))
    try:
        async with aiohttp.ClientSession() as http:
            async def post(activity: dict[str, Any]) -> float:
                start = time.perf_counter()
                async with http.post(f"{bot_url}/api/messages", json=activity) as response:
                    assert response.status == 200, response.status
                return time.perf_counter() - start

            users = [connector.user(f"Person {n}", TENANT) for n in range(people)]
            chats = [connector.personal_chat(user) for user in users]
            await asyncio.gather(*(post(connector.message(u, c, "ny")) for u, c in zip(users, chats, strict=True)))
            forms: list[Posted] = []
            for chat in chats:
                await _until(lambda chat=chat: connector.in_conversation(chat))
                forms.append(connector.in_conversation(chat)[0])

            cms.slowness = cms_delay
            tomorrow = datetime.now(settings.zone).date() + timedelta(days=1)  # a fixed date would pass
            values = {"unit": "HC Torsås", "date": f"{tomorrow:%Y-%m-%d}", "start": "13:30", "length": "60"}
            submits = [connector.submit(u, form, submission(form.card or {}, texts.CREATE_ROOM, **values))
                       for u, form in zip(users, forms, strict=True)]
            started = time.perf_counter()
            answers = await asyncio.gather(*(post(s) for s in submits))

            def said(chat: Any, words: str) -> bool:
                return any(words in str(posted.activity) for posted in connector.in_conversation(chat))

            # A room card replaces its form at once, or, for a create queued while the CMS is busy,
            # follows in a message of its own; the invitation comes after it either way.
            done = await _until(lambda: all(said(chat, "Samtals-ID: ") for chat in chats))
            await adapter.drain()
            queued = sum(said(chat, texts.ERRORS["room_pending"]) for chat in chats)
            refused = sum(said(chat, texts.ERRORS[code]) for chat in chats
                          for code in ("room_service_down", "room_service_unavailable"))
    finally:
        await bot_runner.cleanup()
        await services.close()
        await connector_runner.cleanup()
        await cms_runner.cleanup()
    return {
        "people": people, "cms_delay_s": cms_delay, "cms_requests": len(cms.requests),
        "rooms": len(cms.spaces), "queued": queued, "refused": refused,
        "answer_ms": {"median": round(statistics.median(answers) * 1000, 1),
                      "max": round(max(answers) * 1000, 1)},
        "all_room_cards_after_s": round(done - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--cms-delay", type=float, default=5.0, help="seconds the CMS takes per request")
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        print(json.dumps(asyncio.run(run(args.people, args.cms_delay, url)), indent=2))


if __name__ == "__main__":
    main()
