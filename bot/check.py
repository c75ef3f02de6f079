"""``distansmote check``: try every configured part once and say plainly what is wrong.

One verdict line per part. Nothing here prints a secret: URLs show no password, errors
are named by status and tracking id. Platforms add their checks to ``PLATFORM_CHECKS``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config import ConfigError, Settings

# Each part has this long; a person is waiting for the answer.
PART_TIMEOUT = 15.0


@dataclass(frozen=True)
class Verdict:
    part: str
    ok: bool | None  # None: not configured, so not tried
    detail: str

    def line(self) -> str:
        word = {True: "OK", False: "FAIL", None: "SKIP"}[self.ok]
        return f"{word:<5}{self.part}: {self.detail}"


# Query parameters whose value is not shown (``?password=``, ``?sslpassword=``, ``?api_key=``...).
_SECRET_PARAMETERS = ("pass", "pwd", "secret", "token", "key")


def masked_url(url: str) -> str:
    """``url`` with the password in it, and the value of any query parameter that looks like one,
    replaced by ***. Plain string work: a URL that no parser accepts is masked all the same."""
    base, question, query = url.partition("?")
    scheme, separator, rest = base.partition("://")
    if separator:
        # The last @ ends the user part, even when an unencoded password holds a / or an @.
        user, at, place = rest.rpartition("@")
        if at and ":" in user:
            base = f"{scheme}://{user.split(':', 1)[0]}:***@{place}"
    if question:
        query = "&".join(f"{name}=***" if value and any(word in name.lower() for word in _SECRET_PARAMETERS)
                         else f"{name}{equals}{value}"
                         for name, equals, value in (pair.partition("=") for pair in query.split("&")))
    return base + question + query


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names when it does not exist (opening it would create an empty one)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # not a URL at all: opening it says so
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


async def check_database(settings: Settings) -> Verdict:
    from bot.db import create_engine, schema_revisions

    shown = masked_url(settings.database_url)
    engine = create_engine(settings.database_url)  # a URL it cannot use stops `check` with one line
    if (missing := missing_sqlite_file(settings.database_url)) is not None:
        await engine.dispose()
        return Verdict("database", False, f"{shown}: the file {missing} does not exist "
                                          "(`distansmote db upgrade` creates it)")
    try:
        async with asyncio.timeout(PART_TIMEOUT):
            current, head = await schema_revisions(engine)
    except TimeoutError:
        return Verdict("database", False, f"{shown}: no answer within {PART_TIMEOUT:.0f} s")
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the verdict is "not reachable"
        return Verdict("database", False, f"{shown}: not reachable ({type(exc).__name__})")
    finally:
        await engine.dispose()
    if current != head:
        return Verdict("database", False, f"{shown}: schema at migration {current or 'none'}, the code needs "
                                          f"{head}; run `distansmote db upgrade`")
    return Verdict("database", True, f"{shown}, schema up to date ({head})")


async def cms_problem(settings: Settings) -> str | None:
    """What is wrong with the CMS settings, in a sentence; ``None`` when an API call succeeded."""
    from bot.services.cms import (
        CmsAuthError,
        CmsClient,
        CmsError,
        CmsFailure,
        CmsProtocolError,
        CmsUnavailable,
    )

    # Few retries: a person is waiting for the answer.
    client = CmsClient.from_settings(settings, max_attempts=2, retry_for=5.0)
    try:
        await client.check()
    except CmsAuthError:
        return "wrong username or password (DISTANSMOTE_CMS_USERNAME / DISTANSMOTE_CMS_PASSWORD)"
    except CmsUnavailable as exc:
        return f"not reachable: {exc}"
    except (CmsProtocolError, CmsFailure) as exc:
        return f"does not answer like a CMS API (the URL should end in /api/v1/): {exc}"
    except (CmsError, ValueError) as exc:
        return str(exc)
    finally:
        await client.close()
    return None


def shown_cms_url(settings: Settings) -> str:
    return masked_url(settings.cms_url or "")


async def check_cms(settings: Settings) -> Verdict:
    from bot.services.cms import missing_settings

    if missing := missing_settings(settings):
        return Verdict("CMS", False, f"not configured; set {', '.join(missing)}")
    problem = await cms_problem(settings)
    if problem is not None:
        return Verdict("CMS", False, f"{shown_cms_url(settings)}: {problem}")
    return Verdict("CMS", True, f"{shown_cms_url(settings)}: logged in, the API answered")


async def check_webex(settings: Settings) -> list[Verdict]:
    from bot.platforms.webex import (
        WEBEX_ERRORS,
        WEBHOOK_EVENTS,
        WebexClient,
        describe_error,
        webex_allowlist,
        webex_credentials,
    )

    try:
        token, secret = webex_credentials(settings)
        webex_allowlist(settings)
    except ConfigError as exc:
        return [Verdict("Webex", False, str(exc))]
    client = WebexClient(token, settings.webex_api_url, workers=1, attempts=2, max_retry_after=5.0)
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


async def check_teams(settings: Settings) -> list[Verdict]:
    """The settings, then a token from Microsoft Entra for the Bot Framework: what the bot needs to answer."""
    from microsoft_agents.authentication.msal import MsalConnectionManager
    from microsoft_agents.hosting.core import AuthenticationConstants

    from bot.platforms.teams.config import CONNECTION, teams_config

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


@dataclass(frozen=True)
class PlatformCheck:
    name: str
    configured: Callable[[Settings], bool]
    run: Callable[[Settings], Awaitable[list[Verdict]]]


# A platform adapter that can be configured adds itself here.
PLATFORM_CHECKS: tuple[PlatformCheck, ...] = (
    PlatformCheck("Webex", lambda s: s.webex_configured, check_webex),
    PlatformCheck("Teams", lambda s: s.teams_configured, check_teams),
)


async def run_checks(settings: Settings) -> list[Verdict]:
    verdicts = [await check_database(settings), await check_cms(settings)]
    configured = [platform for platform in PLATFORM_CHECKS if platform.configured(settings)]
    for platform in PLATFORM_CHECKS:
        if platform in configured:
            try:
                async with asyncio.timeout(2 * PART_TIMEOUT):
                    verdicts += await platform.run(settings)
            except TimeoutError:
                verdicts.append(Verdict(platform.name, False, "no answer in time"))
        else:
            verdicts.append(Verdict(platform.name, None, "not configured"))
    if not configured:
        verdicts.append(Verdict("platforms", False, "no chat platform is configured"))
    return verdicts
