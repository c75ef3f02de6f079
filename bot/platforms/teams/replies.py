"""Microsoft Teams: replies and messages out through the Agents SDK's connector client (the adapter: ``adapter.py``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from microsoft_agents.activity import Activity, ChannelAccount, ConversationParameters
from microsoft_agents.hosting.core.connector import ConnectorClientBase

from bot.core import PersonKey, Reply
from bot.core.adapter import GiveUp, References
from bot.core.delivery import DeliveryFailed, DeliveryGone
from bot.platforms.teams import NAME
from bot.platforms.teams.activities import Address, TeamsInbound, outgoing, personal_address
from bot.platforms.teams.connector import Connector

log = logging.getLogger(__name__)


class TeamsReplies:
    """Replies to an activity (in its conversation, or 1:1), and messages the bot starts itself."""

    def __init__(self, connector: Connector, app_id: str | None, references: References) -> None:
        self._connector = connector
        self._app_id = app_id
        self._references = references

    def client(self, address: Address) -> Any:
        return self._connector.client(address.service_url, anonymous=address.anonymous, app_id=self._app_id)

    async def deliver(self, item: TeamsInbound, replies: Sequence[Reply], *, to_group: bool = False) -> None:
        """Send the replies in order; a failure is logged (never the text) and ends the delivery."""
        try:
            async with self.client(item.address) as client:
                personal = item.address if item.is_direct else None
                card_id = item.card_id
                for reply in replies:
                    if (reply.direct or item.is_direct) and not to_group:
                        personal = personal or await self._personal_chat(client, item)
                        target = personal
                    else:
                        target = item.address
                    activity = outgoing(reply, target)
                    if reply.replaces_card and card_id and target.conversation_id == item.address.conversation_id:
                        replaced, card_id = await self._replace(client, target, card_id, activity), None
                        if replaced:
                            continue
                    reply_to = item.activity_id if target is item.address else None
                    await self._send(client, target, activity, reply_to=reply_to)
        except DeliveryGone as gone:
            log.error("Teams reply not delivered: %s", gone.code)
        except DeliveryFailed as failure:
            log.error("Teams reply not delivered, Teams kept failing: %s; the activity failed", failure.code)
            raise GiveUp from None

    async def _send(self, client: ConnectorClientBase, target: Address, activity: Activity, *,
                    reply_to: str | None) -> None:
        conversations = client.conversations
        if reply_to:  # in a channel, the answer goes into the thread of the command
            await self._connector.retrying("reply", lambda: conversations.reply_to_activity(
                target.conversation_id, reply_to, activity))
        else:
            await self._connector.retrying("send", lambda: conversations.send_to_conversation(
                target.conversation_id, activity))

    async def _replace(self, client: ConnectorClientBase, target: Address, card_id: str, activity: Activity) -> bool:
        """Edit the submitted card in place; ``False`` if it is gone (then the new one is posted)."""
        activity.id = card_id
        try:
            await self._connector.retrying("card update", lambda: client.conversations.update_activity(
                target.conversation_id, card_id, activity))
        except DeliveryGone:
            return False
        finally:
            activity.id = None
        return True

    async def _personal_chat(self, client: ConnectorClientBase, item: TeamsInbound) -> Address:
        """The sender's 1:1 chat: the stored one, or a new one (Teams returns the existing chat)."""
        key = PersonKey(NAME, item.actor_id)
        stored = await self._references.find(key)
        if stored is not None:
            return personal_address(item.address, Address.loads(stored).conversation_id)
        address = item.address
        parameters = ConversationParameters(
            is_group=False, agent=ChannelAccount(id=address.bot_id), members=[ChannelAccount(id=address.user_id)],
            tenant_id=address.tenant_id, channel_data={"tenant": {"id": address.tenant_id}},
        )
        created = await self._connector.retrying("1:1 conversation", lambda: client.conversations.create_conversation(
            parameters))
        personal = personal_address(address, created.id)
        await self._references.remember(key, personal.dumps())
        return personal

    async def send_direct(self, person: PersonKey, replies: Sequence[Reply]) -> None:
        """1:1 through the stored conversation reference; one attempt (the caller retries)."""
        stored = await self._references.find(person)
        if stored is None:
            raise DeliveryGone("teams_no_reference")  # Teams lets a bot write first only where it was installed
        address = Address.loads(stored)
        async with self.client(address) as client:
            for reply in replies:
                await self._connector.call("proactive send", partial(
                    client.conversations.send_to_conversation, address.conversation_id, outgoing(reply, address)))
