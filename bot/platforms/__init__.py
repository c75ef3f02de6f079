"""Platform adapters, and what each declares for the registry (``bot/platforms/registry.py``).

The contract an adapter follows is ``bot.core.adapter``; docs/architecture.md says how to add one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.config import PlatformSettings, Settings
from bot.core.adapter import Adapter

# Each part `distansmote check` tries has this long; a person is waiting for the answer.
PART_TIMEOUT = 15.0


@dataclass(frozen=True)
class Verdict:
    """One line of ``distansmote check``."""

    part: str
    ok: bool | None  # None: not configured, so not tried
    detail: str

    def line(self) -> str:
        word = {True: "OK", False: "FAIL", None: "SKIP"}[self.ok]
        return f"{word:<5}{self.part}: {self.detail}"


Check = Callable[[Settings], Awaitable[list[Verdict]]]
Build = Callable[[Settings, str], Adapter]
"""``(settings, host)``: the adapter ``serve`` installs, listening on ``host``; ``ConfigError`` when
the platform is half or unsafely configured."""


@dataclass(frozen=True)
class PlatformEntry:
    """What a platform package declares: the registry reads nothing else of it.

    Everything heavy (the SDK, the adapter) is imported by ``build`` and ``check`` when they run,
    so that reading the registry costs nothing.
    """

    name: str  # the platform's part of a person key, its metrics label and the store's rows
    title: str  # as `distansmote check` and the messages name it
    # Its DISTANSMOTE_<NAME>_* variables, nested in Settings; None: a platform that `serve` never runs.
    settings: type[PlatformSettings] | None = None
    build: Build | None = None
    check: Check | None = None  # its readiness, tried by `distansmote check` when it is configured
    switch: str = ""  # the variable that turns it on, named when no platform is configured

    def configured(self, settings: Settings) -> bool:
        return self.settings is not None and settings.platform(self.settings).configured

    def workers(self, settings: Settings) -> int:
        """Jobs it handles at once (0 when it is not configured)."""
        return settings.platform(self.settings).workers if self.settings and self.configured(settings) else 0
