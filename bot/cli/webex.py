"""``distansmote webex``: the Webex operator's commands (the webhooks)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.cli.arguments import command
from bot.config import ConfigError
from bot.platforms.registry import load_settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    webex = command(commands, "webex", "Webex operator commands",
                    details="Use DISTANSMOTE_WEBEX_TOKEN and DISTANSMOTE_WEBEX_WEBHOOK_SECRET; touch no database.")
    webex_commands = webex.add_subparsers(dest="webex_command", required=True, metavar="ACTION")
    webex_setup = command(webex_commands, "setup", "create or repair the bot's two webhooks (messages, card "
                          "submissions)", details="Signs them with DISTANSMOTE_WEBEX_WEBHOOK_SECRET and "
                          "reactivates disabled ones; safe to run again.")
    webex_setup.add_argument("--url", type=_https_url,
                             help="the public HTTPS address of POST /webex/events, e.g. "
                             "https://bot.example.se/webex/events (default: /webex/events at DISTANSMOTE_PUBLIC_URL)")
    webex_setup.set_defaults(run=_webex_setup)


def _https_url(value: str) -> str:
    if not value.startswith("https://") or len(value) <= len("https://"):
        raise argparse.ArgumentTypeError("Webex delivers webhooks only to a public https:// address")
    return value


def _webex_setup(args: argparse.Namespace) -> int:
    from bot.platforms.webex.transport import WEBEX_ERRORS, describe_error
    from bot.platforms.webex.webhooks import setup_from_settings

    settings = load_settings()
    url = args.url or (f"{settings.public_url}/webex/events" if settings.public_url else None)
    if url is None:
        raise ConfigError("DISTANSMOTE_PUBLIC_URL: not set; give the webhooks' address with --url "
                          "https://<the bot>/webex/events, or set the bot's public address")
    try:
        report = asyncio.run(setup_from_settings(settings, url))
    except WEBEX_ERRORS as exc:
        print(f"distansmote webex setup: Webex refused or did not answer: {describe_error(exc)}", file=sys.stderr)
        return 1
    for line in report:
        print(line)
    return 0
