"""A bot process for the process tests: one ReminderService on a database, and nothing else.

    python tests/reminder_worker.py DATABASE_URL NOW MODE OUTFILE [LATENCY]

MODE ``record`` appends each reminder's text to OUTFILE; ``block`` says "sending" and hangs
before sending (killed between claim and send); ``send-then-block`` records, says "sending" and
hangs (killed between send and commit). The clock is fixed at NOW (ISO 8601). The worker prints
"ready", waits for a line on stdin, runs ``run_due`` once and prints "done <count>".
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import datetime
from typing import cast

from bot.clock import ManualClock
from bot.config import Settings
from bot.core import Reply
from bot.db import create_engine, sessionmaker
from bot.services.cms import CmsClient
from bot.services.meetings import MeetingService
from bot.services.reminders import ReminderPlanner, ReminderService
from cards.reminders import render


async def main(url: str, now: str, mode: str, outfile: str, latency: float) -> None:
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    clock = ManualClock(datetime.fromisoformat(now))
    engine = create_engine(url)
    sessions = sessionmaker(engine)
    # Start reminders never call the CMS.
    meetings = MeetingService(sessions, cast(CmsClient, None), clock, settings, ReminderPlanner(settings))

    async def notify(platform: str, person_id: str, reply: Reply) -> None:
        if mode == "block":
            print("sending", flush=True)
            await asyncio.Event().wait()
        with open(outfile, "a", encoding="utf-8") as out:
            out.write(reply.text + "\n")
        if mode == "send-then-block":
            print("sending", flush=True)
            await asyncio.Event().wait()
        await asyncio.sleep(latency)  # a platform's round trip

    reminders = ReminderService(sessions, clock, settings, meetings, notify, render=render)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    count = await reminders.run_due()
    print(f"done {count}", flush=True)
    await engine.dispose()


if __name__ == "__main__":
    signal.alarm(120)  # never outlive a test run that lost track of this process
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    url, now, mode, outfile, *rest = sys.argv[1:]
    asyncio.run(main(url, now, mode, outfile, float(rest[0]) if rest else 0.0))
