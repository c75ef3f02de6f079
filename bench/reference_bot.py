"""The bare reference the webhook benchmark measures the bot against (``bench/webhooks.py``).

The least a Webex bot can do with the same tools: aiohttp for the webhook, the synchronous
``webexpythonsdk`` in a pool of eight threads (one ``WebexAPI`` per thread, as the bot does).
It verifies the signature, answers 200, then fetches the message and posts a text reply to
its sender. No store, no allowlist, no dedupe, no cards.

    .venv/bin/python bench/reference_bot.py --port 8090 --api-url http://127.0.0.1:8091/v1/ \\
        --token TOKEN --secret SECRET
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web
from webexpythonsdk import WebexAPI

REPLY = "Hej! Så här använder du Distansmöte."


class ReferenceBot:
    def __init__(self, token: str, api_url: str, secret: str, workers: int) -> None:
        self._token, self._api_url, self._secret = token, api_url, secret.encode()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webex")
        self._local = threading.local()
        self._tasks: set[asyncio.Task[None]] = set()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webex/events", self._receive)
        return app

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        expected = hmac.new(self._secret, body, hashlib.sha1).hexdigest().encode()
        if not hmac.compare_digest(expected, request.headers.get("X-Spark-Signature", "").encode()):
            return web.json_response({"error": "invalid signature"}, status=401)
        message_id = json.loads(body)["data"]["id"]
        task = asyncio.create_task(self._answer(message_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"status": "accepted"})

    async def _answer(self, message_id: str) -> None:
        loop = asyncio.get_running_loop()
        message = await loop.run_in_executor(self._pool, lambda: self._api().messages.get(message_id))
        await loop.run_in_executor(
            self._pool, lambda: self._api().messages.create(toPersonId=message.personId, text=REPLY))

    def _api(self) -> Any:
        api = getattr(self._local, "api", None)
        if api is None:
            api = self._local.api = WebexAPI(access_token=self._token, base_url=self._api_url,
                                             wait_on_rate_limit=False)
        return api


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True, help="the Webex API base, ending in /v1/")
    parser.add_argument("--token", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    bot = ReferenceBot(args.token, args.api_url, args.secret, args.workers)
    web.run_app(bot.app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
