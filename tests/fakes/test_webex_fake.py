"""The fake Webex API answers the real SDK as the Webex API reference says Webex does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from webexpythonsdk.exceptions import ApiError

from bot.platforms.webex.transport import WebexClient
from tests.fakes.webex import CARD_CONTENT_TYPE, NO_DESTINATION, WebexFake, sign

TOKEN = "token-for-the-fake"
CARD = {"contentType": CARD_CONTENT_TYPE, "content": {"type": "AdaptiveCard", "version": "1.3", "body": []}}


@pytest.fixture
async def fake(aiohttp_server: Any) -> AsyncIterator[tuple[WebexFake, str]]:
    webex = WebexFake(token=TOKEN)
    server = await aiohttp_server(webex.app)
    yield webex, str(server.make_url("/v1/"))


@pytest.fixture
async def client(fake: tuple[WebexFake, str]) -> AsyncIterator[WebexClient]:
    webex_client = WebexClient(TOKEN, fake[1], workers=2, attempts=1)
    yield webex_client
    await webex_client.close()


async def _status(client: WebexClient, what: str, call: Any) -> tuple[int, str | None]:
    with pytest.raises(ApiError) as caught:
        await client.call(what, call)
    return caught.value.status_code, caught.value.message


async def test_people_me_and_person(fake: tuple[WebexFake, str], client: WebexClient) -> None:
    webex, _ = fake
    nina = webex.add_person("Nina Sjuksköterska", "nina@region.example", org_id="ORG-1")
    me = await client.me()
    assert (me["id"], me["type"], me["displayName"]) == (webex.bot["id"], "bot", "Distansmöte")
    person = await client.person(nina["id"])
    assert (person["orgId"], person["emails"]) == ("ORG-1", ["nina@region.example"])
    assert await _status(client, "x", lambda api: api.people.get("nobody")) == (404, "Person not found.")


async def test_people_listed_by_address_in_the_org_or_by_a_names_start(fake: tuple[WebexFake, str],
                                                                       client: WebexClient) -> None:
    webex, _ = fake
    karin = webex.add_person("Karin Ek", "Karin.Ek@region.example")
    webex.add_person("Karl Annan", "karl@other.example", org_id="ORG-OTHER")
    assert [p["id"] for p in await client.people(10, email="karin.ek@region.example")] == [karin["id"]]
    assert await client.people(10, email="karl@other.example") == []  # by address: the caller's org only
    assert sorted(p["displayName"] for p in await client.people(10, displayName="kar")) == ["Karin Ek", "Karl Annan"]
    assert [p["displayName"] for p in await client.people(10, displayName="ek")] == ["Karin Ek"]  # a last name
    assert await _status(client, "x", lambda api: list(api.people.list())) == (
        400, "Email or displayName should be specified.")


async def test_bearer_token_required(fake: tuple[WebexFake, str]) -> None:
    wrong = WebexClient("not-the-token", fake[1], workers=1, attempts=1)
    try:
        status, _ = await _status(wrong, "x", lambda api: api.people.me())
    finally:
        await wrong.close()
    assert status == 401
    tracking = fake[0].requests[-1]
    assert tracking == ("GET", "/v1/people/me", 401)


async def test_post_message_needs_exactly_one_destination(fake: tuple[WebexFake, str], client: WebexClient) -> None:
    webex, _ = fake
    nina = webex.add_person("Nina S", "nina@region.example")
    room = webex.group_room(nina["id"])
    assert await _status(client, "x", lambda api: api.messages.create(text="hej")) == (400, NO_DESTINATION)
    both = lambda api: api.messages.create(roomId=room, toPersonId=nina["id"], text="hej")  # noqa: E731
    assert await _status(client, "x", both) == (400, NO_DESTINATION)
    assert webex.sent == []

    direct = await client.post_message(toPersonId=nina["id"], markdown="**hej**", attachments=[CARD])
    by_mail = await client.post_message(toPersonEmail="NINA@region.example", text="hej")
    in_group = await client.post_message(roomId=room, text="hej alla")
    assert direct["roomType"] == "direct" and by_mail["roomId"] == direct["roomId"]
    assert in_group["roomType"] == "group"
    assert [(m.room_type, m.to_person_id) for m in webex.sent] == [
        ("direct", nina["id"]), ("direct", None), ("group", None)]
    assert webex.sent[0].card == CARD["content"]


async def test_post_message_limits(fake: tuple[WebexFake, str], client: WebexClient) -> None:
    webex, _ = fake
    nina = webex.add_person("Nina S", "nina@region.example")
    too_long = "å" * 3720  # 7440 bytes
    status, _ = await _status(client, "x", lambda api: api.messages.create(toPersonId=nina["id"], text=too_long))
    assert status == 400
    two_cards = lambda api: api.messages.create(toPersonId=nina["id"], text="x", attachments=[CARD, CARD])  # noqa: E731
    assert (await _status(client, "x", two_cards))[0] == 400
    await client.post_message(toPersonId=nina["id"], text="å" * 3719)
    assert len(webex.sent) == 1


async def test_messages_get_edit_delete(fake: tuple[WebexFake, str], client: WebexClient) -> None:
    webex, _ = fake
    nina = webex.add_person("Nina S", "nina@region.example")
    plain = await client.post_message(toPersonId=nina["id"], text="ett")
    card = await client.post_message(toPersonId=nina["id"], text="kort", attachments=[CARD])

    edited = await client.call(
        "x", lambda api: api.messages.update(plain["id"], roomId=plain["roomId"], text="två").to_dict())
    assert edited["text"] == "två"
    edit_card = lambda api: api.messages.update(card["id"], roomId=card["roomId"], text="nytt")  # noqa: E731
    assert (await _status(client, "x", edit_card))[0] == 400

    await client.delete_message(card["id"])
    assert webex.deleted == [card["id"]]
    assert (await _status(client, "x", lambda api: api.messages.get(card["id"])))[0] == 404
    assert (await _status(client, "x", lambda api: api.messages.delete(card["id"])))[0] == 404


async def test_group_mention_and_listing(fake: tuple[WebexFake, str], client: WebexClient) -> None:
    webex, _ = fake
    nina = webex.add_person("Nina S", "nina@region.example")
    room = webex.group_room(nina["id"])
    delivery = webex.user_message(nina, "/distansmöte ny", room_id=room)
    message = await client.message(delivery.data_id)
    assert message["text"] == "Distansmöte /distansmöte ny"
    assert f'data-object-id="{webex.bot["id"]}"' in message["html"] and "<spark-mention" in message["html"]
    assert message["mentionedPeople"] == [webex.bot["id"]]

    listing = lambda api: list(api.messages.list(roomId=room))  # noqa: E731
    assert await _status(client, "x", listing) == (403, "Failed to get activity.")
    mentioned = await client.call("x", lambda api: [m.id for m in api.messages.list(roomId=room, mentionedPeople="me")])
    assert mentioned == [delivery.data_id]


async def test_attachment_action_and_signed_delivery(fake: tuple[WebexFake, str], client: WebexClient) -> None:
    webex, _ = fake
    nina = webex.add_person("Nina S", "nina@region.example")
    card = await client.post_message(toPersonId=nina["id"], text="kort", attachments=[CARD])
    delivery = webex.submit_card(nina, card["id"], {"action": "x", "unit": "HC Torsås"})
    action = await client.attachment_action(delivery.data_id)
    assert (action["type"], action["messageId"], action["inputs"]) == (
        "submit", card["id"], {"action": "x", "unit": "HC Torsås"})
    assert delivery.headers["X-Spark-Signature"] == sign(delivery.body, webex.webhook_secret)
    envelope = delivery.envelope
    assert (envelope["resource"], envelope["event"], envelope["actorId"]) == (
        "attachmentActions", "created", nina["id"])
    assert envelope["orgId"] == webex.org_id  # the webhook owner's org, not necessarily the actor's


async def test_webhooks_are_paged_with_absolute_links(fake: tuple[WebexFake, str], client: WebexClient) -> None:
    webex, url = fake
    for number in range(7):
        webex.add_webhook(name=f"hook {number}", target_url="https://bot.example/webex/events",
                          resource="messages", event="created")
    names = await client.call("x", lambda api: [w.name for w in api.webhooks.list(max=3)])
    assert names == [f"hook {n}" for n in range(7)]
    pages = [path for method, path, _ in webex.requests if path.startswith("/v1/webhooks")]
    assert len(pages) == 3 and "cursor=6" in pages[-1]


async def test_webhook_create_and_reactivate(fake: tuple[WebexFake, str], client: WebexClient) -> None:
    webex, _ = fake
    missing = lambda api: api.webhooks.create(name="x", targetUrl="https://a/b", resource="messages", event="")  # noqa: E731
    assert (await _status(client, "x", missing))[0] == 400
    hook = await client.create_webhook(name="x", targetUrl="https://a/b", resource="messages", event="created",
                                       secret="s")
    assert (hook["status"], hook["secret"]) == ("active", "s")
    webex.disable_webhook(hook["id"])
    no_name = lambda api: api.webhooks.update(hook["id"], targetUrl="https://a/b", status="active")  # noqa: E731
    assert (await _status(client, "x", no_name))[0] == 400
    again = await client.update_webhook(hook["id"], name="x", targetUrl="https://a/b", status="active")
    assert again["status"] == "active"


async def test_faults_429_with_retry_after_and_5xx(fake: tuple[WebexFake, str], client: WebexClient) -> None:
    webex, _ = fake
    webex.fail_next(429, retry_after="rand(30),add(30)")
    webex.fail_next(503, path="people")
    with pytest.raises(ApiError) as rate_limited:
        await client.me()
    assert rate_limited.value.status_code == 429
    assert rate_limited.value.response.headers["Retry-After"] == "rand(30),add(30)"
    assert rate_limited.value.tracking_id.startswith("ROUTER_FAKE_")
    with pytest.raises(ApiError) as unavailable:
        await client.me()
    assert unavailable.value.status_code == 503
    assert (await client.me())["id"] == webex.bot["id"]
