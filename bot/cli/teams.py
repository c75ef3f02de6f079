"""``distansmote teams``: the Teams operator's commands (the app package)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.arguments import command
from bot.platforms.registry import load_settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    teams = command(commands, "teams", "Microsoft Teams operator commands",
                    details="They touch no database and no Teams service.")
    teams_commands = teams.add_subparsers(dest="teams_command", required=True, metavar="ACTION")
    teams_package = command(teams_commands, "package", "write the Teams app package (manifest.json and both "
                            "icons in a zip)", details="Upload it in the Teams admin center, or in Teams itself "
                            "where custom apps are allowed. Its privacy, terms and website links are the bot's "
                            "own /privacy and /terms pages at DISTANSMOTE_PUBLIC_URL unless given.")
    teams_package.add_argument("--app-id", required=True,
                               help="the Azure Bot's Microsoft App ID (DISTANSMOTE_TEAMS_APP_ID), a GUID")
    teams_package.add_argument("--out", type=Path, default=Path("distansmote-teams.zip"),
                               help="where to write the zip (default ./distansmote-teams.zip)")
    teams_package.add_argument("--developer-name", help="publisher shown in Teams (at most 32 characters)")
    for flag, page in (("website", "/privacy"), ("privacy", "/privacy"), ("terms-of-use", "/terms")):
        teams_package.add_argument(f"--{flag}-url", help=f"the region's {flag.replace('-', ' ')} page (https://...; "
                                   f"default the bot's own {page} at DISTANSMOTE_PUBLIC_URL)")
    teams_package.set_defaults(run=_teams_package)


def _teams_package(args: argparse.Namespace) -> int:
    from bot.platforms.teams.package import manifest, write_package

    developer = {"name": args.developer_name, "websiteUrl": args.website_url, "privacyUrl": args.privacy_url,
                 "termsOfUseUrl": args.terms_of_use_url}
    out = write_package(args.out, manifest(args.app_id, developer=developer, public_url=load_settings().public_url))
    print(f"Teams app package written to {out}")
    return 0
