"""Microsoft Teams: the adapter (Microsoft 365 Agents SDK), the app package and the readiness
check. Here: what the registry reads, without importing the SDK."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from bot.config import ENV_PREFIX, PlatformSettings, Settings
from bot.core import Platform
from bot.core.adapter import Adapter
from bot.platforms import PlatformEntry, Verdict

NAME = Platform("teams")


class TeamsSettings(PlatformSettings):
    """``DISTANSMOTE_TEAMS_*``. ``workers``: activities handled at once (Teams is answered at once all the same)."""

    model_config = SettingsConfigDict(env_prefix=f"{ENV_PREFIX}TEAMS_")

    app_id: str | None = None
    app_password: SecretStr | None = None
    tenant_id: str | None = None
    # How the bot proves who it is to Teams: the app password, or a managed identity of Azure.
    auth_type: Literal["client_secret", "user_managed_identity", "system_managed_identity", "certificate",
                       "federated_credentials", "workload_identity"] = "client_secret"
    # Local testing only (Agents Playground, a fake connector): requests without a token accepted.
    allow_anonymous: bool = False
    # Teams without a client secret (DISTANSMOTE_TEAMS_AUTH_TYPE): the app's certificate, a PFX file
    # without a passphrase ("certificate"); the client id of the user-assigned managed identity that is
    # the app's federated credential ("federated_credentials"); the token file of a Kubernetes workload
    # identity ("workload_identity").
    certificate_file: str | None = None
    federated_client_id: str | None = None
    federated_token_file: str | None = None

    @property
    def configured(self) -> bool:
        """Its app id is set, or anonymous local testing is."""
        return bool(self.app_id or self.allow_anonymous)


def _build(settings: Settings, host: str) -> Adapter:
    from bot.platforms.teams.adapter import TeamsAdapter
    from bot.platforms.teams.config import check_listen_address

    check_listen_address(settings, host)
    return TeamsAdapter(settings)


async def _check(settings: Settings) -> list[Verdict]:
    from bot.platforms.teams.check import check_teams

    return await check_teams(settings)


PLATFORM = PlatformEntry(NAME, "Teams", TeamsSettings, _build, _check, switch=f"{ENV_PREFIX}TEAMS_APP_ID")
