"""The app's own endpoints: health, readiness and metrics."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import create_app
from tests.handlers.test_routine import create_room


async def test_health_readiness_and_metrics(aiohttp_client, services, chat):
    client = await aiohttp_client(create_app(services))
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert (ready.status, await ready.json()) == (200, {"status": "ready"})

    await create_room(chat)
    response = await client.get("/metrics")
    body = await response.text()
    assert response.status == 200
    assert 'distansmote_meetings{state="created"} 1' in body
    assert 'distansmote_meetings{state="deleted"} 0' in body
    assert 'distansmote_reminders{state="pending"}' in body


async def test_readiness_fails_when_the_database_is_gone(aiohttp_client, services):
    client = await aiohttp_client(create_app(services))
    healthy = services.engine
    services.engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        response = await client.get("/readyz")
    finally:
        await services.engine.dispose()
        services.engine = healthy
    assert response.status == 503


async def test_the_privacy_page_says_in_swedish_what_is_stored_and_for_how_long(aiohttp_client, services):
    client = await aiohttp_client(create_app(services))
    response = await client.get("/privacy")
    page = await response.text()
    assert response.status == 200 and response.content_type == "text/html" and response.charset == "utf-8"
    assert '<html lang="sv">' in page and "<h1>Distansmöte – så hanteras uppgifterna om dig</h1>" in page
    for heading in ("Vad som sparas om dig som personal", "Vad som aldrig sparas", "Varför", "Hur länge",
                    "Vem som kan se uppgifterna", "Var tjänsten körs", "Dina rättigheter"):
        assert f"<h2>{heading}</h2>" in page
    settings = services.settings
    assert f"{settings.retention_days} dagar efter att rummet tagits bort" in page
    assert f"automatiskt {settings.auto_delete_after_hours} timmar efter mötets slut" in page
    assert "{days}" not in page and "{hours}" not in page  # every value filled in

    terms = await client.get("/terms")
    assert terms.status == 200 and "Skriv aldrig patientuppgifter" in await terms.text()
