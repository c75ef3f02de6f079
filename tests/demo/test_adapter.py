"""The demo platform through HTTP: its page, its API, its own embedded parts, and the CLI."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.app import SERVICES
from bot.cli import build_parser
from bot.clock import ManualClock
from bot.core import PersonKey, Reply
from bot.core.delivery import DeliveryGone
from bot.demo.adapter import NAME, DemoAdapter, DemoSetupError, find_adaptivecards_js
from bot.demo.conversations import Conversations
from bot.demo.requests import MAX_BODY_BYTES, MAX_INPUTS
from bot.demo.runner import HOST, DemoHandle, demo_parts, start_demo
from bot.demo.users import DEMO_USERS
from bot.platforms.teams import TeamsSettings
from bot.platforms.webex import WebexSettings
from cards import texts
from tests.demo.conftest import break_the_store

ANNA, ERIK, MARIA = (user.id for user in DEMO_USERS)
# Skatteverket's published test personnummer: valid checksum, belongs to nobody.
TEST_PERSONNUMMER = "121212-1212"
# What must never reach the demo: a configured database, CMS, and platform tokens.
CONFIGURED = {
    "DISTANSMOTE_DATABASE_URL": "postgresql+asyncpg://production@db.region.invalid/distansmote",
    "DISTANSMOTE_CMS_URL": "https://cms.region.invalid:445/api/v1/",
    "DISTANSMOTE_CMS_USERNAME": "production-api",
    "DISTANSMOTE_CMS_PASSWORD": "production-password",
    "DISTANSMOTE_WEBEX_TOKEN": "production-webex-token",
    "DISTANSMOTE_TEAMS_APP_PASSWORD": "production-teams-password",
    "DISTANSMOTE_ADMINS": "someone@region.invalid",
}


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, clock: ManualClock) -> AsyncIterator[TestClient]:
    async with demo_parts(tmp_path / "demo-data", clock=clock) as parts:
        yield await aiohttp_client(parts.app)


@pytest.fixture
async def running(tmp_path: Path, clock: ManualClock) -> AsyncIterator[DemoHandle]:
    handle = await start_demo(0, tmp_path / "demo-data", clock=clock)
    yield handle
    await handle.close()


async def say(client: TestClient, user: str, text: str) -> list[dict[str, Any]]:
    response = await client.post("/api/demo/message", json={"user": user, "text": text})
    assert response.status == 200, await response.text()
    return (await response.json())["messages"]


async def submit(client: TestClient, user: str, inputs: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.post("/api/demo/submit", json={"user": user, "inputs": inputs})
    assert response.status == 200, await response.text()
    return (await response.json())["messages"]


def submit_data(card: dict[str, Any], title: str) -> dict[str, str]:
    """The data of the card's Action.Submit with this title, as the renderer would send it."""
    for action in card.get("actions", []):
        if action["type"] == "Action.Submit" and action["title"] == title:
            return dict(action["data"])
    raise AssertionError(f"no button {title!r} in the card")


def last_card(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return next(m["card"] for m in reversed(messages) if m["card"])


async def room_names(client: TestClient) -> list[str]:
    response = await client.get("/api/demo/rooms")
    assert response.status == 200
    return [room["name"] for room in (await response.json())["rooms"]]


async def create_room(client: TestClient, user: str, unit: str = "HC Torsås") -> list[dict[str, Any]]:
    form = last_card(await say(client, user, "/distansmöte ny"))
    inputs = submit_data(form, texts.CREATE_ROOM) | {
        "unit": unit, "date": "2026-11-26", "start": "10:00", "length": "60",
    }
    return await submit(client, user, inputs)


# -- users and conversations ------------------------------------------------------------------


async def test_users_are_staff_and_one_admin_whom_the_settings_know(client: TestClient) -> None:
    users = (await (await client.get("/api/demo/users")).json())["users"]

    assert 3 <= len(users) <= 4
    admins = [user["id"] for user in users if user["isAdmin"]]
    assert len(admins) == 1
    assert client.app[SERVICES].settings.admins == tuple(admins)
    assert all(user["name"] and user["role"] for user in users)


async def test_a_typed_command_gets_a_card_reply_through_the_bot(client: TestClient) -> None:
    messages = await say(client, ANNA, "/distansmöte ny")

    assert [m["from"] for m in messages] == ["user", "bot"]
    assert messages[0]["text"] == "/distansmöte ny"
    assert messages[1]["text"] == texts.NEW_MEETING_TITLE
    assert messages[1]["card"]["type"] == "AdaptiveCard"
    history = await (await client.get("/api/demo/messages", params={"user": ANNA})).json()
    assert history["messages"] == messages


async def test_each_user_has_a_chat_of_their_own(client: TestClient) -> None:
    await say(client, ANNA, "/distansmöte hjälp")

    erik = await (await client.get("/api/demo/messages", params={"user": ERIK})).json()
    anna = await (await client.get("/api/demo/messages", params={"user": ANNA, "after": "1"})).json()
    assert erik["messages"] == []
    assert [m["from"] for m in anna["messages"]] == ["bot"]


async def test_a_card_submission_creates_a_room_seen_in_the_side_panel(client: TestClient) -> None:
    assert await room_names(client) == []

    messages = await create_room(client, ANNA)

    assert any(m["card"] and texts.ROOM_CREATED_TITLE in str(m["card"]) for m in messages)
    assert await room_names(client) == ["HC Torsås 1"]
    rooms = (await (await client.get("/api/demo/rooms")).json())["rooms"]
    assert set(rooms[0]) == {"id", "name", "uri", "callId", "inCall", "joined"}
    assert rooms[0]["uri"] == "hc.torsas.1"


async def test_switching_user_shows_who_may_delete_a_room(client: TestClient) -> None:
    await create_room(client, ANNA)

    refused = await say(client, ERIK, "/distansmöte ta bort HC Torsås 1")
    assert texts.ERRORS["not_allowed"] in str(refused[-1])
    assert await room_names(client) == ["HC Torsås 1"]

    question = last_card(await say(client, MARIA, "/distansmöte ta bort HC Torsås 1"))
    deleted = await submit(client, MARIA, submit_data(question, texts.DELETE_YES))
    assert texts.DELETED_TITLE in str(last_card(deleted))
    assert await room_names(client) == []


async def test_a_call_started_in_the_side_panel_brings_the_active_call_warning(client: TestClient) -> None:
    await create_room(client, ANNA)
    [room] = (await (await client.get("/api/demo/rooms")).json())["rooms"]
    assert room["inCall"] is False

    started = await client.post("/api/demo/call", json={"room": room["id"], "active": True})
    assert started.status == 200
    [room] = (await (await client.get("/api/demo/rooms")).json())["rooms"]
    assert room["inCall"] is True
    question = last_card(await say(client, ANNA, "/distansmöte ta bort HC Torsås 1"))
    assert texts.DELETE_CALL_ACTIVE in str(question)
    assert submit_data(question, texts.DELETE_YES_END_CALL)

    ended = await client.post("/api/demo/call", json={"room": room["id"], "active": False})
    assert ended.status == 200
    question = last_card(await say(client, ANNA, "/distansmöte ta bort HC Torsås 1"))
    assert texts.DELETE_CALL_ACTIVE not in str(question)
    assert (await client.post("/api/demo/call", json={"room": "no-such-room", "active": True})).status == 404
    assert (await client.post("/api/demo/call", json={"room": room["id"], "active": "yes"})).status == 400


async def test_the_side_panel_lets_someone_join_by_each_way_and_the_join_check_counts_them(
        client: TestClient) -> None:
    await create_room(client, ANNA)
    [room] = (await (await client.get("/api/demo/rooms")).json())["rooms"]
    assert room["joined"] == {"video": 0, "browser": 0, "phone": 0}
    for way in ("video", "browser", "phone", "phone"):
        assert (await client.post("/api/demo/join", json={"room": room["id"], "way": way})).status == 200
    [room] = (await (await client.get("/api/demo/rooms")).json())["rooms"]
    assert room["joined"] == {"video": 1, "browser": 1, "phone": 2}
    assert (await client.post("/api/demo/join", json={"room": room["id"], "way": "fax"})).status == 400
    assert (await client.post("/api/demo/join", json={"room": "no-such-room", "way": "video"})).status == 404


@pytest.mark.parametrize("number", [TEST_PERSONNUMMER, "12 12 12 - 1212", "121212\u20131212", "121212-1213",
                                    "\uff11\uff12\uff11\uff12\uff11\uff12\u00a0\uff11\uff12\uff11\uff12"])
async def test_a_typed_personnummer_is_neither_kept_nor_shown(client: TestClient, number: str) -> None:
    messages = await say(client, ANNA, f"/distansmöte ny {number}")

    assert messages[0]["text"] == texts.DEMO_HIDDEN_TEXT
    assert messages[1]["text"] == texts.PERSONAL_NUMBER_REFUSED
    history = await (await client.get("/api/demo/messages", params={"user": ANNA})).json()
    assert number not in str(history) and "1212" not in str(history)


async def test_a_reply_sent_later_reaches_a_waiting_page(client: TestClient) -> None:
    [adapter] = client.app[SERVICES].adapters
    waiting = asyncio.create_task(client.get("/api/demo/messages", params={"user": ERIK, "wait": "20"}))
    await asyncio.sleep(0)  # let the long-poll start waiting; no time passes

    await adapter.send_direct(PersonKey(NAME, ERIK), [Reply("Påminnelse: mötet börjar snart.")])

    response = await asyncio.wait_for(waiting, 10)
    assert [m["text"] for m in (await response.json())["messages"]] == ["Påminnelse: mötet börjar snart."]
    with pytest.raises(DeliveryGone):
        await adapter.send_direct(PersonKey(NAME, "someone-else"), [Reply("x")])


async def test_a_waiting_long_poll_wakes_when_a_message_arrives() -> None:
    conversations = Conversations([ANNA])
    waiting = asyncio.create_task(conversations.wait_after(ANNA, 0, seconds=30))
    for _ in range(5):
        await asyncio.sleep(0)  # nothing to wait for but the condition: it is parked there now
    assert not waiting.done()

    await conversations.append(ANNA, "bot", "hej")

    assert [m.text for m in await asyncio.wait_for(waiting, 5)] == ["hej"]


async def test_shutting_down_releases_waiting_long_polls_at_once() -> None:
    conversations = Conversations([ANNA])
    waiting = asyncio.create_task(conversations.wait_after(ANNA, 0, seconds=30))
    for _ in range(5):
        await asyncio.sleep(0)

    await conversations.close()

    assert await asyncio.wait_for(waiting, 5) == []


async def test_an_idle_long_poll_answers_empty_when_its_wait_is_over(client: TestClient) -> None:
    response = await client.get("/api/demo/messages", params={"user": ANNA, "wait": "0.05"})

    assert response.status == 200
    assert (await response.json())["messages"] == []


# -- bad requests -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"user": ANNA}, 400),  # no inputs
        ({"user": ANNA, "inputs": {"action": 1}}, 400),  # inputs are strings, as on Webex
        ({"user": ANNA, "inputs": ["action"]}, 400),
        ({"user": ANNA, "inputs": {f"k{i}": "v" for i in range(MAX_INPUTS + 1)}}, 400),
        ({"user": ANNA, "inputs": {"label": "x" * 2001}}, 400),
        ({"user": ANNA, "inputs": {}, "extra": "field"}, 400),
        ({"user": "nobody", "inputs": {}}, 400),
        ({"inputs": {}}, 400),
        ({"user": ANNA, "inputs": {"label": "x" * MAX_BODY_BYTES}}, 413),
    ],
    ids=["no-inputs", "number", "list", "too-many", "too-long", "extra", "unknown-user", "no-user",
         "too-big"],
)
async def test_bad_submissions_get_a_json_error(
    client: TestClient, body: dict[str, Any], status: int,
) -> None:
    response = await client.post("/api/demo/submit", json=body)

    assert response.status == status
    assert "error" in await response.json()
    assert (await (await client.get("/api/demo/messages", params={"user": ANNA})).json())["messages"] == []


async def test_an_unknown_card_action_is_answered_in_swedish(client: TestClient) -> None:
    messages = await submit(client, ANNA, {"action": "no_such_action", "v": "1"})

    assert messages[-1]["text"] == texts.UNKNOWN_ACTION


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b'{"user": "demo-anna", "text": "   "}', "application/json"),
        (b'{"user": "demo-anna", "text": "' + b"x" * 2001 + b'"}', "application/json"),
        (b'{"user": "demo-anna", "text": 5}', "application/json"),
        (b'{"user": "demo-anna", "text": "hej"', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b'{"user": "demo-anna", "text": "hej"}', "text/plain"),
    ],
    ids=["blank", "too-long", "number", "malformed", "not-utf8", "not-json"],
)
async def test_bad_messages_get_a_json_error(client: TestClient, data: bytes, content_type: str) -> None:
    response = await client.post("/api/demo/message", data=data, headers={"Content-Type": content_type})

    assert response.status == 400
    assert "error" in await response.json()


@pytest.mark.parametrize(
    "params",
    [{}, {"user": "nobody"}, {"user": ANNA, "after": "-1"}, {"user": ANNA, "wait": "600"},
     {"user": ANNA, "after": "x"}],
    ids=["no-user", "unknown-user", "negative", "long-wait", "not-a-number"],
)
async def test_bad_message_queries_get_a_json_error(client: TestClient, params: dict[str, str]) -> None:
    response = await client.get("/api/demo/messages", params=params)

    assert response.status == 400
    assert "error" in await response.json()


# -- the database fails ----------------------------------------------------------------------


async def test_when_its_database_fails_the_demo_answers_in_swedish_with_a_503(
        aiohttp_client: Any, tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    async with demo_parts(tmp_path, clock=clock) as parts:
        client = await aiohttp_client(parts.app)
        await say(client, ANNA, "/distansmöte hjälp")
        break_the_store(tmp_path, broken=True)
        caplog.clear()

        for path, body in (("/api/demo/message", {"user": ANNA, "text": "/distansmöte hjälp"}),
                           ("/api/demo/submit", {"user": ANNA, "inputs": {"action": "create_meeting", "v": "1"}})):
            response = await client.post(path, json=body)
            assert response.status == 503
            answer = await response.json()
            assert answer["error"] == "database unavailable"
            assert answer["messages"][-1] == {**answer["messages"][-1], "from": "bot", "text": texts.DEMO_STORE_DOWN}

        failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
        # The kinds of the error and its causes: the driver's own, or SQLAlchemy's around it.
        assert len(failures) == 2 and all(re.fullmatch(
            r"demo event not handled: the database failed \(OperationalError( from OperationalError)?\)",
            r.getMessage()) for r in failures)
        assert all(r.exc_info is None and not r.exc_text for r in failures)
        assert "hjälp" not in caplog.text and "inbound_event" not in caplog.text

        break_the_store(tmp_path, broken=False)  # disk space again: the demo answers as before
        assert last_card(await say(client, ANNA, "/distansmöte hjälp"))["body"][0]["text"] == texts.HELP_TITLE


# -- the page and its files -------------------------------------------------------------------


async def test_the_page_and_its_scripts_come_from_this_server_only(client: TestClient) -> None:
    page = await client.get("/")
    html = await page.text()

    assert page.status == 200
    assert "Lokal demo – inga riktiga möten skapas" in html
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "http://" not in html and "https://" not in html
    for path, kind in [("/vendor/adaptivecards.js", "javascript"), ("/static/app.js", "javascript"),
                       ("/static/app.css", "css"), ("/static/icon.svg", "svg")]:
        response = await client.get(path)
        assert response.status == 200, path
        assert kind in response.headers["Content-Type"]
    for path in ["/static/index.html.bak", "/static/..%2Fdemo.py", "/static/demo.py"]:
        assert (await client.get(path)).status == 404, path


def test_without_npm_ci_start_up_stops_and_says_what_to_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("bot.demo.adapter.REPO_ROOT", tmp_path)

    with pytest.raises(DemoSetupError, match="run `npm ci`"):
        DemoAdapter(rooms=list)


def test_the_renderer_is_found_from_the_repository_root_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)

    assert find_adaptivecards_js().name in {"adaptivecards.min.js", "adaptivecards.js"}


# -- the embedded parts -----------------------------------------------------------------------


async def test_the_demo_listens_on_loopback_only(running: DemoHandle) -> None:
    assert running.url.startswith(f"http://{HOST}:")
    assert len(running.addresses) == 2  # the CMS simulator and the page
    assert all(host == "127.0.0.1" for host, _port in running.addresses)
    async with aiohttp.ClientSession() as session, session.get(running.url + "healthz") as response:
        assert response.status == 200


async def test_the_demo_ignores_configured_database_cms_and_tokens(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: ManualClock,
) -> None:
    for name, value in CONFIGURED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    Path(".env").write_text("".join(f"{name}={value}\n" for name, value in CONFIGURED.items()))

    handle = await start_demo(0, Path("own-data"), clock=clock)
    try:
        settings = handle.app[SERVICES].settings
        assert settings.database_url.endswith(str(tmp_path / "own-data" / "demo.db"))
        assert settings.cms_url is not None and settings.cms_url.startswith(f"http://{HOST}:")
        assert settings.cms_username != CONFIGURED["DISTANSMOTE_CMS_USERNAME"]
        assert WebexSettings.of(settings).token is None and TeamsSettings.of(settings).app_password is None
        assert "someone@region.invalid" not in settings.admins
        async with aiohttp.ClientSession() as session:
            message = {"user": ANNA, "text": "/distansmöte ny"}
            async with session.post(handle.url + "api/demo/message", json=message) as response:
                assert response.status == 200
        assert (tmp_path / "own-data" / "demo.db").is_file()
    finally:
        await handle.close()


async def test_each_start_begins_with_an_empty_store(tmp_path: Path, clock: ManualClock) -> None:
    # The simulator starts empty; a store left from an earlier run would claim rooms that are gone.
    (tmp_path / "demo.db").write_bytes(b"left over from an earlier run")

    async with demo_parts(tmp_path, clock=clock) as parts:
        assert await parts.app[SERVICES].meetings.all_live() == []
        assert (tmp_path / "demo.db").read_bytes()[:15] == b"SQLite format 3"


# -- the command line -------------------------------------------------------------------------


def test_the_cli_has_a_port_but_no_host_option() -> None:
    args = build_parser().parse_args(["demo", "--port", "9000"])

    assert args.port == 9000
    assert not hasattr(args, "host")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--host", "0.0.0.0"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--port", "70000"])


@pytest.fixture
def configured_environment() -> Iterator[dict[str, str]]:
    yield {**os.environ, **CONFIGURED}


async def test_distansmote_demo_prints_its_address_and_stops_on_ctrl_c(
    tmp_path: Path, configured_environment: dict[str, str],
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "demo", "--port", "0", "--data-dir", str(tmp_path / "data"),
        cwd=tmp_path, env=configured_environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()  # type: ignore[union-attr]
        url = line.split("open ", 1)[1].split()[0]
        assert url.startswith(f"http://{HOST}:")
        async with aiohttp.ClientSession() as session, session.get(url + "api/demo/users") as response:
            assert response.status == 200

        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert b"Traceback" not in await process.stderr.read()  # type: ignore[union-attr]


async def test_a_meeting_asked_about_moved_handed_over_to_the_other_person_and_cancelled(client: TestClient) -> None:
    room_card = last_card(await create_room(client, ANNA))
    [room] = (await (await client.get("/api/demo/rooms")).json())["rooms"]
    assert (await client.post("/api/demo/join", json={"room": room["id"], "way": "video"})).status == 200

    more = last_card(await submit(client, ANNA, submit_data(room_card, texts.MORE)))
    joined = last_card(await submit(client, ANNA, submit_data(more, texts.JOIN_CHECK_ASK)))
    assert texts.JOIN_CHECK_ALL.format(joined=1, expected=1) in str(joined)

    moved = await submit(client, ANNA, {**submit_data(more, texts.MOVE), "date": "2026-11-27", "start": "10:00",
                                        "length": "60"})
    assert moved[-1]["text"].startswith("NY TID") and "fredag 2026-11-27 kl. 10.00–11.00" in moved[-1]["text"]

    found = last_card(await submit(client, ANNA, {**submit_data(more, texts.FIND_COLLEAGUE), "colleague": "erik"}))
    [erik] = next(e for e in found["body"] if e.get("id") == "to")["choices"]
    assert erik == {"title": "Erik Holm", "value": f"{NAME}:{ERIK}"}
    done = await submit(client, ANNA, {**submit_data(found, texts.HAND_OVER), "to": erik["value"]})
    assert texts.HANDED_OVER_TEXT.format(name="Erik Holm", room="HC Torsås 1") in str(done[-1])
    given = last_card((await (await client.get("/api/demo/messages", params={"user": ERIK})).json())["messages"])
    assert "Anna Lind har lämnat över mötesrummet till dig" in str(given)

    more = last_card(await submit(client, ERIK, submit_data(given, texts.MORE)))
    question = last_card(await submit(client, ERIK, submit_data(more, texts.CANCEL_MEETING)))
    assert texts.DELETE_CALL_ACTIVE in str(question)  # someone is still in the room from the side panel
    cancelled = last_card(await submit(client, ERIK, submit_data(question, texts.CANCEL_YES_END_CALL)))
    assert texts.CANCELLED_TITLE in str(cancelled)
    assert await room_names(client) == []
    report = last_card(await say(client, MARIA, "/distansmöte rapport rum"))
    assert "Inställt" in str(report) and "Flyttat" in str(report)
