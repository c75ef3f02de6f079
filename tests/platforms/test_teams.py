"""The Teams adapter over real HTTP: activities POSTed into the real app's ``/api/messages``, the
Agents SDK's connector client out to the fake connector, the CMS simulator behind the meeting
service. Assertions are on what the connector received."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.clock import ManualClock
from bot.config import Settings
from bot.core import PersonKey, Reply
from bot.core.delivery import DeliveryFailed, DeliveryGone
from bot.platforms.teams.activities import Address
from bot.platforms.teams.adapter import MAX_BODY_BYTES
from cards import texts
from cards.meeting import grouped
from tests.conftest import RunningCms, make_settings
from tests.fakes.teams import FakeConnector, Posted, TeamsConversation, TeamsUser
from tests.harness import submission
from tests.platforms.teams_harness import TENANT, Teams, anonymous_settings, running_teams, start_teams

OTHER_TENANT = "99999999-8888-7777-6666-555555555555"
APP_ID = "1f2e3d4c-0000-4000-8000-123456789abc"


@pytest.fixture
async def fake(aiohttp_server: Any) -> FakeConnector:
    return await FakeConnector.served(aiohttp_server)


@pytest.fixture
def settings(cms: RunningCms, tmp_path: Path) -> Settings:
    return anonymous_settings(cms, tmp_path)


@pytest.fixture
async def teams(settings: Settings, clock: ManualClock, fake: FakeConnector,
                aiohttp_client: Any) -> AsyncIterator[Teams]:
    async with running_teams(settings, clock, fake, aiohttp_client) as started:
        yield started


@pytest.fixture
def nina(fake: FakeConnector) -> TeamsUser:
    return fake.user("Nina Sjuksköterska", TENANT)


def _last_card(posts: list[Posted]) -> Posted:
    cards = [p for p in posts if p.card is not None]
    assert cards, f"no card among {[p.text for p in posts]}"
    return cards[-1]


NEW_ROOM = {"unit": "HC Torsås", "date": "2026-11-26", "start": "13:30", "length": "60"}


# -- the routine ------------------------------------------------------------------------------

async def test_the_routine_in_a_personal_chat_from_new_to_deleted(
        teams: Teams, nina: TeamsUser, cms: RunningCms) -> None:
    chat = teams.fake.personal_chat(nina)
    await teams.say(nina, chat, "/distansmöte ny")
    [form] = teams.fake.in_conversation(chat)
    assert form.card is not None and form.card["version"] == "1.3"

    await teams.click(nina, form, texts.CREATE_ROOM, **NEW_ROOM)
    room_card, invitation = teams.fake.in_conversation(chat)
    # The form became the room card in place (PUT), and the invitation followed it.
    assert (room_card.id, room_card.edits) == (form.id, 1)
    assert room_card.card is not None and texts.ROOM_CREATED_TITLE in json.dumps(room_card.card, ensure_ascii=False)
    [space] = cms.simulator.snapshot()
    assert "hc.torsas.1@video.region.example" in invitation.text
    assert f"Samtals-ID: {grouped(space['callId'])}" in invitation.text
    assert "<br>" in invitation.text and "\n" not in invitation.text  # Teams keeps the lines
    assert invitation.activity["textFormat"] == "markdown"

    await teams.click(nina, room_card, texts.DELETE_ROOM)
    question = _last_card(teams.fake.in_conversation(chat))
    await teams.click(nina, question, texts.DELETE_YES)
    assert cms.simulator.snapshot() == []
    done = teams.fake.in_conversation(chat)[-1]
    assert done.edits == 1 and texts.DELETED_TEXT.format(room="HC Torsås 1") in json.dumps(
        done.card, ensure_ascii=False)
    assert all(p.authorization is None for p in teams.fake.posted)  # anonymous: no token sent


async def test_move_hand_over_and_cancel_update_the_cards_in_place(
        teams: Teams, nina: TeamsUser, fake: FakeConnector, cms: RunningCms) -> None:
    kalle = fake.user("Kalle Kollega", TENANT)
    kalles = fake.personal_chat(kalle)
    await teams.say(kalle, kalles, "/distansmöte hjälp")  # he has written to the bot: it can reach him
    chat = fake.personal_chat(nina)
    await teams.say(nina, chat, "/distansmöte ny")
    await teams.click(nina, _last_card(fake.in_conversation(chat)), texts.CREATE_ROOM, **NEW_ROOM)
    room_card = _last_card(fake.in_conversation(chat))

    await teams.click(nina, room_card, texts.MORE)
    more = _last_card(fake.in_conversation(chat))
    assert more.id != room_card.id  # Fler val comes below the room card, which stays
    await teams.click(nina, more, texts.MOVE, date="2026-11-27", start="09:00")
    moved, invitation = fake.in_conversation(chat)[-2:]
    assert (moved.id, moved.edits) == (more.id, 1)  # the Fler val card became the room card at its new time
    assert invitation.text.startswith("NY TID") and "fredag 2026-11-27 kl. 09.00–10.00" in invitation.text

    await teams.click(nina, moved, texts.MORE)
    more = _last_card(fake.in_conversation(chat))
    await teams.click(nina, more, texts.FIND_COLLEAGUE, colleague="Kalle")
    question = _last_card(fake.in_conversation(chat))
    assert question.id == more.id
    await teams.click(nina, question, texts.HAND_OVER)
    done = fake.in_conversation(chat)[-1]
    assert done.id == more.id and texts.HANDED_OVER_TEXT.format(name="Kalle Kollega", room="HC Torsås 1") in \
        json.dumps(done.card, ensure_ascii=False)
    given = _last_card(fake.in_conversation(kalles))
    assert "Nina Sjuksköterska har lämnat över mötesrummet till dig" in json.dumps(given.card, ensure_ascii=False)

    await teams.click(kalle, given, texts.MORE)
    await teams.click(kalle, _last_card(fake.in_conversation(kalles)), texts.CANCEL_MEETING)
    await teams.click(kalle, _last_card(fake.in_conversation(kalles)), texts.CANCEL_YES)
    assert cms.simulator.snapshot() == []
    assert texts.CANCELLED_TITLE in json.dumps(fake.in_conversation(kalles)[-1].card, ensure_ascii=False)


@pytest.mark.parametrize("kind", ["channel", "group_chat"])
async def test_the_routine_from_a_channel_continues_in_the_personal_chat(
        teams: Teams, nina: TeamsUser, cms: RunningCms, kind: str) -> None:
    channel = getattr(teams.fake, kind)(TENANT)
    await teams.say(nina, channel, "/distansmöte ny", mention=True)

    # In the channel only the short answer, in the thread of the command.
    [moved] = teams.fake.in_conversation(channel)
    assert moved.text == texts.MOVED_TO_DIRECT and moved.reply_to is not None
    # No 1:1 chat was stored: the bot created it, and the form went there.
    [created] = teams.fake.created
    assert created["members"] == [{"id": nina.id}] and created["isGroup"] is False
    chat = teams.fake.personal_conversation_of(nina)
    assert chat is not None
    [form] = teams.fake.in_conversation(chat)

    await teams.click(nina, form, texts.CREATE_ROOM, **NEW_ROOM)
    room_card, invitation = teams.fake.in_conversation(chat)
    [space] = cms.simulator.snapshot()
    assert grouped(space["callId"]) in invitation.text
    assert all(grouped(space["callId"]) not in json.dumps(p.activity) for p in teams.fake.in_conversation(channel))

    # Deleting by name from the channel: the question comes 1:1, the room goes.
    await teams.say(nina, channel, "ta bort HC Torsås 1", mention=True)
    question = _last_card(teams.fake.in_conversation(chat))
    await teams.click(nina, question, texts.DELETE_YES)
    assert cms.simulator.snapshot() == []
    assert len(teams.fake.created) == 1  # the stored 1:1 chat was used the second time


@pytest.mark.parametrize("typed", ["distansmöte hjälp", "hjälp", "/Distansmote HJÄLP"])
async def test_commands_with_or_without_the_slash(teams: Teams, nina: TeamsUser, typed: str) -> None:
    chat = teams.fake.personal_chat(nina)
    await teams.say(nina, chat, typed)
    [answer] = teams.fake.in_conversation(chat)
    assert answer.card is not None and texts.HELP_TITLE in answer.activity.get("summary", "")


# -- who may use it ---------------------------------------------------------------------------

async def test_an_activity_from_a_tenant_not_allowed_gets_one_refusal_and_changes_nothing(
        teams: Teams, fake: FakeConnector, cms: RunningCms) -> None:
    stranger = fake.user("Okänd", OTHER_TENANT)
    chat = fake.personal_chat(stranger)
    activity = fake.message(stranger, chat, "/distansmöte ny")
    await teams.deliver(activity)
    await teams.deliver(activity)  # redelivered: no second answer
    [refusal] = fake.in_conversation(chat)
    assert refusal.text == texts.NOT_ALLOWED
    form_like = fake.message(stranger, chat, "/distansmöte ny")
    form_like["value"] = {"action": "create_meeting", "v": "1", **NEW_ROOM}
    await teams.deliver(form_like)
    assert cms.simulator.snapshot() == []
    assert await teams.services.references.find(PersonKey("teams", stranger.aad_object_id)) is None


async def test_an_activity_that_names_no_tenant_is_refused(teams: Teams, nina: TeamsUser, cms: RunningCms) -> None:
    chat = teams.fake.personal_chat(nina)
    activity = teams.fake.message(nina, chat, "/distansmöte ny")
    del activity["conversation"]["tenantId"], activity["channelData"]
    await teams.deliver(activity)
    [refusal] = teams.fake.in_conversation(chat)
    assert refusal.text == texts.NOT_ALLOWED
    assert cms.simulator.snapshot() == []


def _unsigned_jwt(header: dict[str, Any], claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    return f"{part(header)}.{part(claims)}.{base64.urlsafe_b64encode(b'x' * 256).decode().rstrip('=')}"


def _signed_jwt(**headers: Any) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "exp": int(time.time()) + 600,
              "nbf": int(time.time()) - 10, "serviceurl": "http://127.0.0.1/"}
    return jwt.encode(claims, key, algorithm="RS256", headers=headers or None)


BAD_AUTHORIZATION = {
    "missing": None,
    "garbage": "Bearer not-a-jwt",
    "basic": "Basic dXNlcjpwYXNz",
    "empty bearer": "Bearer ",
    "no kid": f"Bearer {_signed_jwt()}",  # the SDK's validator raises KeyError on this one
    "unknown key": f"Bearer {_signed_jwt(kid='not-a-published-key')}",  # its keys cannot be fetched offline
    "alg none": "Bearer " + _unsigned_jwt({"alg": "none", "kid": "x"}, {"aud": APP_ID}),
}


@pytest.fixture
async def production(cms: RunningCms, tmp_path: Path, clock: ManualClock, fake: FakeConnector,
                     aiohttp_client: Any) -> AsyncIterator[Teams]:
    """Teams with an app id and a password: tokens required."""
    settings = make_settings(cms, f"sqlite+aiosqlite:///{tmp_path / 'prod.db'}", teams_app_id=APP_ID,
                             teams_app_password="secret-for-tests", teams_tenant_id=TENANT,
                             allowed_teams_tenant_ids=(TENANT,))
    started = await start_teams(settings, clock, fake, aiohttp_client)
    yield started
    await started.client.close()
    await started.services.close()


@pytest.mark.parametrize("authorization", list(BAD_AUTHORIZATION.values()), ids=list(BAD_AUTHORIZATION))
async def test_a_missing_or_bad_token_is_refused_and_changes_nothing(
        production: Teams, nina: TeamsUser, cms: RunningCms, authorization: str | None) -> None:
    chat = production.fake.personal_chat(nina)
    activity = production.fake.message(nina, chat, "/distansmöte ny")
    headers = {"Authorization": authorization} if authorization is not None else None
    assert await production.post(activity, headers) == 401
    await production.adapter.drain()
    assert production.fake.posted == [] and production.fake.requests == []
    assert cms.simulator.snapshot() == []


async def test_a_bad_token_is_refused_in_anonymous_mode_too(teams: Teams, nina: TeamsUser) -> None:
    activity = teams.fake.message(nina, teams.fake.personal_chat(nina), "/distansmöte hjälp")
    assert await teams.post(activity, {"Authorization": BAD_AUTHORIZATION["no kid"]}) == 401
    await teams.adapter.drain()
    assert teams.fake.posted == []
    # The same activity without a token is handled: nothing of it was recorded before.
    await teams.deliver(activity)
    assert len(teams.fake.posted) == 1


async def test_in_production_the_token_goes_to_microsofts_connector_only(production: Teams, nina: TeamsUser) -> None:
    # A reference whose serviceUrl is not one of Microsoft's connector hosts (here: the fake on 127.0.0.1).
    chat = production.fake.personal_chat(nina)
    reference = Address(production.fake.service_url, chat.id, TENANT, nina.id, production.fake.bot_id)
    await production.services.references.remember(PersonKey("teams", nina.aad_object_id), reference.dumps())
    with pytest.raises(DeliveryGone, match="teams_service_url_not_allowed"):
        await production.adapter.send_direct(PersonKey("teams", nina.aad_object_id), [Reply("Påminnelse")])
    assert production.fake.requests == []  # no token was asked for or sent anywhere


async def test_other_routes_need_no_token(production: Teams) -> None:
    response = await production.client.get("/healthz")
    assert response.status == 200


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
async def test_an_oversized_body_is_refused(teams: Teams, chunked: bool) -> None:
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit is met while reading
        for start in range(0, len(body), 16 * 1024):
            yield body[start:start + 16 * 1024]

    response = await teams.client.post("/api/messages", data=chunks() if chunked else body,
                                       headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert teams.fake.posted == [] and teams.fake.requests == []


# -- fast answers ----------------------------------------------------------------------------

async def test_the_same_activity_delivered_twice_creates_one_room(
        teams: Teams, nina: TeamsUser, cms: RunningCms) -> None:
    chat = teams.fake.personal_chat(nina)
    await teams.say(nina, chat, "/distansmöte ny")
    [form] = teams.fake.in_conversation(chat)
    assert form.card is not None
    submit = teams.fake.submit(nina, form, submission(form.card, texts.CREATE_ROOM, **NEW_ROOM))
    statuses = await asyncio.gather(teams.post(submit), teams.post(submit))
    await teams.post(submit)
    await teams.adapter.drain()
    assert statuses == [200, 200]
    assert len(cms.simulator.snapshot()) == 1
    assert len(teams.fake.in_conversation(chat)) == 2  # the room card (edited form) and one invitation


async def test_a_slow_cms_does_not_hold_the_answer(teams: Teams, nina: TeamsUser, cms: RunningCms) -> None:
    chat = teams.fake.personal_chat(nina)
    await teams.say(nina, chat, "/distansmöte ny")
    [form] = teams.fake.in_conversation(chat)
    assert form.card is not None
    cms.simulator.slowness = 1.0
    submit = teams.fake.submit(nina, form, submission(form.card, texts.CREATE_ROOM, **NEW_ROOM))
    assert await teams.post(submit) == 200
    # Answered while the CMS is still working on the room: nothing has been created or sent yet.
    assert cms.simulator.snapshot() == [] and form.edits == 0
    await teams.adapter.drain()
    assert len(cms.simulator.snapshot()) == 1 and form.edits == 1


async def test_a_throttled_reply_is_retried_after_retry_after(teams: Teams, nina: TeamsUser) -> None:
    chat = teams.fake.personal_chat(nina)
    teams.fake.fail_next(429, retry_after="3", count=2)
    teams.fake.fail_next(502)
    await teams.say(nina, chat, "hjälp")
    assert len(teams.fake.in_conversation(chat)) == 1
    assert teams.sleeps.seconds[:2] == [3.0, 3.0] and len(teams.sleeps.seconds) == 3


# -- messages the bot starts itself -----------------------------------------------------------

STOCKHOLM = ZoneInfo("Europe/Stockholm")


async def test_a_reminder_reaches_a_teams_user_after_a_restart_and_a_block_stops_them(
        settings: Settings, clock: ManualClock, fake: FakeConnector, aiohttp_client: Any, nina: TeamsUser,
        cms: RunningCms) -> None:
    admin = fake.user("Ada Admin", TENANT)
    settings = settings.model_copy(update={"admins": (admin.aad_object_id,)})
    before = await start_teams(settings, clock, fake, aiohttp_client)
    admin_chat = fake.personal_chat(admin)
    await before.say(admin, admin_chat, "hjälp")  # Teams lets a bot write first only where it was used
    chat = fake.personal_chat(nina)
    await before.say(nina, chat, "ny")
    await before.click(nina, fake.in_conversation(chat)[0], texts.CREATE_ROOM, **NEW_ROOM)
    await before.client.close()
    await before.services.close()

    after = await start_teams(settings, clock, fake, aiohttp_client)  # the same database: a restart
    try:
        sent_before = len(fake.in_conversation(chat))
        clock.set(datetime(2026, 11, 26, 13, 26, tzinfo=STOCKHOLM))  # the start reminder is due at 13:25
        await after.services.reminders.run_due()
        reminders = fake.in_conversation(chat)[sent_before:]
        assert reminders and all(r.reply_to is None for r in reminders)  # proactive, not a reply
        assert all(r.card is not None or r.text for r in reminders)

        fake.block(nina)  # Nina removed the app
        admin_before = len(fake.in_conversation(admin_chat))
        clock.set(datetime(2026, 11, 26, 14, 45, tzinfo=STOCKHOLM))  # the end-of-meeting prompt is due
        await after.services.reminders.run_due()
        alerts = fake.in_conversation(admin_chat)[admin_before:]
        assert len(alerts) == 1 and "HC Torsås 1" in json.dumps(alerts[0].activity, ensure_ascii=False)

        attempts = len([r for r in fake.requests if chat.id in r[1]])
        clock.set(datetime(2026, 11, 26, 16, 55, tzinfo=STOCKHOLM))  # a follow-up would be due now
        await after.services.reminders.run_due()
        assert len([r for r in fake.requests if chat.id in r[1]]) == attempts  # nothing more to Nina
        clock.set(datetime(2026, 11, 27, 14, 45, tzinfo=STOCKHOLM))
        await after.services.reminders.run_due()
        assert cms.simulator.snapshot() == []  # the room still went, by policy
    finally:
        await after.client.close()
        await after.services.close()


async def test_adding_the_app_lets_the_bot_write_first(teams: Teams, nina: TeamsUser, fake: FakeConnector) -> None:
    await teams.deliver(fake.installed(nina))
    assert fake.posted == []  # nothing to answer
    await teams.adapter.send_direct(PersonKey("teams", nina.aad_object_id), [Reply("Påminnelse")])
    [reminder] = fake.in_conversation(fake.personal_chat(nina))
    assert reminder.text == "Påminnelse" and reminder.reply_to is None


async def test_send_direct_leaves_retrying_to_the_reminder_service(teams: Teams, nina: TeamsUser) -> None:
    chat = teams.fake.personal_chat(nina)
    await teams.say(nina, chat, "hjälp")  # stores the conversation reference
    key = PersonKey("teams", nina.aad_object_id)
    teams.fake.fail_next(429, retry_after="120")
    with pytest.raises(DeliveryFailed) as limited:
        await teams.adapter.send_direct(key, [Reply("Påminnelse")])
    assert (limited.value.code, limited.value.retry_after) == ("teams_http_429", 120.0)
    for status in (412, 502, 504):
        teams.fake.fail_next(status)
        with pytest.raises(DeliveryFailed, match=f"teams_http_{status}"):
            await teams.adapter.send_direct(key, [Reply("Påminnelse")])
    teams.fake.forget(chat)
    with pytest.raises(DeliveryGone, match="teams_http_404"):
        await teams.adapter.send_direct(key, [Reply("Påminnelse")])
    with pytest.raises(DeliveryGone, match="teams_no_reference"):
        await teams.adapter.send_direct(PersonKey("teams", "never-wrote"), [Reply("Påminnelse")])
    assert teams.sleeps.seconds == []


async def test_an_admin_listed_by_user_principal_name_is_known_and_reachable(
        settings: Settings, clock: ManualClock, fake: FakeConnector, aiohttp_client: Any) -> None:
    admin = fake.user("Ada Admin", TENANT, upn="Ada.Admin@region.example")
    teams = await start_teams(settings.model_copy(update={"admins": ("ada.admin@REGION.example",)}), clock, fake,
                         aiohttp_client)
    try:
        chat = fake.personal_chat(admin)
        await teams.say(admin, chat, "status")  # admins only
        [answer] = fake.in_conversation(chat)
        assert texts.STATUS_TITLE in answer.activity.get("summary", "")
        await teams.adapter.send_to_identity("ada.admin@region.example", [Reply("Larm")])
        assert fake.in_conversation(chat)[-1].text == "Larm"
    finally:
        await teams.client.close()
        await teams.services.close()


async def test_a_personal_identity_number_is_refused_and_never_stored(
        teams: Teams, nina: TeamsUser, tmp_path: Path) -> None:
    chat = teams.fake.personal_chat(nina)
    await teams.say(nina, chat, "ta bort 19121212-1212")
    [refusal] = teams.fake.in_conversation(chat)
    assert refusal.card is not None and "1212" not in json.dumps(refusal.activity)
    stored = await asyncio.to_thread(lambda: b"".join(p.read_bytes() for p in tmp_path.glob("bot.db*")))  # WAL too
    assert stored and b"19121212" not in stored and b"1212-1212" not in stored


async def test_a_card_input_that_is_not_text_is_refused(teams: Teams, nina: TeamsUser, cms: RunningCms) -> None:
    chat = teams.fake.personal_chat(nina)
    await teams.say(nina, chat, "/distansmöte ny")
    [form] = teams.fake.in_conversation(chat)
    assert form.card is not None
    value: dict[str, Any] = submission(form.card, texts.CREATE_ROOM, **NEW_ROOM) | {"length": 60, "unit": True}
    await teams.deliver(teams.fake.submit(nina, form, value))
    assert _last_posted_text(teams, chat) == texts.INPUT_NOT_TEXT
    assert cms.simulator.snapshot() == []


def _last_posted_text(teams: Teams, chat: TeamsConversation) -> str:
    last = teams.fake.in_conversation(chat)[-1]
    return last.text or " ".join(e.get("text", "") for e in (last.card or {}).get("body", []))
