"""``distansmote check`` for Webex: the token, then the bot's two webhooks and their secret."""

from __future__ import annotations

from bot.config import ConfigError, Settings
from bot.platforms import Verdict
from bot.platforms.webex import WebexSettings
from bot.platforms.webex.route import webex_allowlist
from bot.platforms.webex.transport import WEBEX_ERRORS, WebexClient, describe_error
from bot.platforms.webex.webhooks import WEBHOOK_EVENTS, webex_credentials


async def check_webex(settings: Settings) -> list[Verdict]:
    try:
        token, secret = webex_credentials(settings)
        webex_allowlist(settings)
    except ConfigError as exc:
        return [Verdict("Webex", False, str(exc))]
    client = WebexClient(token, WebexSettings.of(settings).api_url, workers=1, attempts=2, max_retry_after=5.0)
    try:
        try:
            me = await client.me()
        except WEBEX_ERRORS as exc:
            return [Verdict("Webex token", False, f"refused or no answer ({describe_error(exc)}); "
                                                  "check DISTANSMOTE_WEBEX_TOKEN")]
        verdicts = [Verdict("Webex token", True, f"the bot is {me.get('displayName') or me.get('id')}")]
        try:
            hooks = await client.webhooks()
        except WEBEX_ERRORS as exc:
            return [*verdicts, Verdict("Webex webhooks", False, f"could not be listed ({describe_error(exc)})")]
    finally:
        await client.close()
    problems, targets = [], set()
    for resource, event in WEBHOOK_EVENTS:
        ours = [h for h in hooks if (h.get("resource"), h.get("event")) == (resource, event)]
        targets |= {str(h.get("targetUrl")) for h in ours}
        if not ours:
            problems.append(f"{resource}/{event} missing")
        elif not any(h.get("status") == "active" for h in ours):
            problems.append(f"{resource}/{event} disabled")
        elif not any(h.get("status") == "active" and h.get("secret") == secret for h in ours):
            problems.append(f"{resource}/{event} signed with another secret than DISTANSMOTE_WEBEX_WEBHOOK_SECRET")
    if problems:
        return [*verdicts, Verdict("Webex webhooks", False, "; ".join(problems)
                                   + "; run `distansmote webex setup --url https://<this bot>/webex/events`")]
    return [*verdicts, Verdict("Webex webhooks", True, f"both active -> {', '.join(sorted(targets))}")]
