"""What the demo's tests share."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path


def break_the_store(data_dir: Path, *, broken: bool) -> None:
    """What a full disk does to the bot: its writes fail. Here the table every event is recorded
    in goes away (and comes back), changed through a connection of its own as any tool would."""
    names = ("inbound_event", "inbound_event_away") if broken else ("inbound_event_away", "inbound_event")
    with contextlib.closing(sqlite3.connect(data_dir / "demo.db")) as connection:
        connection.execute(f"ALTER TABLE {names[0]} RENAME TO {names[1]}")
        connection.commit()
