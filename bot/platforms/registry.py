"""The platforms the bot knows: one line each. ``serve``, ``check``, the CMS bulkhead and the settings
read them from here (docs/architecture.md: adding a platform)."""

from __future__ import annotations

from typing import Any

from pydantic_settings import BaseSettings

from bot.config import DEFAULT_WORKERS, ENV_PREFIX, ConfigError, Settings
from bot.config import load_settings as load_core_settings
from bot.core.adapter import Adapter
from bot.demo import adapter as demo
from bot.platforms import PlatformEntry, teams, webex

PLATFORMS: tuple[PlatformEntry, ...] = (
    webex.PLATFORM,
    teams.PLATFORM,
    demo.PLATFORM,
)


def configured(settings: Settings) -> list[PlatformEntry]:
    return [platform for platform in PLATFORMS if platform.configured(settings)]


def load_settings(**overrides: Any) -> Settings:
    """:func:`bot.config.load_settings`, with every platform's settings read and checked at once."""
    settings = load_core_settings(**overrides)
    for platform in PLATFORMS:
        if platform.settings is not None:
            settings.platform(platform.settings)
    return settings


def variables() -> dict[str, tuple[type[BaseSettings], str]]:
    """Every setting by its variable's name without DISTANSMOTE_ (``webex_token``): the model that holds
    it and its field there."""
    found: dict[str, tuple[type[BaseSettings], str]] = {name: (Settings, name) for name in Settings.model_fields}
    for platform in PLATFORMS:
        if platform.settings is not None:
            prefix = platform.settings.model_config.get("env_prefix", "").removeprefix(ENV_PREFIX).lower()
            found |= {prefix + name: (platform.settings, name) for name in platform.settings.model_fields}
    return found


def adapters(settings: Settings, host: str) -> list[Adapter]:
    """The adapters ``serve`` runs; refuses a platform that is half or unsafely configured, and
    refuses to run with none."""
    built = [platform.build(settings, host) for platform in configured(settings) if platform.build is not None]
    if not built:
        switches = [platform for platform in PLATFORMS if platform.switch]
        ways = [f"{platform.switch} for {platform.title}" for platform in switches]
        raise ConfigError(f"{' or '.join(p.switch for p in switches)}: no chat platform is configured; "
                          f"set {', '.join(ways)}, or {'both' if len(ways) == 2 else 'several'}")
    return built


def cms_workers(settings: Settings) -> int:
    """What the CMS bulkhead is sized for: the largest set of workers of a configured platform."""
    return max((platform.workers(settings) for platform in PLATFORMS), default=0) or DEFAULT_WORKERS
