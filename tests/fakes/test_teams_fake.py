"""The fake Bot Framework connector answers the SDK's own connector client as Teams does."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponseError
from microsoft_agents.activity import Activity, ChannelAccount, ConversationParameters
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from tests.fakes.teams import FakeConnector

TENANT = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
async def fake(aiohttp_server: Any) -> FakeConnector:
    return await FakeConnector.served(aiohttp_server)


@pytest.fixture
async def client(fake: FakeConnector) -> Any:
    sdk_client = TeamsConnectorClient(endpoint=fake.service_url, token="")  # anonymous: no token sent
    yield sdk_client
    await sdk_client.close()


def _message(text: str) -> Activity:
    return Activity(type="message", text=text)


async def test_send_reply_update_and_delete(fake: FakeConnector, client: Any) -> None:
    user = fake.user("Nina", TENANT)
    chat = fake.personal_chat(user)

    sent = await client.conversations.send_to_conversation(chat.id, _message("ett"))
    reply = await client.conversations.reply_to_activity(chat.id, "some-random-id", _message("två"))
    assert [(p.text, p.reply_to) for p in fake.in_conversation(chat)] == [("ett", None), ("två", "some-random-id")]
    assert fake.posted[0].authorization is None  # anonymous mode sends no token

    await client.conversations.update_activity(chat.id, sent.id, _message("ett, ändrat"))
    await client.conversations.delete_activity(chat.id, reply.id)
    [left] = fake.in_conversation(chat)
    assert (left.id, left.text, left.edits) == (sent.id, "ett, ändrat", 1)

    with pytest.raises(ClientResponseError) as unknown:
        await client.conversations.update_activity(chat.id, "no-such-activity", _message("x"))
    assert unknown.value.status == 404


async def test_create_conversation_finds_the_users_one_chat(fake: FakeConnector, client: Any) -> None:
    user = fake.user("Nina", TENANT)
    parameters = ConversationParameters(bot=ChannelAccount(id=fake.bot_id), members=[ChannelAccount(id=user.id)],
                                        tenant_id=TENANT, is_group=False)
    first = await client.conversations.create_conversation(parameters)
    again = await client.conversations.create_conversation(parameters)
    assert first.id == again.id == fake.personal_conversation_of(user)
    assert fake.personal_chat(user).id == first.id


@pytest.mark.parametrize("status", [429, 412, 502, 504])
async def test_injected_faults_reach_the_client_with_their_retry_after(
        fake: FakeConnector, client: Any, status: int) -> None:
    chat = fake.personal_chat(fake.user("Nina", TENANT))
    fake.fail_next(status, retry_after="7")
    with pytest.raises(ClientResponseError) as failed:
        await client.conversations.send_to_conversation(chat.id, _message("x"))
    assert failed.value.status == status
    assert failed.value.headers is not None and failed.value.headers["Retry-After"] == "7"
    await client.conversations.send_to_conversation(chat.id, _message("x"))  # only the next one fails
    assert len(fake.in_conversation(chat)) == 1


async def test_a_blocked_or_forgotten_conversation_refuses_for_good(fake: FakeConnector, client: Any) -> None:
    blocked_user, gone_user = fake.user("Nina", TENANT), fake.user("Erik", TENANT)
    fake.block(blocked_user)
    gone = fake.personal_chat(gone_user)
    fake.forget(gone)
    for conversation_id, status in ((fake.personal_chat(blocked_user).id, 403), (gone.id, 404)):
        for _ in range(2):
            with pytest.raises(ClientResponseError) as refused:
                await client.conversations.send_to_conversation(conversation_id, _message("x"))
            assert refused.value.status == status
    assert fake.posted == []


async def test_a_message_over_100_kb_is_refused(fake: FakeConnector, client: Any) -> None:
    chat = fake.personal_chat(fake.user("Nina", TENANT))
    with pytest.raises(ClientResponseError) as refused:
        await client.conversations.send_to_conversation(chat.id, _message("x" * 110_000))
    assert refused.value.status == 413


async def test_a_member_comes_with_the_user_principal_name(fake: FakeConnector, client: Any) -> None:
    user = fake.user("Nina Berg", TENANT)
    member = await client.get_conversation_member(fake.personal_chat(user).id, user.id)
    assert (member.aad_object_id, member.user_principal_name) == (user.aad_object_id, "nina@region.example")


def test_activities_look_like_teams(fake: FakeConnector) -> None:
    fake.service_url = "http://127.0.0.1:1/"
    user = fake.user("Nina", TENANT)
    channel = fake.channel(TENANT)
    typed = fake.message(user, channel, "/distansmöte ny", mention=True)
    assert typed["text"] == "<at>Distansmöte</at> /distansmöte ny"
    assert typed["entities"][0]["mentioned"]["id"] == fake.bot_id
    assert typed["conversation"]["tenantId"] == typed["channelData"]["tenant"]["id"] == TENANT
    assert typed["from"]["aadObjectId"] == user.aad_object_id
    assert Activity.model_validate(typed).conversation.conversation_type == "channel"
