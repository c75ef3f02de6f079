"""A bot process for the process tests: the services on a database, with a platform that writes to a file.

    python tests/processes/reminder_worker.py DATABASE_URL NOW MODE OUTFILE [LATENCY]

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
from collections.abc import Sequence
from datetime import datetime

from bot.clock import ManualClock
from bot.config import Settings
from bot.core import Platform as CorePlatform
from bot.core import Reply
from bot.runtime import open_services


async def main(url: str, now: str, mode: str, outfile: str, latency: float) -> None:
    # Start reminders never call the CMS: its address goes nowhere.
    settings = Settings(_env_file=None, database_url=url, cms_url="http://127.0.0.1:9/api/v1/",  # type: ignore[call-arg]
                        cms_username="worker", cms_password="worker")

    class Platform:
        """Writes each reminder's text to ``outfile``; ``mode`` blocks before or after that."""

        platform = CorePlatform("memory")
        ready = True

        def install(self, app: object, host: object) -> None:
            pass

        async def send_direct(self, person: object, replies: Sequence[Reply]) -> None:
            if mode == "block":
                print("sending", flush=True)
                await asyncio.Event().wait()
            with open(outfile, "a", encoding="utf-8") as out:  # noqa: ASYNC230 - a line, as a platform's log
                out.writelines(reply.text + "\n" for reply in replies)
            if mode == "send-then-block":
                print("sending", flush=True)
                await asyncio.Event().wait()
            await asyncio.sleep(latency)  # a platform's round trip

        async def send_to_identity(self, identity: str, replies: Sequence[Reply]) -> None:
            await self.send_direct(identity, replies)

    services = await open_services(settings, clock=ManualClock(datetime.fromisoformat(now)), adapters=[Platform()])
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    count = await services.reminders.run_due()
    print(f"done {count}", flush=True)
    await services.close()


if __name__ == "__main__":
    signal.alarm(120)  # never outlive a test run that lost track of this process
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    url, now, mode, outfile, *rest = sys.argv[1:]
    asyncio.run(main(url, now, mode, outfile, float(rest[0]) if rest else 0.0))
