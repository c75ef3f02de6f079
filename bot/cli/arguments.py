"""What the commands share: the sub-command builder and the argument types."""

from __future__ import annotations

import argparse
from datetime import date, datetime


def command(commands: argparse._SubParsersAction, name: str, summary: str, *, details: str = "",
            ) -> argparse.ArgumentParser:
    """A sub-command whose own --help starts with the line shown in its parent's list."""
    return commands.add_parser(name, help=summary, description=f"{summary[0].upper()}{summary[1:]}. {details}".strip())


def moment(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a moment is YYYY-MM-DD or YYYY-MM-DDTHH:MM, e.g. 2026-11-01T08:00") from None


def port_number(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError("a port is 0-65535 (0 picks a free one)")
    return number


# argparse names the type in its message for a value that is not a number: "invalid _port value: 'x'".
port_number.__name__ = "_port"


def day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a date is YYYY-MM-DD, e.g. 2026-11-01") from None
