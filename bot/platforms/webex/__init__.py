"""Webex: the adapter (``route``), the SDK behind a thread pool (``transport``), the webhooks'
set-up (``webhooks``) and the translators to and from the neutral core (``translate``)."""

from bot.platforms.webex.route import WEBHOOK_PATH, WebexAdapter, webex_allowlist
from bot.platforms.webex.translate import job_key, org_key, parse_envelope
from bot.platforms.webex.transport import WEBEX_ERRORS, WebexClient, describe_error
from bot.platforms.webex.webhooks import (
    WEBHOOK_CHECK_SECONDS,
    WEBHOOK_EVENTS,
    reactivate_webhooks,
    setup_from_settings,
    setup_webhooks,
    webex_credentials,
)

__all__ = [
    "WEBEX_ERRORS", "WEBHOOK_CHECK_SECONDS", "WEBHOOK_EVENTS", "WEBHOOK_PATH", "WebexAdapter", "WebexClient",
    "describe_error", "job_key", "org_key", "parse_envelope", "reactivate_webhooks", "setup_from_settings",
    "setup_webhooks", "webex_allowlist", "webex_credentials",
]
