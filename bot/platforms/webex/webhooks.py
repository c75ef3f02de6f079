"""The bot's two Webex webhooks: created or repaired (``distansmote webex setup``), and reactivated
when Webex has disabled one after failed deliveries (Webex never does that by itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config import ConfigError, Settings
from bot.platforms.webex import WebexSettings
from bot.platforms.webex.transport import WebexClient

WEBHOOK_EVENTS = (("messages", "created"), ("attachmentActions", "created"))
WEBHOOK_CHECK_SECONDS = 600.0


def webex_credentials(settings: Settings) -> tuple[str, str]:
    """The bot token and the webhook secret; without a secret nothing inbound can be trusted."""
    webex = WebexSettings.of(settings)
    token = webex.token.get_secret_value().strip() if webex.token else ""
    secret = webex.webhook_secret.get_secret_value().strip() if webex.webhook_secret else ""
    if not token:
        raise ConfigError("DISTANSMOTE_WEBEX_TOKEN: required for Webex")
    if not secret:
        raise ConfigError("DISTANSMOTE_WEBEX_WEBHOOK_SECRET: required when DISTANSMOTE_WEBEX_TOKEN is set "
                          "(webhook signatures cannot be checked without it)")
    return token, secret


async def setup_webhooks(client: WebexClient, target_url: str, secret: str) -> list[str]:
    """Create or repair the bot's two webhooks for ``target_url``; one line per webhook.

    Idempotent: an active webhook with our secret is left alone, an inactive one is
    reactivated, a missing one created. Webhooks for other URLs are never touched.
    """
    hooks = await client.webhooks()
    report = []
    for resource, event in WEBHOOK_EVENTS:
        ours = [h for h in hooks if (h.get("resource"), h.get("event")) == (resource, event)
                and h.get("targetUrl") == target_url]
        for hook in ours:
            report.append(await _repair(client, hook, secret))
        if not ours:
            await client.create_webhook(name=f"Distansmöte {resource}/{event}", targetUrl=target_url,
                                        resource=resource, event=event, secret=secret)
            report.append(f"created {resource}/{event} -> {target_url}")
    return report


async def setup_from_settings(settings: Settings, target_url: str) -> list[str]:
    """``distansmote webex setup``: :func:`setup_webhooks` with the configured token and secret."""
    token, secret = webex_credentials(settings)
    client = WebexClient(token, WebexSettings.of(settings).api_url, workers=1)
    try:
        return await setup_webhooks(client, target_url, secret)
    finally:
        await client.close()


async def reactivate_webhooks(client: WebexClient, secret: str) -> list[str]:
    """Reactivate the bot's disabled webhooks (Webex never does it by itself)."""
    hooks = await client.webhooks()
    return [await _repair(client, hook, secret) for hook in hooks
            if (hook.get("resource"), hook.get("event")) in WEBHOOK_EVENTS and hook.get("status") != "active"]


async def _repair(client: WebexClient, hook: Mapping[str, Any], secret: str) -> str:
    label = f"{hook['resource']}/{hook['event']} -> {hook['targetUrl']}"
    if hook.get("status") == "active" and hook.get("secret") == secret:
        return f"unchanged {label} (active)"
    await client.update_webhook(hook["id"], name=hook["name"], targetUrl=hook["targetUrl"],
                                secret=secret, status="active")
    if hook.get("status") != "active":
        return f"reactivated {label}"
    return f"updated the secret of {label}"
