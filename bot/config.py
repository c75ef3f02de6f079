"""Settings: frozen models, flat ``DISTANSMOTE_`` environment variables.

:class:`Settings` holds the core's; each platform declares its own :class:`PlatformSettings`
(``DISTANSMOTE_WEBEX_*``...), nested in it and read with the same sources (``settings.platform``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "DISTANSMOTE_"

# Comma-separated in the environment; a tuple in code.
CommaList = Annotated[tuple[str, ...], NoDecode]
# What a configured unit or recipient role may be (bot/services/validation.py holds typed ones to the same).
NAME_MAX = 40
NAME_DIGITS_MAX = 4
# Jobs a platform handles at once unless its DISTANSMOTE_<PLATFORM>_WORKERS says otherwise.
DEFAULT_WORKERS = 8
# What Settings passes on to the platforms' settings, so that they read the same files.
_SHARED_SOURCES = ("_env_file", "_secrets_dir")

P = TypeVar("P", bound="PlatformSettings")
M = TypeVar("M", bound=BaseSettings)


def _lines_of(path: Path) -> tuple[str, ...]:
    """The lines of a list file, without blank lines and ``#`` comments."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the file ({type(exc).__name__})") from None
    return tuple(line.strip() for line in lines if line.strip() and not line.strip().startswith("#"))


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable."""


class _Sourced(BaseSettings):
    """The sources of the core's settings and of every platform's."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Given values first, then the environment, ``_FILE`` secrets, ``.env`` and the secrets directory."""
        return init_settings, env_settings, SecretFiles(settings_cls), dotenv_settings, file_secret_settings


class PlatformSettings(_Sourced):
    """A platform's own settings, read from its ``env_prefix`` (``DISTANSMOTE_WEBEX_``) with the sources
    of the :class:`Settings` they are nested in; a ``SecretStr`` field may come from a ``_FILE`` too."""

    model_config = SettingsConfigDict(env_file=".env", frozen=True, extra="ignore")

    # Jobs of this platform handled at once; more wait in the store. The CMS bulkhead is sized from it.
    workers: int = Field(default=DEFAULT_WORKERS, ge=1, le=64)

    @classmethod
    def of(cls, settings: Settings) -> Self:
        return settings.platform(cls)

    @property
    def configured(self) -> bool:
        """The platform is on: ``serve`` runs it and ``check`` tries it."""
        return False


class Settings(_Sourced):
    """The core's settings. A platform's are given by their variable's name too (``webex_token=...``,
    as ``DISTANSMOTE_WEBEX_TOKEN``) and read by :meth:`platform`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", frozen=True, extra="ignore"
    )

    _given: dict[str, Any] = PrivateAttr(default_factory=dict)  # for the platforms, by variable name
    _shared: dict[str, Any] = PrivateAttr(default_factory=dict)
    _platforms: dict[type[PlatformSettings], PlatformSettings] = PrivateAttr(default_factory=dict)

    database_url: str = "sqlite+aiosqlite:///distansmote.db"
    timezone: str = "Europe/Stockholm"
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    cms_url: str | None = None
    cms_username: str | None = None
    cms_password: SecretStr | None = None
    cms_timeout_seconds: float = Field(default=20.0, gt=0)

    # ``serve`` refuses to start without it: a video address without a domain reaches nobody.
    video_domain: str | None = None
    # The routine's own dial-in number ("Ring upp telefonnummer: 0480 44 55 11").
    dial_in_number: str | None = "0480 44 55 11"
    web_join_url: str | None = None

    allowed_email_domains: CommaList = ()
    allowed_webex_org_ids: CommaList = ()
    allowed_teams_tenant_ids: CommaList = ()
    admins: CommaList = ()

    # The region's units (rule 1 by construction: no free text where a patient's name could go). A
    # comma-separated list, or the path of a UTF-8 file with one unit a line (``#`` starts a comment).
    # When set, the new-meeting card offers only these; empty: the unit is typed, under strict rules.
    units: CommaList = ()
    # What the add-recipient card offers (comma-separated); empty: the routine's common recipients.
    recipient_roles: CommaList = ()

    # Links shown in the help card; the region's own documents and films.
    link_equipment_checklist: str | None = None
    link_meeting_tips: str | None = None
    link_film_create_room: str | None = None
    link_film_join: str | None = None
    link_film_picture_sound: str | None = None
    link_film_delete_room: str | None = None
    link_practical_guide: str | None = None

    # Reminders (minutes unless named otherwise).
    reminder_unconfirmed_minutes: int = Field(default=60, ge=1, le=24 * 60)
    reminder_start_minutes: int = Field(default=5, ge=0, le=120)
    # Whose Cisco Meeting a room appears in: the CMS user with the creator's e-mail address or UPN
    # ("email"), or nobody's ("none").
    cms_room_owner: Literal["email", "none"] = "email"
    # "Har alla anslutit?" this long after the start; 0: not asked.
    join_check_minutes: int = Field(default=5, ge=0, le=120)
    reminder_end_grace_minutes: int = Field(default=10, ge=0, le=240)
    reminder_followup_minutes: int = Field(default=120, ge=15, le=24 * 60)
    auto_delete_after_hours: int = Field(default=24, ge=1, le=24 * 14)
    working_hours_start: time = time(7, 30)
    working_hours_end: time = time(17, 0)
    late_reminder_minutes: int = Field(default=5, ge=1)
    # Reminder messages sent at once to one platform; a 429 there slows them all down.
    reminder_sends_per_platform: int = Field(default=32, ge=1, le=256)

    # Days a person stays in the store after their room is deleted (docs/privacy.md says why 90):
    # then the daily purge keeps only what the county report counts.
    retention_days: int = Field(default=90, ge=7, le=3650)
    # The bot's public https address (no path): `teams package` links its /privacy and /terms pages.
    public_url: str | None = None

    @field_validator(
        "allowed_email_domains", "allowed_webex_org_ids", "allowed_teams_tenant_ids", "admins", "units",
        "recipient_roles", mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        if info.field_name == "units" and ("/" in value or Path(value.strip()).is_file()):
            return _lines_of(Path(value.strip()))  # a unit's name never holds a "/": the value names a file
        return tuple(part.strip() for part in value.split(",") if part.strip())

    @field_validator("units", "recipient_roles")
    @classmethod
    def _names_without_numbers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for place, name in enumerate(value, start=1):
            if len(name) > NAME_MAX or sum(char.isdigit() for char in name) > NAME_DIGITS_MAX or "@" in name:
                # The name itself is not repeated: whatever it holds stays out of the log.
                raise ValueError(f"entry {place} is not a name: at most {NAME_MAX} characters and "
                                 f"{NAME_DIGITS_MAX} digits, no e-mail address")
        return tuple(dict.fromkeys(value))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("cms_url")
    @classmethod
    def _cms_api_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (for example https://cms.example.se:445/api/v1/)")
        address = urlsplit(value)
        if address.username is not None or address.password is not None:
            raise ValueError("must not hold a user or password; set DISTANSMOTE_CMS_USERNAME and "
                             "DISTANSMOTE_CMS_PASSWORD instead")
        return value if value.endswith("/") else value + "/"

    @field_validator("public_url")
    @classmethod
    def _public_https(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith("https://") or urlsplit(value).path not in ("", "/"):
            raise ValueError("must be the bot's public https:// address without a path, e.g. https://bot.region.se")
        return value.rstrip("/")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def __init__(self, **values: Any) -> None:
        own = {name: value for name, value in values.items() if name.startswith("_") or name in type(self).model_fields}
        super().__init__(**own)
        self._given = {name: value for name, value in values.items() if name not in own}
        self._shared = {name: values[name] for name in _SHARED_SOURCES if name in values}

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        own = {name: value for name, value in (update or {}).items() if name in type(self).model_fields}
        copied = super().model_copy(update=own, deep=deep)
        copied._given = {**self._given, **{name: value for name, value in (update or {}).items() if name not in own}}
        copied._platforms = {}  # read again, with what the update gave them
        return copied

    def platform(self, model: type[P]) -> P:
        """The settings of a platform, read once: the values given for its prefix, then the sources."""
        found = self._platforms.get(model)
        if found is None:
            prefix = model.model_config.get("env_prefix", "").removeprefix(ENV_PREFIX).lower()
            given = {name.removeprefix(prefix): value for name, value in self._given.items() if name.startswith(prefix)}
            found = self._platforms[model] = self.read_platform(model, given)
        return cast(P, found)

    def read_platform(self, model: type[P], values: dict[str, Any]) -> P:
        return validated(model, **self._shared, **values)

    def is_admin(self, *identities: str | None) -> bool:
        wanted = {a.casefold() for a in self.admins}
        return any(i and i.casefold() in wanted for i in identities)

    def overdue_from(self, now: datetime) -> datetime:
        """A live room whose meeting ended before this is overdue, past its automatic deletion's
        deadline: the report's overdue rooms and the ``distansmote_rooms_overdue`` metric."""
        return now - timedelta(hours=self.auto_delete_after_hours)


def secret_fields(model: type[BaseSettings]) -> tuple[str, ...]:
    """The settings that hold a secret (a ``SecretStr``, or the database URL with its password): each may
    be given as DISTANSMOTE_<NAME>_FILE instead."""
    return tuple(name for name, field in model.model_fields.items()
                 if name == "database_url" or "SecretStr" in str(field.annotation))


SECRET_SETTINGS = secret_fields(Settings)
# A directory with one file per setting, named like its variable (a Kubernetes Secret mounted as a volume).
SECRETS_DIR_VARIABLE = ENV_PREFIX + "SECRETS_DIR"


class SecretFiles(PydanticBaseSettingsSource):
    """``DISTANSMOTE_<NAME>_FILE``: a secret setting read from the file it names (Docker and Kubernetes
    secrets, systemd credentials), so that the secret is in no process environment. The file's
    trailing line break is not part of the secret."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads them all

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        prefix = self.settings_cls.model_config.get("env_prefix", "")
        for name in secret_fields(self.settings_cls):
            variable = f"{prefix}{name.upper()}"
            path = os.environ.get(f"{variable}_FILE")
            if not path:
                continue
            if os.environ.get(variable):
                raise ConfigError(f"{variable}_FILE: {variable} is set too; set one of them")
            try:
                values[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                reason = getattr(exc, "strerror", None) or type(exc).__name__
                raise ConfigError(f"{variable}_FILE: cannot read {path} ({reason})") from None
        return values


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (and DISTANSMOTE_SECRETS_DIR, when set); one line naming the
    variable on error."""
    secrets_dir = os.environ.get(SECRETS_DIR_VARIABLE) or None
    if secrets_dir is not None and not Path(secrets_dir).is_dir():
        raise ConfigError(f"{SECRETS_DIR_VARIABLE}: {secrets_dir} is not a directory")
    return validated(Settings, _secrets_dir=secrets_dir, **overrides)


def validated(model: type[M], **values: Any) -> M:
    """``model`` from ``values`` and its sources; ``ConfigError`` names the first wrong variable."""
    try:
        return model(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = model.model_config.get("env_prefix", "") + "_".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(f"{name}: {first['msg']}") from None
