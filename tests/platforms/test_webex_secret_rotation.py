"""Rotating the Webex webhook secret without refusing a delivery: with the new secret in
DISTANSMOTE_WEBEX_WEBHOOK_SECRET and the old in DISTANSMOTE_WEBEX_WEBHOOK_SECRET_PREVIOUS, requests
signed with either are handled, before and after `webex setup` re-signs the webhooks; any other
signature is still refused (docs/webex.md, "Rotate the secret")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.platforms.webex.webhooks import WEBHOOK_EVENTS, setup_webhooks
from tests.conftest import RunningCms, make_settings
from tests.fakes.webex import Delivery, WebexFake, sign
from tests.platforms.webex_harness import REGION_DOMAIN, SECRET, TOKEN, Harness

NEW_SECRET = "the-new-webhook-secret"
TARGET = "https://bot.region.example/webex/events"


@pytest.fixture
def settings(fake_webex: tuple[WebexFake, str], cms: RunningCms, tmp_path: Path) -> Settings:
    fake, url = fake_webex
    return make_settings(
        cms, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", webex_token=TOKEN, webex_webhook_secret=NEW_SECRET,
        webex_webhook_secret_previous=SECRET, webex_api_url=url, allowed_email_domains=(REGION_DOMAIN,),
    )


def signed_with(delivery: Delivery, secret: str) -> Delivery:
    return Delivery(delivery.envelope, delivery.body, {**delivery.headers, "X-Spark-Signature": sign(delivery.body,
                                                                                                     secret)})


async def test_both_secrets_verify_during_a_rotation_and_no_other(webex: Harness, nina: dict[str, Any]) -> None:
    for resource, event in WEBHOOK_EVENTS:
        webex.fake.add_webhook(name=f"{resource}/{event}", target_url=TARGET, resource=resource, event=event,
                               secret=SECRET)
    # Before `webex setup`: Webex still signs with the old secret.
    await webex.deliver(webex.fake.user_message(nina, "/distansmöte hjälp"))
    assert len(webex.fake.sent) == 1

    report = await setup_webhooks(webex.adapter.client, TARGET, NEW_SECRET)
    assert report == [f"updated the secret of {r}/{e} -> {TARGET}" for r, e in WEBHOOK_EVENTS]
    assert {hook["secret"] for hook in webex.fake.webhooks.values()} == {NEW_SECRET}
    # After it: deliveries signed with the new secret, and any old one still in flight.
    await webex.deliver(signed_with(webex.fake.user_message(nina, "/distansmöte hjälp"), NEW_SECRET))
    await webex.deliver(signed_with(webex.fake.user_message(nina, "/distansmöte hjälp"), SECRET))
    assert len(webex.fake.sent) == 3

    forged = signed_with(webex.fake.user_message(nina, "/distansmöte hjälp"), "neither-secret")
    assert await webex.post(forged) == 401
    await webex.adapter.drain()
    assert len(webex.fake.sent) == 3
