"""A CMS that hangs, is slow or is down, through signed webhooks into the real app: it holds only its
own share of the workers and everything else is answered meanwhile; creates that must wait, or whose
room the CMS may still make, are answered at once that the room is being created and then with the
truth, once; creates on a CMS that is down fail fast in Swedish."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import create_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.core import PersonKey
from bot.platforms.webex.route import WebexAdapter
from bot.runtime import Services, open_services
from bot.scheduler import POLL_SECONDS
from bot.services.cms import CmsClient
from bot.services.cms_guard import CmsGuard
from bot.services.meetings import Person
from cards import texts
from cards.meeting import grouped
from tests.conftest import RunningCms, make_settings, run_pass
from tests.fakes.webex import WebexFake
from tests.harness import submission
from tests.platforms.webex_harness import REGION_DOMAIN, SECRET, TOKEN, Harness
from tests.sleeps import Sleeps
from tests.waiting import eventually

WORKERS = 8
POLL = timedelta(seconds=POLL_SECONDS)  # the creations pass's cadence
SPEED = 20  # how much faster the slow CMS's time runs than the test's


def _person(person: dict[str, Any]) -> Person:
    return Person(key=str(PersonKey("webex", person["id"])), name=person["displayName"])


@asynccontextmanager
async def _harness(webex_api: tuple[WebexFake, str], cms: RunningCms, tmp_path: Path, clock: ManualClock,
                   aiohttp_client: Any, cms_timeout: float, guard: CmsGuard | None = None,
                   retry_for: float = 15.0, database_url: str | None = None) -> AsyncIterator[Harness]:
    fake, url = webex_api
    settings: Settings = make_settings(
        cms, database_url or f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", webex_token=TOKEN,
        webex_webhook_secret=SECRET,
        webex_api_url=url, allowed_email_domains=(REGION_DOMAIN,), webex_workers=WORKERS,
        cms_timeout_seconds=cms_timeout)
    sleeps = Sleeps()
    adapter = WebexAdapter(settings, sleep=sleeps, workers=WORKERS)
    services: Services = await open_services(settings, clock=clock, adapters=[adapter],
                                             cms=CmsClient.from_settings(settings, guard=guard, retry_for=retry_for))
    client = await aiohttp_client(create_app(services))
    try:
        yield Harness(fake, adapter, client, services, sleeps)
    finally:
        cms.simulator.release()
        await client.close()
        await services.close()


async def _forms(webex: Harness, person: dict[str, Any], count: int) -> list[Any]:
    for _ in range(count):
        await webex.deliver(webex.fake.user_message(person, "/distansmöte ny"))
    return [m for m in webex.fake.sent_to(person_id=person["id"]) if m.card is not None][-count:]


def _create(webex: Harness, person: dict[str, Any], form: Any, start: str = "13:30"):
    return webex.fake.submit_card(person, form.id, submission(form.card, texts.CREATE_ROOM, unit="HC Torsås",
                                                              date="2026-11-26", start=start, length="60"))


def _told(webex: Harness, person: dict[str, Any], text: str) -> list[Any]:
    """The messages to ``person``, 1:1, that say ``text`` (as the message or in its card)."""
    return [m for m in webex.fake.sent_to(person_id=person["id"]) if text in (m.markdown or "") + str(m.card)]


async def test_a_hanging_cms_holds_only_its_share_of_the_workers_and_help_is_answered(
        fake_webex, cms, tmp_path, clock, aiohttp_client) -> None:
    async with _harness(fake_webex, cms, tmp_path, clock, aiohttp_client, cms_timeout=60) as webex:
        nina = webex.fake.add_person("Nina Sjuksköterska", f"nina@{REGION_DOMAIN}")
        forms = await _forms(webex, nina, 10)
        cms.simulator.hang()
        for n, form in enumerate(forms):  # ten rooms asked for, none answered
            assert await webex.post(_create(webex, nina, form, start=f"{8 + n:02d}:00")) == 200
        await eventually(lambda: cms.simulator.hanging == WORKERS // 2)
        before = len(webex.fake.sent)

        assert await webex.post(webex.fake.user_message(nina, "/distansmöte hjälp")) == 200
        await eventually(lambda: any(m.markdown == texts.HELP_TITLE or (m.card and texts.HELP_INTRO in str(m.card))
                                     for m in webex.fake.sent[before:]))
        assert cms.simulator.hanging == WORKERS // 2 and cms.simulator.spaces == {}  # the CMS still says nothing
        # The creates beyond the CMS's share are answered without waiting for it: queued, a message follows.
        def queued() -> int:
            return sum(m.markdown == texts.ERRORS["room_pending"] for m in webex.fake.sent)
        await eventually(lambda: queued() >= 10 - WORKERS // 2 - WORKERS // 4)
        assert cms.simulator.hanging == WORKERS // 2
        assert not _told(webex, nina, texts.ERRORS["room_service_down"])


async def test_a_cms_that_is_down_is_answered_for_at_once_after_a_few_tries(
        fake_webex, cms, tmp_path, clock, aiohttp_client) -> None:
    async with _harness(fake_webex, cms, tmp_path, clock, aiohttp_client, cms_timeout=0.3) as webex:
        nina = webex.fake.add_person("Nina Sjuksköterska", f"nina@{REGION_DOMAIN}")
        forms = await _forms(webex, nina, 4)
        cms.simulator.fail_next(503, count=10_000)  # down: busy to every request
        for form in forms[:3]:
            await webex.deliver(_create(webex, nina, form))
        asked = len(cms.simulator.requests)
        await webex.deliver(_create(webex, nina, forms[3]))
        assert len(cms.simulator.requests) == asked  # the circuit is open: not even asked
        assert webex.fake.sent[-1].markdown == texts.ERRORS["room_service_down"]
        metrics = await (await webex.client.get("/metrics")).text()
        assert 'distansmote_cms_circuit{state="open"} 1.0' in metrics
        assert 'distansmote_cms_circuit{state="closed"} 0.0' in metrics
        assert forms[3].id not in webex.fake.deleted  # the card stays, to try again later
        assert cms.simulator.spaces == {}


async def test_a_room_the_cms_could_not_tell_about_is_told_to_its_creator_once_the_pass_finishes_it(
        fake_webex, cms, tmp_path, clock, aiohttp_client) -> None:
    # No cool-down: the pass finds a CMS that answers again at once.
    async with _harness(fake_webex, cms, tmp_path, clock, aiohttp_client, cms_timeout=0.3,
                        guard=CmsGuard(cool_down=0), retry_for=0.5) as webex:
        nina = webex.fake.add_person("Nina Sjuksköterska", f"nina@{REGION_DOMAIN}")
        [form] = await _forms(webex, nina, 1)
        cms.simulator.answer_late(1.0, on="POST coSpaces")  # made, but answered too late ...
        cms.simulator.hang(on="GET coSpaces")  # ... and no look-up answered either
        await webex.deliver(_create(webex, nina, form))
        assert webex.fake.sent_to(person_id=nina["id"])[-1].markdown == texts.ERRORS["room_pending"]
        cms.simulator.release()
        await cms.simulator.settled()

        cms.simulator.hang(on="GET coSpaces")
        told_before = len(webex.fake.sent)
        clock.advance(POLL)
        assert await run_pass(webex.services, "creations") == 0  # the CMS cannot tell yet: neither done nor given up
        assert len(webex.fake.sent) == told_before
        cms.simulator.release()
        clock.advance(POLL)
        assert await run_pass(webex.services, "creations") == 1
        card, invitation = webex.fake.sent_to(person_id=nina["id"])[-2:]
        assert card.markdown == texts.CREATION_FINISHED_TITLE.format(room="HC Torsås 1")
        assert invitation.markdown.startswith("Distansmöte ")
        clock.advance(POLL)
        assert await run_pass(webex.services, "creations") == 0
        assert len(cms.simulator.spaces) == 1


async def test_a_create_that_hangs_past_the_timeout_and_then_completes_makes_one_room_told_once(
        fake_webex, cms, tmp_path, clock, aiohttp_client, database_url) -> None:
    async with _harness(fake_webex, cms, tmp_path, clock, aiohttp_client, cms_timeout=0.3,
                        database_url=database_url) as webex:
        nina = webex.fake.add_person("Nina Sjuksköterska", f"nina@{REGION_DOMAIN}")
        [form] = await _forms(webex, nina, 1)
        cms.simulator.hang(on="POST coSpaces")  # no answer within the client's timeout ...
        await webex.deliver(_create(webex, nina, form))
        assert webex.fake.sent_to(person_id=nina["id"])[-1].markdown == texts.ERRORS["room_pending"]
        assert form.id not in webex.fake.deleted  # the card stays until the room is there

        [again] = await _forms(webex, nina, 1)  # a new card for the same unit and time, while pending
        await webex.deliver(_create(webex, nina, again))
        assert webex.fake.sent_to(person_id=nina["id"])[-1].markdown == texts.ERRORS["room_pending"]
        clock.advance(POLL)
        assert await run_pass(webex.services, "creations") == 0  # not made yet, and it may still be

        cms.simulator.release()  # ... then the CMS carries it out
        await cms.simulator.settled()
        clock.advance(POLL)
        assert await run_pass(webex.services, "creations") == 1
        clock.advance(POLL)
        assert await run_pass(webex.services, "creations") == 0

        assert cms.simulator.requests.count("POST /api/v1/coSpaces") == 1
        [space] = cms.simulator.snapshot()
        [meeting] = await webex.services.meetings.all_live()
        assert (meeting.space_id, meeting.room_name) == (space["id"], "HC Torsås 1")
        assert len(_told(webex, nina, texts.CREATION_FINISHED_TITLE.format(room="HC Torsås 1"))) == 1
        assert len(_told(webex, nina, f"Samtals-ID: {grouped(meeting.call_id)}")) == 1  # the invitation, once
        for untrue in ("room_service_unavailable", "room_service_down"):
            assert not _told(webex, nina, texts.ERRORS[untrue])
        assert all(m.to_person_id == nina["id"] for m in webex.fake.sent)  # 1:1, never in a space


async def test_twenty_creates_on_a_cms_answering_in_2_to_8_seconds_all_get_their_room(
        fake_webex, cms, tmp_path, clock, aiohttp_client) -> None:
    # CMS time runs SPEED times faster than the test's: its answers take 2–8 s, the client gives up after
    # 20 s (DISTANSMOTE_CMS_TIMEOUT_SECONDS's default) and the guard judges slowness by the same clock.
    guard = CmsGuard(concurrency=WORKERS // 2, waiting=WORKERS // 4, now=lambda: time.monotonic() * SPEED)
    cms.simulator.answer_slowly(2 / SPEED, 8 / SPEED, seed=20)
    async with _harness(fake_webex, cms, tmp_path, clock, aiohttp_client, cms_timeout=20 / SPEED,
                        guard=guard) as webex:
        staff = [webex.fake.add_person(f"Person {n}", f"person{n}@{REGION_DOMAIN}") for n in range(20)]
        forms = [(await _forms(webex, person, 1))[0] for person in staff]
        began = time.monotonic()
        statuses = await asyncio.gather(*(webex.post(_create(webex, person, form))
                                          for person, form in zip(staff, forms, strict=True)))
        assert statuses == [200] * 20

        def invited(person: dict[str, Any]) -> bool:
            return bool(_told(webex, person, "Samtals-ID: "))

        await eventually(lambda: all(invited(person) for person in staff), within=45)
        await webex.adapter.drain()
        took = time.monotonic() - began
        assert len(cms.simulator.spaces) == 20 and len(await webex.services.meetings.all_live()) == 20
        waited = 0
        for person in staff:
            assert len(_told(webex, person, "Samtals-ID: ")) == 1  # one room, one invitation
            for untrue in ("room_service_unavailable", "room_service_down"):
                assert not _told(webex, person, texts.ERRORS[untrue])
            if _told(webex, person, texts.ERRORS["room_pending"]):  # queued: told so, then the room
                waited += 1
                [room] = await webex.services.meetings.live_for(_person(person))
                assert len(_told(webex, person, texts.CREATION_FINISHED_TITLE.format(room=room.room_name))) == 1
            else:
                assert _told(webex, person, texts.ROOM_CREATED_TITLE)
        print(f"\nslow CMS: 20 creates, {waited} queued, all made in {took:.1f} s "
              f"({took * SPEED:.0f} s of CMS time); {len(cms.simulator.requests)} CMS requests")
