"""Hostile and unlucky HTTP at the adapters' edge: bytes no client should send, bodies that never
finish, clients that leave, envelopes Webex would never sign, and a demo reached under another name.

Each is sent over a real socket into the real app; the answer must be a plain 4xx or an ignoring
200, never a 500, a traceback in the log, or anything stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from yarl import URL

from bot.clock import ManualClock
from bot.config import Settings
from bot.demo.runner import demo_parts, start_demo
from bot.platforms.webex.route import WebexAdapter
from cards import texts
from cards.actions import ShowInvitation
from tests.conftest import RunningCms, make_settings
from tests.fakes.webex import Delivery, WebexFake, sign
from tests.platforms.webex_harness import REGION_DOMAIN, SECRET, TOKEN, Harness, create_room, latest_card
from tests.sleeps import Sleeps
from tests.store.rows import everything_stored


@pytest.fixture
def settings(fake_webex: tuple[WebexFake, str], cms: RunningCms, database_url: str) -> Settings:
    """As test_webex's, on SQLite and on PostgreSQL: what a database refuses differs between them."""
    fake, url = fake_webex
    return make_settings(
        cms, database_url, webex_token=TOKEN, webex_webhook_secret=SECRET,
        webex_api_url=url, allowed_webex_org_ids=(fake.org_id,), allowed_email_domains=(REGION_DOMAIN,),
    )


@pytest.fixture
def adapter(settings: Settings, sleeps: Sleeps) -> WebexAdapter:
    return WebexAdapter(settings, sleep=sleeps, workers=2, body_timeout=0.5)


Address = tuple[str, int]
# What a database refuses only matters where something could be stored; elsewhere one is enough.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def served(webex: Harness) -> AsyncIterator[Address]:
    """The same app behind a runner as ``distansmote serve`` sets it up (the test client's server
    cancels a handler whose client left, which hides what production does)."""
    runner = web.AppRunner(webex.client.app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield runner.addresses[0][:2]
    await runner.cleanup()


@pytest.fixture
async def demo_served(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Address]:
    handle = await start_demo(0, tmp_path / "demo-served", clock=clock)
    url = URL(handle.url)
    yield (url.host or "", url.port or 0)
    await handle.close()


async def raw_request(address: Address, head: bytes, body: bytes = b"", *, close: bool = False,
                      wait: float = 10.0) -> bytes:
    """Send bytes as they are (no client library tidies them); the answer, or b"" if none came."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(head + b"\r\n" + body)
        await writer.drain()
        if close:  # the client leaves a little later, once the server is reading
            await asyncio.sleep(0.1)
            return b""
        try:
            return await asyncio.wait_for(reader.read(65536), wait)
        except TimeoutError:
            return b""
    finally:
        writer.close()


def _head(path: str, *lines: bytes, length: int) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n").encode() + b"".join(line + b"\r\n" for line in lines)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# -- signatures --------------------------------------------------------------------------------

@sqlite_only
@pytest.mark.parametrize("signature", ["ä".encode() * 40, b"\xff\xfe" * 20, b"\xc3" + b"0" * 39],
                         ids=["non-ascii", "not-utf8", "cut-utf8"])
async def test_a_signature_that_is_not_ascii_gets_401(webex: Harness, served: Address, nina: dict[str, Any],
                                                      signature: bytes, caplog: pytest.LogCaptureFixture) -> None:
    delivery = webex.fake.user_message(nina, "/distansmöte hjälp")
    head = _head("/webex/events", b"X-Spark-Signature: " + signature, length=len(delivery.body))
    assert _status(await raw_request(served, head, delivery.body)) == 401
    assert _errors(caplog) == []


# -- JSON that is too deep ---------------------------------------------------------------------

DEEP = b"[" * 30_000 + b"]" * 30_000  # 60 KB: under every size limit, over Python's recursion limit


@sqlite_only
async def test_deeply_nested_json_on_the_webhook_gets_400(webex: Harness, caplog: pytest.LogCaptureFixture) -> None:
    for body in (DEEP, b'{"data":' * 7000 + b"1" + b"}" * 7000):
        response = await webex.client.post("/webex/events", data=body,
                                           headers={"X-Spark-Signature": sign(body, SECRET)})
        assert response.status == 400
    assert _errors(caplog) == []


@pytest.fixture
async def demo(aiohttp_client: Any, tmp_path: Path, clock: ManualClock) -> TestClient:
    async with demo_parts(tmp_path / "demo-data", clock=clock) as parts:
        yield await aiohttp_client(parts.app)


async def test_deeply_nested_json_on_the_demo_api_gets_400(demo: TestClient,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    for path in ("/api/demo/message", "/api/demo/submit"):
        response = await demo.post(path, data=DEEP, headers={"Content-Type": "application/json"})
        assert response.status == 400
        assert (await response.json())["error"] == "malformed JSON"
    assert _errors(caplog) == []


# -- envelopes Webex would never sign ----------------------------------------------------------

def _forged(webex: Harness, nina: dict[str, Any], **data: Any) -> Delivery:
    """A message envelope with ``data`` fields replaced, signed with the right secret."""
    envelope = json.loads(webex.fake.user_message(nina, "/distansmöte hjälp").body)
    envelope["data"].update(data)
    if "actorId" in data:
        envelope["actorId"] = data.pop("actorId")
        envelope["data"].pop("actorId")
    body = json.dumps(envelope).encode()  # ASCII with \u escapes: a lone surrogate survives
    return Delivery(envelope, body, {"Content-Type": "application/json", "X-Spark-Signature": sign(body, SECRET)})


@pytest.mark.parametrize("field", ["id", "personId", "actorId", "personEmail"])
@pytest.mark.parametrize("value", ["Y" * 5000, "Y2lzY29\u0000zcGFyaw", "Y2lzY29\ud800zcGFyaw", ""],
                         ids=["oversized", "nul", "lone-surrogate", "empty"])
async def test_an_envelope_with_an_impossible_id_is_ignored_with_200(
        webex: Harness, nina: dict[str, Any], field: str, value: str, caplog: pytest.LogCaptureFixture) -> None:
    delivery = _forged(webex, nina, **{field: value})
    calls_before = len(webex.fake.requests)
    assert await webex.post(delivery) == 200
    await webex.adapter.drain()
    assert _errors(caplog) == []
    if field == "personEmail":
        # Only the shortcut past the people lookup is lost; the command itself is answered.
        [answer] = webex.fake.sent
        assert answer.card is not None and answer.to_person_id == nina["id"]
    else:
        assert webex.fake.sent == []
        assert len(webex.fake.requests) == calls_before  # nothing fetched for it
        assert "Y" * 100 not in await everything_stored(webex.services)


# -- bodies that never finish, clients that leave ----------------------------------------------

@sqlite_only
async def test_a_body_that_never_finishes_gets_408_without_an_error(
        served: Address, caplog: pytest.LogCaptureFixture) -> None:
    head = _head("/webex/events", b"X-Spark-Signature: " + b"0" * 40, length=1000)
    answer = await raw_request(served, head, b'{"resource":', wait=10)
    assert _status(answer) == 408
    assert _errors(caplog) == []


@sqlite_only
async def test_a_client_that_leaves_mid_body_is_logged_at_debug_only(
        served: Address, demo_served: Address, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for address, path in ((served, "/webex/events"), (demo_served, "/api/demo/message")):
        head = _head(path, b"X-Spark-Signature: " + b"0" * 40, length=1000)
        await raw_request(address, head, b'{"user":', close=True)
    for _ in range(50):  # the server notices the closed socket on its next read
        if sum("client went away" in r.getMessage() for r in caplog.records) == 2:
            break
        await asyncio.sleep(0.02)
    assert sum("client went away" in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records) == 2
    assert _errors(caplog) == []


# -- cards in group spaces ---------------------------------------------------------------------

@sqlite_only
async def test_a_card_action_on_a_card_in_a_group_space_never_deletes_it(
        webex: Harness, nina: dict[str, Any]) -> None:
    await webex.deliver(webex.fake.user_message(nina, "/distansmöte ny"))
    await create_room(webex, nina, latest_card(webex, nina))
    room_card = latest_card(webex, nina)
    assert room_card.card is not None
    meeting_id = next(a["data"]["meeting_id"] for a in room_card.card["actions"] if "meeting_id" in a["data"])
    group = webex.fake.group_room(nina["id"])
    await webex.deliver(webex.fake.user_message(nina, "/distansmöte hjälp", room_id=group))
    [group_card] = [m for m in webex.fake.sent_to(room_id=group) if m.card is not None]

    # A submission on the group's card (forged through the API) whose answer replaces a card.
    inputs = ShowInvitation.submit_data(meeting_id=meeting_id)
    await webex.deliver(webex.fake.submit_card(nina, group_card.id, inputs))

    assert group_card.id not in webex.fake.deleted
    assert webex.fake.sent[-1].room_type == "direct"  # the invitation went 1:1, as always
    assert all(m.card is None or m.markdown == texts.HELP_TITLE for m in webex.fake.sent_to(room_id=group))


# -- the demo under another name (DNS rebinding) -----------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8080", "localhost", "LOCALHOST:8080"])
async def test_the_demo_answers_under_its_own_names(demo: TestClient, host: str) -> None:
    response = await demo.get("/api/demo/users", headers={"Host": host})
    assert response.status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil",
                                  "[::1]:8080", "0.0.0.0", "127.0.0.2", ""])
async def test_the_demo_refuses_any_other_host(demo: TestClient, host: str) -> None:
    for method, path in (("GET", "/"), ("GET", "/api/demo/users"), ("POST", "/api/demo/message")):
        response = await demo.request(method, path, headers={"Host": host},
                                      json={"user": "demo-anna", "text": "/distansmöte ny"})
        assert response.status == 403, (method, path)
    history = await demo.get("/api/demo/messages", params={"user": "demo-anna"})
    assert (await history.json())["messages"] == []
