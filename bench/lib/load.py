"""The open-loop load: signed ``messages/created`` webhooks on a fixed schedule, replies counted at the fake API."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bench.lib.host import backends_cpu_since, cpu_seconds, database_backends_cpu, reset_peak, status_kib
from bench.lib.processes import HOST, Program
from bench.lib.stats import Step
from bench.lib.webex_fake import APP_ID, BOT_ID, ORG_ID, SECRET, WEBHOOK_ID, webex_id


def envelope(number: int) -> bytes:
    """A ``messages/created`` delivery as Webex signs it: ids only, no text."""
    return json.dumps({
        "id": WEBHOOK_ID, "name": "Distansmöte messages/created", "targetUrl": "https://bot.region.example/webex/events",
        "resource": "messages", "event": "created", "filter": None, "orgId": ORG_ID, "createdBy": BOT_ID,
        "appId": APP_ID, "ownedBy": "creator", "status": "active", "created": "2026-01-01T00:00:00.000Z",
        "actorId": webex_id("PEOPLE", number),
        "data": {"id": webex_id("MESSAGE", number), "roomId": webex_id("ROOM", number), "roomType": "direct",
                 "personId": webex_id("PEOPLE", number), "personEmail": f"person{number}@region.example",
                 "created": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")},
    }, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Load:
    session: aiohttp.ClientSession
    fake_url: str
    next_number: int = 1
    quiet: float = 10.0
    max_wait: float = 180.0

    async def step(self, program: Program, rate: float, count: int) -> Step:
        first = self.next_number
        self.next_number += count
        bodies = [envelope(n) for n in range(first, first + count)]
        signed = [(body, {"Content-Type": "application/json",
                          "X-Spark-Signature": hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()})
                  for body in bodies]
        url = f"http://{HOST}:{program.port}/webex/events"
        sent_at = [0.0] * count
        answer = [math.nan] * count
        accepted = 0

        async def post(index: int) -> None:
            nonlocal accepted
            body, headers = signed[index]
            sent_at[index] = time.monotonic()
            try:
                async with self.session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    answer[index] = time.monotonic() - sent_at[index]
                    accepted += response.status == 200
            except Exception:  # noqa: BLE001 - counted as not accepted
                answer[index] = time.monotonic() - sent_at[index]

        peak_per_step = reset_peak(program.pid)
        cpu_before = cpu_seconds(program.pid)
        db_before = database_backends_cpu(program.database) if program.database else None
        start = time.monotonic()
        tasks = []
        for index in range(count):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(index)))
        await asyncio.gather(*tasks)
        times = await self._replies(first, first + count - 1)
        cpu = cpu_seconds(program.pid) - cpu_before
        db_cpu = backends_cpu_since(program.database, db_before) if program.database and db_before is not None else None
        extra = (await self._query(first, first + count - 1))["extra"]
        latency = [times[n] - sent_at[n - first] for n in times]
        last = max(times.values(), default=start)
        return Step(program.name, rate, count, accepted, len(times), extra, last - sent_at[0], latency,
                    [a for a in answer if not math.isnan(a)], cpu, db_cpu, status_kib(program.pid, "VmHWM"),
                    peak_per_step)

    async def _query(self, first: int, last: int, times: bool = False) -> dict[str, Any]:
        query = f"first={first}&last={last}" + ("&times=1" if times else "")
        async with self.session.get(f"{self.fake_url}/bench/replies?{query}") as response:
            return await response.json()  # type: ignore[no-any-return]

    async def _replies(self, first: int, last: int) -> dict[int, float]:
        """Wait until every reply came, or none came for ``quiet`` seconds; their arrival times."""
        expected = last - first + 1
        seen, changed = -1, time.monotonic()
        deadline = changed + self.max_wait
        while time.monotonic() < deadline:
            count = (await self._query(first, last))["count"]
            if count == expected:
                break
            if count != seen:
                seen, changed = count, time.monotonic()
            elif time.monotonic() - changed > self.quiet:
                break
            await asyncio.sleep(0.05)
        return {int(n): t for n, t in (await self._query(first, last, times=True))["times"].items()}
