"""``distansmote check`` for Teams: the settings, then a token from Microsoft Entra for the Bot Framework."""

from __future__ import annotations

import asyncio

from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.core import AuthenticationConstants

from bot.config import ConfigError, Settings
from bot.platforms import PART_TIMEOUT, Verdict
from bot.platforms.teams.config import CONNECTION, teams_config


async def check_teams(settings: Settings) -> list[Verdict]:
    """The settings, then a token from Microsoft Entra for the Bot Framework: what the bot needs to answer."""
    try:
        config = teams_config(settings)
    except ConfigError as exc:
        return [Verdict("Teams", False, str(exc))]
    if config.anonymous:
        return [Verdict("Teams", True, "anonymous requests accepted (local testing only); no credential to try")]
    scope = AuthenticationConstants.AGENTS_SDK_SCOPE
    provider = MsalConnectionManager(connections_configurations={CONNECTION: config.auth}).get_default_connection()
    try:
        async with asyncio.timeout(PART_TIMEOUT):
            token = await provider.get_access_token(scope, [f"{scope}/.default"])
    except Exception as exc:  # noqa: BLE001 - MSAL's and the network's errors alike: the name says enough
        token, problem = "", type(exc).__name__
    else:
        problem = "an empty token"
    if not token:
        return [Verdict("Teams token", False, f"none from Microsoft Entra ({problem}); check DISTANSMOTE_TEAMS_APP_ID, "
                                              "DISTANSMOTE_TEAMS_TENANT_ID and the password or managed identity")]
    return [Verdict("Teams token", True, f"issued to app {config.app_id} for the Bot Framework")]
