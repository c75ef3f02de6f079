"""``distansmote check``: try every configured part once and say plainly what is wrong.

One verdict line per part. Nothing here prints a secret: URLs show no password, errors
are named by status and tracking id. Each configured platform of the registry adds its own lines.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.cli.arguments import command
from bot.config import Settings
from bot.platforms import PART_TIMEOUT, Verdict, registry
from bot.platforms.registry import load_settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    check = command(commands, "check", "try every configured part once and say what is wrong",
                    details="Database and migrations, CMS credentials and API, each configured chat platform "
                    "(Webex: token and webhooks; Teams: settings and a token from Microsoft Entra). One "
                    "verdict line per part (OK, FAIL, SKIP when not "
                    "configured); exit code 1 when any part fails. Prints no secrets and creates nothing.")
    check.set_defaults(run=_check)


def _check(args: argparse.Namespace) -> int:
    verdicts = asyncio.run(run_checks(load_settings()))
    for verdict in verdicts:
        print(verdict.line())
    failed = sum(verdict.ok is False for verdict in verdicts)
    print(f"{failed} of {len(verdicts)} part(s) failed" if failed else "everything configured works")
    return 1 if failed else 0


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
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # not a URL at all: opening it says so
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


async def check_database(settings: Settings) -> Verdict:
    from bot.store.engine import create_engine
    from bot.store.migrations import schema_revisions

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


async def run_checks(settings: Settings) -> list[Verdict]:
    verdicts = [await check_database(settings), await check_cms(settings)]
    configured = registry.configured(settings)
    for platform in registry.PLATFORMS:
        if platform.check is None:
            continue
        if platform in configured:
            try:
                async with asyncio.timeout(2 * PART_TIMEOUT):
                    verdicts += await platform.check(settings)
            except TimeoutError:
                verdicts.append(Verdict(platform.title, False, "no answer in time"))
        else:
            verdicts.append(Verdict(platform.title, None, "not configured"))
    if not configured:
        verdicts.append(Verdict("platforms", False, "no chat platform is configured"))
    return verdicts
