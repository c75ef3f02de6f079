"""A CMS that hangs or is down, through signed webhooks into the real app: it holds only its own
share of the workers, everything else is answered meanwhile, and creates fail fast in Swedish."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import create_app
from bot.clock import ManualClock
from bot.config import Settings
from bot.platforms.webex import WebexAdapter
from bot.runtime import Services, open_services
from bot.scheduler import ReminderScheduler
from bot.services.cms import CmsClient, CmsGuard
from bot.services.meetings import CREATION_GRACE, CREATION_LEASE
from cards import texts
from tests.conftest import RunningCms, make_settings
from tests.fakes.webex import WebexFake
from tests.harness import submission
from tests.platforms.test_webex import REGION_DOMAIN, SECRET, TOKEN, Harness, fake_webex  # noqa: F401 - fixture
from tests.sleeps import Sleeps
from tests.waiting import eventually

WORKERS = 8


@asynccontextmanager
async def _harness(webex_api: tuple[WebexFake, str], cms: RunningCms, tmp_path: Path, clock: ManualClock,
                   aiohttp_client: Any, cms_timeout: float, guard: CmsGuard | None = None,
                   retry_for: float = 15.0) -> AsyncIterator[Harness]:
    fake, url = webex_api
    settings: Settings = make_settings(
        cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", webex_token=TOKEN, webex_webhook_secret=SECRET,
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


def _create(webex: Harness, person: dict[str, Any], form: Any):
    return webex.fake.submit_card(person, form.id, submission(form.card, texts.CREATE_ROOM, unit="HC Torsås",
                                                              date="2026-11-26", start="13:30", length="60"))


async def test_a_hanging_cms_holds_only_its_share_of_the_workers_and_help_is_answered(
        fake_webex, cms, tmp_path, clock, aiohttp_client) -> None:
    async with _harness(fake_webex, cms, tmp_path, clock, aiohttp_client, cms_timeout=60) as webex:
        nina = webex.fake.add_person("Nina Sjuksköterska", f"nina@{REGION_DOMAIN}")
        forms = await _forms(webex, nina, 10)
        cms.simulator.hang()
        for form in forms:  # ten rooms asked for, none answered
            assert await webex.post(_create(webex, nina, form)) == 200
        await eventually(lambda: cms.simulator.hanging == WORKERS // 2)
        before = len(webex.fake.sent)

        assert await webex.post(webex.fake.user_message(nina, "/distansmöte hjälp")) == 200
        await eventually(lambda: any(m.markdown == texts.HELP_TITLE or (m.card and texts.HELP_INTRO in str(m.card))
                                     for m in webex.fake.sent[before:]))
        assert cms.simulator.hanging == WORKERS // 2 and cms.simulator.spaces == {}  # the CMS still says nothing
        # The creates beyond the CMS's share were answered at once, in Swedish, with nothing made.
        refused = [m for m in webex.fake.sent[before:] if m.markdown == texts.ERRORS["room_service_down"]]
        assert len(refused) >= 10 - WORKERS // 2 - WORKERS // 4


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
        pending = webex.fake.sent_to(person_id=nina["id"])[-1]
        assert "vet ännu inte om mötesrummet skapades" in str(pending.card)
        cms.simulator.release()
        await cms.simulator.settled()

        passes = ReminderScheduler(webex.services)
        clock.advance(CREATION_LEASE + timedelta(seconds=1))
        assert await passes.finish_creations() == 0  # left a while to its event's job, had it died
        clock.advance(CREATION_GRACE)
        cms.simulator.hang(on="GET coSpaces")
        told_before = len(webex.fake.sent)
        assert await passes.finish_creations() == 0  # the CMS cannot tell yet: neither done nor given up
        assert len(webex.fake.sent) == told_before
        cms.simulator.release()
        clock.advance(CREATION_LEASE + CREATION_GRACE + timedelta(seconds=1))  # the pass's own lease
        assert await passes.finish_creations() == 1
        told = webex.fake.sent_to(person_id=nina["id"])[-1]
        assert told.markdown == texts.CREATION_FINISHED_TITLE.format(room="HC Torsås 1")
        assert await passes.finish_creations() == 0
        assert len(cms.simulator.spaces) == 1
