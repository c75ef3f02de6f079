"""Webex: the adapter (``route``), the SDK behind a thread pool (``transport``), the webhooks'
set-up (``webhooks``), the translators to and from the neutral core (``translate``) and the
readiness check (``check``). Here: what the registry reads, without importing the SDK."""

from __future__ import annotations

from pydantic import SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from bot.config import ENV_PREFIX, PlatformSettings, Settings
from bot.core import Platform
from bot.core.adapter import Adapter
from bot.platforms import PlatformEntry, Verdict

NAME = Platform("webex")


class WebexSettings(PlatformSettings):
    """``DISTANSMOTE_WEBEX_*``. ``workers``: the Webex SDK threads (twice as many webhook jobs run at
    once, ``route.JOBS_PER_THREAD``); half as many requests may be at the CMS at once."""

    model_config = SettingsConfigDict(env_prefix=f"{ENV_PREFIX}WEBEX_")

    token: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    api_url: str = "https://webexapis.com/v1/"
    # During a rotation of the webhook secret: the one the webhooks were signed with until
    # `distansmote webex setup` re-signed them with DISTANSMOTE_WEBEX_WEBHOOK_SECRET; both verify.
    webhook_secret_previous: SecretStr | None = None

    @field_validator("api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # Without the slash the Webex SDK joins paths onto the parent and drops /v1.
        return value if value.endswith("/") else value + "/"

    @property
    def configured(self) -> bool:
        """Either of its variables: one without the other is then refused, not ignored."""
        return bool(self.token or self.webhook_secret)


def _build(settings: Settings, host: str) -> Adapter:
    from bot.platforms.webex.route import WebexAdapter
    from bot.platforms.webex.webhooks import WEBHOOK_CHECK_SECONDS

    return WebexAdapter(settings, webhook_check_seconds=WEBHOOK_CHECK_SECONDS)


async def _check(settings: Settings) -> list[Verdict]:
    from bot.platforms.webex.check import check_webex

    return await check_webex(settings)


PLATFORM = PlatformEntry(NAME, "Webex", WebexSettings, _build, _check, switch=f"{ENV_PREFIX}WEBEX_TOKEN")
