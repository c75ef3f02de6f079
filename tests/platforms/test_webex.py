"""The Webex adapter over real HTTP: signed webhooks into the real app, the real SDK out to the
fake Webex API, the CMS simulator behind the meeting service. Assertions are on what Webex got."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import create_app
from bot.clock import ManualClock
from bot.config import ConfigError, Settings
from bot.core import PersonKey, Reply
from bot.core.delivery import DeliveryFailed, DeliveryGone, DeliveryRefused
from bot.platforms.webex.route import WebexAdapter
from bot.platforms.webex.translate import org_key
from bot.platforms.webex.transport import WebexClient
from bot.platforms.webex.webhooks import reactivate_webhooks, setup_webhooks
from bot.runtime import open_services
from cards import texts
from cards.meeting import grouped
from cards.texts import NOT_ALLOWED
from tests.conftest import RunningCms
from tests.fakes.webex import Delivery, SentMessage, WebexFake, sign
from tests.harness import submission
from tests.platforms.webex_harness import REGION_DOMAIN, SECRET, TOKEN, Harness, click, create_room, latest_card


def _cards(messages: list[SentMessage]) -> list[dict[str, Any]]:
    return [m.card for m in messages if m.card is not None]


def _confidential(message: SentMessage, *secrets: str) -> bool:
    everything = json.dumps([message.text, message.markdown, message.attachments], ensure_ascii=False)
    return any(secret in everything for secret in secrets)


# -- signatures ------------------------------------------------------------------------------

async def test_signed_message_in_a_direct_space_is_answered_there(webex: Harness, nina: dict[str, Any]) -> None:
    await webex.deliver(webex.fake.user_message(nina, "/distansmöte hjälp"))
    [answer] = webex.fake.sent
    assert (answer.to_person_id, answer.room_type) == (nina["id"], "direct")
    assert answer.card is not None and answer.card["version"] == "1.3"
    assert answer.markdown  # fallback for clients without cards


def _one_byte_changed(delivery: Delivery) -> tuple[bytes, dict[str, str]]:
    body = bytearray(delivery.body)
    at = body.index(b"/distans") if b"/distans" in body else len(body) // 2
    body[at + 1] ^= 0x01
    return bytes(body), delivery.headers


def _respaced(delivery: Delivery) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(delivery.envelope, ensure_ascii=False, indent=2).encode()
    assert json.loads(body) == delivery.envelope and body != delivery.body
    return body, delivery.headers


def _unsigned(delivery: Delivery) -> tuple[bytes, dict[str, str]]:
    return delivery.body, {"Content-Type": "application/json"}


def _wrong_secret(delivery: Delivery) -> tuple[bytes, dict[str, str]]:
    return delivery.body, {**delivery.headers, "X-Spark-Signature": sign(delivery.body, "not-the-secret")}


def _garbage_signature(delivery: Delivery) -> tuple[bytes, dict[str, str]]:
    return delivery.body, {**delivery.headers, "X-Spark-Signature": "ä" * 40}


@pytest.mark.parametrize("forge", [_one_byte_changed, _respaced, _unsigned, _wrong_secret, _garbage_signature],
                         ids=["one-byte-changed", "re-serialised", "missing-signature", "wrong-secret", "non-ascii"])
async def test_a_delivery_without_a_valid_signature_is_refused_and_changes_nothing(
        webex: Harness, nina: dict[str, Any], forge: Any) -> None:
    delivery = webex.fake.user_message(nina, "/distansmöte hjälp")
    calls_before = webex.api_calls()
    body, headers = forge(delivery)

    assert await webex.post(delivery, body=body, headers=headers) == 401
    await webex.adapter.drain()
    assert webex.fake.sent == []
    assert webex.api_calls() == calls_before  # not even the message was fetched

    # Nothing was recorded either: the genuine delivery is still handled.
    await webex.deliver(delivery)
    assert len(webex.fake.sent) == 1


async def test_an_oversized_body_is_refused(webex: Harness) -> None:
    body = b"{" + b" " * (64 * 1024) + b"}"
    response = await webex.client.post("/webex/events", data=body,
                                       headers={"X-Spark-Signature": sign(body, SECRET)})
    assert response.status == 413


def test_an_empty_secret_stops_start_up(settings: Settings) -> None:
    for secret in (None, SecretStr(""), SecretStr("   ")):
        with pytest.raises(ConfigError, match="DISTANSMOTE_WEBEX_WEBHOOK_SECRET"):
            WebexAdapter(settings.model_copy(update={"webex_webhook_secret": secret}))


def test_webex_without_an_allowlist_stops_start_up(settings: Settings) -> None:
    unlisted = settings.model_copy(update={"allowed_webex_org_ids": (), "allowed_email_domains": ()})
    with pytest.raises(ConfigError, match="ALLOWED_WEBEX_ORG_IDS or DISTANSMOTE_ALLOWED_EMAIL_DOMAINS"):
        WebexAdapter(unlisted)


# -- who the bot answers -----------------------------------------------------------------------

async def test_the_same_delivery_twice_is_handled_once(webex: Harness, nina: dict[str, Any]) -> None:
    delivery = webex.fake.user_message(nina, "/distansmöte hjälp")
    await webex.deliver(delivery)
    await webex.deliver(delivery)
    assert len(webex.fake.sent) == 1


async def test_the_bots_own_message_is_ignored(webex: Harness, nina: dict[str, Any]) -> None:
    await webex.deliver(webex.fake.user_message(nina, "/distansmöte hjälp"))
    [own] = webex.fake.sent
    calls_before = webex.api_calls()
    await webex.deliver(webex.fake.message_created(own.id))
    assert len(webex.fake.sent) == 1
    assert webex.api_calls() == calls_before


async def test_a_person_from_another_organisation_is_refused_once(webex: Harness) -> None:
    # The envelope's orgId is the bot's own (allowed) org: only the sender's own org counts.
    stranger = webex.fake.add_person("Sam Främling", "sam@elsewhere.example", org_id="ORG-ELSEWHERE")
    delivery = webex.fake.user_message(stranger, "/distansmöte ny")
    assert delivery.envelope["orgId"] == webex.fake.org_id
    await webex.deliver(delivery)
    await webex.deliver(delivery)

    [refusal] = webex.fake.sent
    assert (refusal.to_person_id, refusal.markdown, refusal.card) == (stranger["id"], NOT_ALLOWED, None)
    assert ("GET", f"/v1/messages/{delivery.data_id}") not in webex.api_calls()  # its text is never read


async def test_an_allowed_email_domain_is_enough(webex: Harness) -> None:
    consultant = webex.fake.add_person("Kim Konsult", f"kim@{REGION_DOMAIN}", org_id="ORG-CONSULTANTS")
    await webex.deliver(webex.fake.user_message(consultant, "/distansmöte hjälp"))
    [answer] = webex.fake.sent
    assert answer.markdown != NOT_ALLOWED and answer.card is not None


def test_an_org_id_from_control_hub_matches_the_apis() -> None:
    uuid = "0f3a6b52-9c1e-4a57-b1d2-3e4f5a6b7c8d"
    api_id = base64.b64encode(f"ciscospark://us/ORGANIZATION/{uuid}".encode()).decode().rstrip("=")
    assert org_key(api_id) == org_key(uuid.upper()) == uuid
    assert org_key("ORG-ELSEWHERE") != org_key(uuid)


async def test_people_are_looked_up_once_in_a_while(webex: Harness, clock: ManualClock) -> None:
    from datetime import timedelta

    # Allowed by organisation only: the e-mail domain is not on the list.
    olle = webex.fake.add_person("Olle Regionsson", "olle@elsewhere.example")
    for _ in range(3):
        await webex.deliver(webex.fake.user_message(olle, "/distansmöte hjälp"))
    clock.advance(timedelta(minutes=11))
    await webex.deliver(webex.fake.user_message(olle, "/distansmöte hjälp"))
    lookups = [call for call in webex.api_calls() if call == ("GET", f"/v1/people/{olle['id']}")]
    assert len(lookups) == 2
    assert len(webex.fake.sent_to(person_id=olle["id"])) == 4


async def test_a_typed_command_from_an_allowed_domain_needs_no_lookup(webex: Harness, nina: dict[str, Any]) -> None:
    # The signed envelope carries the sender's e-mail; card submissions carry none and are looked up.
    await webex.deliver(webex.fake.user_message(nina, "/distansmöte ny"))
    assert ("GET", f"/v1/people/{nina['id']}") not in webex.api_calls()
    await create_room(webex, nina, latest_card(webex, nina))
    assert ("GET", f"/v1/people/{nina['id']}") in webex.api_calls()


# -- group spaces --------------------------------------------------------------------------------

async def test_a_mention_in_a_group_space_works_and_nothing_confidential_is_posted_there(
        webex: Harness, nina: dict[str, Any], cms: RunningCms) -> None:
    fake = webex.fake
    group = fake.group_room(nina["id"])
    delivery = fake.user_message(nina, "/distansmöte ny", room_id=group)
    assert fake.messages[delivery.data_id]["text"] == "Distansmöte /distansmöte ny"
    await webex.deliver(delivery)

    in_group = fake.sent_to(room_id=group)
    assert [m.markdown for m in in_group] == [texts.MOVED_TO_DIRECT]
    [form] = [m for m in fake.sent if m.card is not None]
    assert (form.to_person_id, form.room_type) == (nina["id"], "direct")

    await create_room(webex, nina, form)
    [space] = cms.simulator.snapshot()
    secrets = (space["callId"] or "", space["uri"] or "")
    assert all(not _confidential(m, *secrets) for m in fake.sent_to(room_id=group))
    assert any(_confidential(m, *secrets) for m in fake.sent_to(person_id=nina["id"]))
    assert {m.room_type for m in fake.sent if _confidential(m, *secrets)} == {"direct"}


# -- sending -----------------------------------------------------------------------------------

async def test_429_with_retry_after_delays_but_does_not_lose_the_reply(webex: Harness, nina: dict[str, Any]) -> None:
    webex.fake.fail_next(429, retry_after=3, method="POST", path="messages")
    webex.fake.fail_next(429, retry_after="rand(30),add(30)", method="POST", path="messages")
    webex.fake.fail_next(429, retry_after=3600, method="POST", path="messages")
    await webex.deliver(webex.fake.user_message(nina, "/distansmöte hjälp"))
    assert len(webex.fake.sent) == 1
    assert webex.sleeps.seconds == [3.0, 15.0, 30.0]  # as asked, malformed -> 15 s, capped at 30 s


async def test_a_burst_of_503s_delays_but_does_not_lose_the_reply(webex: Harness, nina: dict[str, Any]) -> None:
    webex.fake.fail_next(503, count=3, method="POST", path="messages")
    webex.fake.fail_next(502, method="GET", path="messages/")
    await webex.deliver(webex.fake.user_message(nina, "/distansmöte hjälp"))
    assert len(webex.fake.sent) == 1
    assert webex.sleeps.seconds == [0.5, 0.5, 1.0, 2.0]


async def test_a_send_that_finally_fails_is_logged_without_its_text(
        webex: Harness, nina: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    webex.fake.fail_next(503, count=100, method="POST", path="messages")
    with caplog.at_level(logging.DEBUG):
        await webex.deliver(webex.fake.user_message(nina, "/distansmöte hjälp"))
    assert webex.fake.sent == []
    assert "Webex reply not delivered, Webex kept failing: HTTP 503" in caplog.text
    assert "hjälp" not in caplog.text and texts.HELP_INTRO not in caplog.text and TOKEN not in caplog.text

    webex.fake.faults.clear()
    await webex.deliver(webex.fake.user_message(nina, "/distansmöte hjälp"))
    assert len(webex.fake.sent) == 1


async def test_a_processing_error_is_answered_in_swedish(webex: Harness, nina: dict[str, Any]) -> None:
    webex.fake.fail_next(400, method="GET", path="messages/")
    await webex.deliver(webex.fake.user_message(nina, "/distansmöte hjälp"))
    [answer] = webex.fake.sent
    assert (answer.to_person_id, answer.markdown) == (nina["id"], texts.INTERNAL_ERROR)


async def test_the_webhook_answer_does_not_wait_for_the_webex_api(webex: Harness, nina: dict[str, Any]) -> None:
    delivery = webex.fake.user_message(nina, "/distansmöte hjälp")
    webex.fake.pause()
    try:
        assert await webex.post(delivery) == 200
        assert webex.fake.sent == []
    finally:
        webex.fake.resume()
    await webex.adapter.drain()
    assert len(webex.fake.sent) == 1


async def test_send_direct_posts_one_to_one(webex: Harness, nina: dict[str, Any]) -> None:
    await webex.adapter.send_direct(PersonKey("webex", nina["id"]), [Reply("Påminnelse", {"type": "AdaptiveCard",
                                                                                "version": "1.3", "body": []})])
    [reminder] = webex.fake.sent
    assert (reminder.to_person_id, reminder.room_type, reminder.markdown) == (nina["id"], "direct", "Påminnelse")


async def test_send_direct_reaches_an_admin_listed_by_email(webex: Harness, nina: dict[str, Any]) -> None:
    await webex.adapter.send_to_identity(nina["emails"][0], [Reply("Larm")])
    [alert] = webex.fake.sent
    assert (alert.to_person_email, alert.room_type) == (nina["emails"][0], "direct")


async def test_send_direct_leaves_retrying_to_the_reminder_service(webex: Harness, nina: dict[str, Any]) -> None:
    webex.fake.fail_next(429, retry_after=120, method="POST", path="messages")
    with pytest.raises(DeliveryFailed) as limited:
        await webex.adapter.send_direct(PersonKey("webex", nina["id"]), [Reply("Påminnelse")])
    assert (limited.value.code, limited.value.retry_after) == ("webex_http_429", 120.0)
    webex.fake.fail_next(503, method="POST", path="messages")
    with pytest.raises(DeliveryFailed, match="webex_http_503"):
        await webex.adapter.send_direct(PersonKey("webex", nina["id"]), [Reply("Påminnelse")])
    with pytest.raises(DeliveryGone, match="webex_http_404"):
        await webex.adapter.send_direct(PersonKey("webex", "no-such-person"), [Reply("Påminnelse")])
    assert webex.fake.sent == [] and webex.sleeps.seconds == []


# -- the routine end to end --------------------------------------------------------------------

async def test_the_routine_runs_over_signed_webhooks_and_the_invitation_only_goes_one_to_one(
        webex: Harness, nina: dict[str, Any], cms: RunningCms) -> None:
    fake = webex.fake
    await webex.deliver(fake.user_message(nina, "/distansmöte ny"))
    form = latest_card(webex, nina)

    # Clicked twice, and the second delivery racing the first: one room.
    submitted = fake.submit_card(nina, form.id, submission(form.card or {}, texts.CREATE_ROOM, unit="HC Torsås",
                                                           date="2026-11-26", start="13:30", length="60"))
    statuses = await asyncio.gather(webex.post(submitted), webex.post(submitted))
    await webex.adapter.drain()
    assert statuses == [200, 200]
    [space] = cms.simulator.snapshot()
    assert space["name"] == "HC Torsås 1"

    room_card, invitation = fake.sent[-2:]
    assert room_card.card is not None and invitation.card is None
    assert f"Samtals-ID: {grouped(space['callId'])}" in (invitation.markdown or "")
    assert form.id in fake.deleted  # the used form was replaced, not left clickable
    secrets = (space["callId"] or "", space["uri"] or "")
    assert {(m.room_type, m.to_person_id) for m in fake.sent if _confidential(m, *secrets)} == {("direct", nina["id"])}

    await click(webex, nina, room_card, texts.ADD_RECIPIENT, label="Kommunen – hemtjänsten", channel="messenger")
    await click(webex, nina, latest_card(webex, nina), texts.MARK_SENT)
    await click(webex, nina, latest_card(webex, nina), texts.MARK_CONFIRMED)
    confirmed_room_card = latest_card(webex, nina)
    await click(webex, nina, confirmed_room_card, texts.DELETE_ROOM)
    question = latest_card(webex, nina)
    await click(webex, nina, question, texts.DELETE_YES)

    assert cms.simulator.snapshot() == []
    assert fake.sent[-1].markdown == texts.DELETED_TEXT.format(room="HC Torsås 1")
    assert all(m.room_type == "direct" for m in fake.sent)
    # Each updated room card took the place of the one clicked; the question gave way to the
    # answer, while the room card it was asked from stays.
    room_cards = [m for m in fake.sent if m.markdown == "HC Torsås 1" and m.card is not None]
    assert [m.id for m in room_cards if m.id not in fake.deleted] == [confirmed_room_card.id]
    assert question.id in fake.deleted and confirmed_room_card.id not in fake.deleted


async def test_a_refused_submission_leaves_the_card_so_it_can_be_corrected(
        webex: Harness, nina: dict[str, Any], cms: RunningCms) -> None:
    await webex.deliver(webex.fake.user_message(nina, "/distansmöte ny"))
    form = latest_card(webex, nina)
    await click(webex, nina, form, texts.CREATE_ROOM, unit="HC Torsås", date="2026-11-24")
    assert webex.fake.sent[-1].markdown == texts.ERRORS["in_the_past"]
    assert form.id not in webex.fake.deleted
    await create_room(webex, nina, form)
    assert form.id in webex.fake.deleted
    assert len(cms.simulator.snapshot()) == 1


# -- webhook set-up ----------------------------------------------------------------------------

URL = "https://bot.region.example/webex/events"


@pytest.fixture
async def api(fake_webex: tuple[WebexFake, str]) -> AsyncIterator[WebexClient]:
    client = WebexClient(TOKEN, fake_webex[1], workers=1, attempts=1)
    yield client
    await client.close()


async def test_webhook_setup_is_idempotent(fake_webex: tuple[WebexFake, str], api: WebexClient) -> None:
    fake, _ = fake_webex
    other = fake.add_webhook(name="someone else's", target_url="https://other.example/hook",
                             resource="messages", event="created", status="inactive")
    first = await setup_webhooks(api, URL, SECRET)
    assert first == [f"created messages/created -> {URL}", f"created attachmentActions/created -> {URL}"]
    second = await setup_webhooks(api, URL, SECRET)
    assert second == [f"unchanged messages/created -> {URL} (active)",
                      f"unchanged attachmentActions/created -> {URL} (active)"]
    ours = [h for h in fake.webhooks.values() if h["targetUrl"] == URL]
    assert sorted((h["resource"], h["secret"], h["status"]) for h in ours) == [
        ("attachmentActions", SECRET, "active"), ("messages", SECRET, "active")]
    assert fake.webhooks[other["id"]]["status"] == "inactive"  # other webhooks are never touched
    assert not [r for r in fake.requests if r[0] == "DELETE"]


async def test_webhook_setup_reactivates_and_repairs(fake_webex: tuple[WebexFake, str], api: WebexClient) -> None:
    fake, _ = fake_webex
    await setup_webhooks(api, URL, SECRET)
    messages_hook = next(h for h in fake.webhooks.values() if h["resource"] == "messages")
    fake.disable_webhook(messages_hook["id"])
    report = await setup_webhooks(api, URL, "a-new-secret")
    assert report == [f"reactivated messages/created -> {URL}",
                      f"updated the secret of attachmentActions/created -> {URL}"]
    assert {(h["status"], h["secret"]) for h in fake.webhooks.values()} == {("active", "a-new-secret")}
    assert len(fake.webhooks) == 2


async def test_serve_reactivates_a_disabled_webhook_at_start(
        fake_webex: tuple[WebexFake, str], api: WebexClient, settings: Settings, clock: ManualClock,
        aiohttp_client: Any, caplog: pytest.LogCaptureFixture) -> None:
    fake, _ = fake_webex
    await setup_webhooks(api, URL, SECRET)
    for hook in fake.webhooks.values():
        fake.disable_webhook(hook["id"])
    services = await open_services(settings, clock=clock, adapters=[WebexAdapter(settings, webhook_check_seconds=600)])
    try:
        with caplog.at_level(logging.WARNING):
            client = await aiohttp_client(create_app(services))
        await client.close()
        assert {h["status"] for h in fake.webhooks.values()} == {"active"}
        assert "Webex had disabled a webhook: reactivated messages/created" in caplog.text
        assert await reactivate_webhooks(api, SECRET) == []
    finally:
        await services.close()


@pytest.mark.parametrize("forged", [True, 60, ["HC Torsås"], {"name": "HC Torsås"}], ids=["bool", "number", "list",
                                                                                          "object"])
async def test_a_card_input_that_is_not_text_is_refused(webex: Harness, nina: dict[str, Any], cms: RunningCms,
                                                        forged: object) -> None:
    await webex.deliver(webex.fake.user_message(nina, "/distansmöte ny"))
    form = latest_card(webex, nina)
    inputs: dict[str, Any] = submission(form.card or {}, texts.CREATE_ROOM, date="2026-11-26", start="13:30")
    inputs["unit"] = forged
    await webex.deliver(webex.fake.submit_card(nina, form.id, inputs))
    assert texts.INPUT_NOT_TEXT in (webex.fake.sent[-1].markdown or "")
    assert cms.simulator.snapshot() == []


# -- a message Webex refuses is not a person gone -------------------------------------------------

async def test_a_400_fails_that_one_reminder_and_the_next_still_reaches_the_person(
        webex: Harness, nina: dict[str, Any], clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    fake, reminders = webex.fake, webex.services.reminders
    await webex.deliver(fake.user_message(nina, "/distansmöte ny"))
    await create_room(webex, nina, latest_card(webex, nina))  # 2026-11-26 13:30–14:30 in Stockholm
    nobody = texts.NOBODY_TITLE.format(room="HC Torsås 1")
    start = texts.START_TITLE.format(room="HC Torsås 1", start="13.30")

    clock.set(datetime(2026, 11, 26, 11, 30, tzinfo=UTC))  # the reminder an hour before the start
    fake.fail_next(400, method="POST", path="messages")
    await reminders.run_due()
    clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    await reminders.run_due()  # not sent again: it would be refused again
    assert [m.markdown for m in fake.sent_to(person_id=nina["id"]) if m.markdown == nobody] == []
    assert "reminders for meeting" not in caplog.text  # the person is not taken for gone
    assert any("failed after 1 attempts (webex_http_400)" in r.getMessage() for r in caplog.records)

    clock.set(datetime(2026, 11, 26, 12, 25, tzinfo=UTC))
    await reminders.run_due()
    assert [m.markdown for m in fake.sent_to(person_id=nina["id"])][-1] == start


async def test_send_direct_says_a_400_is_this_message_refused_not_the_person_gone(
        webex: Harness, nina: dict[str, Any]) -> None:
    webex.fake.fail_next(400, method="POST", path="messages")
    with pytest.raises(DeliveryRefused, match="webex_http_400"):
        await webex.adapter.send_direct(PersonKey("webex", nina["id"]), [Reply("Påminnelse")])
    assert webex.fake.sent == [] and webex.sleeps.seconds == []
