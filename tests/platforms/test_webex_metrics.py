"""``GET /metrics`` after the routine over signed webhooks: it parses with prometheus-client's own
parser and carries every family operators alert on; 503, not 500, while the database is down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import create_app
from bot.clock import ManualClock
from bot.core import Platform
from bot.platforms.webex.route import WebexAdapter
from bot.runtime import Services, open_services
from cards import texts
from tests.conftest import RunningCms, _admin, make_settings
from tests.platforms.webex_harness import SECRET, TOKEN, Harness, click, create_room, latest_card

FAMILIES = {
    "distansmote_rooms_created": "counter", "distansmote_rooms_deleted": "counter",
    "distansmote_rooms_live": "gauge", "distansmote_rooms_overdue": "gauge",
    "distansmote_reminders_due": "gauge", "distansmote_reminders_sent": "counter",
    "distansmote_reminders_late": "counter", "distansmote_reminders_failed": "counter",
    "distansmote_reminder_lateness_seconds": "histogram",
    "distansmote_inbound_requests": "counter", "distansmote_inbound_backlog": "gauge",
    "distansmote_inbound_oldest_pending_seconds": "gauge",
    "distansmote_cms_request_seconds": "histogram", "distansmote_platform_request_seconds": "histogram",
    "distansmote_meetings": "gauge", "distansmote_reminders": "gauge",
    "process_resident_memory_bytes": "gauge", "process_cpu_seconds": "counter", "python_info": "gauge",
    "distansmote_build_info": "gauge", "distansmote_cms_circuit": "gauge",
}


async def scrape(client: Any) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """``{family: {labels: value}}``, parsed by prometheus-client (samples of histograms by full name)."""
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    types = {}
    for family in text_string_to_metric_families(await response.text()):
        types[family.name] = family.type
        for sample in family.samples:
            key = family.name if family.type not in ("histogram",) else sample.name
            found.setdefault(key, {})[tuple(sorted(sample.labels.items()))] = sample.value
    assert {name: types.get(name) for name in FAMILIES} == FAMILIES
    return found


def value(scraped: dict, family: str, **labels: str) -> float:
    return sum(v for key, v in scraped.get(family, {}).items() if set(labels.items()) <= set(key))


async def test_metrics_carry_every_family_through_the_routine(
        webex: Harness, nina: dict[str, Any], clock: ManualClock) -> None:
    client, fake, services = webex.client, webex.fake, webex.services
    before = await scrape(client)

    await webex.deliver(fake.user_message(nina, "/distansmöte ny"))
    await create_room(webex, nina, latest_card(webex, nina))
    room_card = latest_card(webex, nina)
    await click(webex, nina, room_card, texts.DELETE_ROOM)
    await click(webex, nina, latest_card(webex, nina), texts.DELETE_YES)
    await webex.deliver(fake.user_message(nina, "/distansmöte ny"))
    await create_room(webex, nina, latest_card(webex, nina))
    assert (await client.post("/webex/events", data=b"{}", headers={"X-Spark-Signature": "0" * 40})).status == 401

    clock.set(datetime(2026, 11, 27, 14, 0, tzinfo=UTC))  # past the second room's deadline, nothing run yet
    waiting = await scrape(client)
    assert value(waiting, "distansmote_rooms_created") == 2
    assert value(waiting, "distansmote_rooms_deleted", by="creator") == 1
    assert value(waiting, "distansmote_rooms_live") == 1 and value(waiting, "distansmote_rooms_overdue") == 1
    assert value(waiting, "distansmote_reminders_due") >= 3  # start, cleanup, automatic deletion
    assert value(waiting, "distansmote_inbound_backlog", platform="webex") == 0
    delta = value(waiting, "distansmote_inbound_requests", outcome="accepted") - value(
        before, "distansmote_inbound_requests", outcome="accepted")
    assert delta == 6
    assert value(waiting, "distansmote_inbound_requests", platform="webex", outcome="bad_signature") >= 1
    assert value(waiting, "distansmote_cms_request_seconds_count", method="POST", outcome="2xx") >= 2
    assert value(waiting, "distansmote_platform_request_seconds_count", platform="webex",
                 operation="POST messages", outcome="ok") >= 8

    fake.fail_next(404, method="POST", path="messages")  # the creator is gone for one reminder
    await services.reminders.run_due()
    after = await scrape(client)
    assert value(after, "distansmote_rooms_deleted", by="rule") == 1
    assert value(after, "distansmote_rooms_live") == 0 and value(after, "distansmote_rooms_overdue") == 0
    assert value(after, "distansmote_reminders_due") == 0
    for family in ("distansmote_reminders_sent", "distansmote_reminders_late", "distansmote_reminders_failed"):
        assert value(after, family) > value(before, family), family
    assert value(after, "distansmote_reminder_lateness_seconds_count") > value(
        before, "distansmote_reminder_lateness_seconds_count")
    assert value(after, "process_resident_memory_bytes") > 0
    assert value(after, "distansmote_cms_circuit", state="closed") == 1
    assert value(after, "distansmote_cms_circuit", state="open") == 0
    [(build, one)] = after["distansmote_build_info"].items()
    assert one == 1 and {"version", "python"} <= dict(build).keys()


@pytest.fixture
async def on_postgresql(fake_webex: tuple[Any, str], cms: RunningCms, postgres_url: str,
                        clock: ManualClock) -> AsyncIterator[tuple[Services, str]]:
    settings = make_settings(cms, postgres_url, webex_token=TOKEN, webex_webhook_secret=SECRET,
                             webex_api_url=fake_webex[1], allowed_email_domains=("region.example",))
    opened = await open_services(settings, clock=clock, adapters=[WebexAdapter(settings, workers=1)])
    yield opened, postgres_url.rsplit("/", 1)[1]
    await opened.close()


async def test_metrics_and_readiness_answer_503_while_the_database_is_down(
        aiohttp_client: Any, on_postgresql: tuple[Services, str]) -> None:
    services, database = on_postgresql
    client = await aiohttp_client(create_app(services))
    assert (await client.get("/metrics")).status == 200
    assert (await client.get("/readyz")).status == 200

    await _admin(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
    await _admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")
    try:
        down = await client.get("/metrics")
        assert (down.status, await down.text()) == (503, "database unavailable\n")
        ready = await client.get("/readyz")
        assert (ready.status, await ready.json()) == (503, {"status": "database unavailable"})
        assert (await client.get("/healthz")).status == 200
    finally:
        await _admin(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')
    assert (await client.get("/metrics")).status == 200


class Unidentified:
    """A Webex adapter that has not read the bot's identity (yet)."""

    platform = Platform("webex")
    ready = False

    def install(self, app: Any, host: Any) -> None:
        pass


async def test_readiness_waits_for_the_platform_identity(aiohttp_client: Any, settings: Any,
                                                         clock: ManualClock) -> None:
    services = await open_services(settings, clock=clock, adapters=[Unidentified()])  # type: ignore[list-item]
    try:
        client = await aiohttp_client(create_app(services))
        ready = await client.get("/readyz")
        assert (ready.status, await ready.json()) == (503, {"status": "platform identity not read: webex"})
        await client.close()
    finally:
        await services.close()
