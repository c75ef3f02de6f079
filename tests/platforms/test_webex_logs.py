"""Log lines in JSON: one object a line, the webhook's request id carried to the reply, and none of
what a person typed, clicked or is called, nor a token, anywhere in any line."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.logs import OWN_LOGGERS, configure_logging
from cards import texts
from tests.platforms.webex_harness import REGION_DOMAIN, SECRET, TOKEN, Harness, click, latest_card

UNIT = "HC Torsås"
LABEL = "Kommunen – hemtjänsten"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    kept = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("json", "DEBUG", stream=stream, force=True)
    yield stream
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    for handler in kept[0]:
        root.addHandler(handler)
    root.setLevel(kept[1])
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_the_whole_routine_logs_json_with_request_ids_and_nothing_anyone_typed(
        webex: Harness, nina: dict[str, Any], clock: ManualClock, json_log: io.StringIO) -> None:
    fake = webex.fake
    typed = ["/distansmöte ny", "/distansmöte lista", "/distansmöte hjälp"]
    for text in typed:
        await webex.deliver(fake.user_message(nina, text))
    form = [m for m in fake.sent_to(person_id=nina["id"]) if m.card is not None][0]
    await click(webex, nina, form, texts.CREATE_ROOM, unit=UNIT, date="2026-11-26", start="13:30", length="60")
    room_card = latest_card(webex, nina)
    await click(webex, nina, room_card, texts.ADD_RECIPIENT, label=LABEL, channel="messenger")
    await click(webex, nina, latest_card(webex, nina), texts.MARK_SENT)

    # A reply that cannot be posted: the error line carries the id of the webhook that asked.
    fake.fail_next(503, count=6, method="POST", path="messages")
    await webex.deliver(fake.user_message(nina, "/distansmöte lista"))
    # Reminders, one of them failing once, then the deletion.
    clock.advance(timedelta(days=1, hours=5))
    fake.fail_next(503, method="POST", path="messages")
    await webex.services.reminders.run_due()
    clock.advance(timedelta(minutes=1))
    await webex.services.reminders.run_due()
    prompt = [m for m in fake.sent_to(person_id=nina["id"])
              if texts.DELETE_ROOM in json.dumps(m.card or {}, ensure_ascii=False)][-1]
    await click(webex, nina, prompt, texts.DELETE_ROOM)
    await click(webex, nina, latest_card(webex, nina), texts.DELETE_YES)
    assert fake.sent[-1].markdown == texts.DELETED_TEXT.format(room=f"{UNIT} 1")

    lines = _lines(json_log)  # every line is one JSON object
    assert len(lines) > 10
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)

    accepted = {line["request_id"] for line in lines if "delivery accepted" in line["message"]}
    [failed] = [line for line in lines if line["message"].startswith("Webex reply not delivered")]
    assert failed["request_id"] in accepted
    posted = [line for line in lines if line["message"] == "Webex reply posted"]
    assert posted and {line["request_id"] for line in posted} <= accepted
    retried = [line for line in lines if line["message"].startswith("reminder ") and "not delivered" in line["message"]]
    assert retried and retried[0]["request_id"] not in accepted

    # The one exception, for the operators: a room's creation and deletion name the room, whose name
    # is the unit's (a ward, not a person) and a number.
    room_lines = [line for line in lines if re.fullmatch(rf"room {UNIT} \d+ (created|deleted)( \(\w+\))?",
                                                          line["message"])]
    assert [line["message"] for line in room_lines] == [f"room {UNIT} 1 created", f"room {UNIT} 1 deleted"]
    everything_typed = [*typed, UNIT, LABEL, nina["emails"][0], nina["displayName"], TOKEN, SECRET, REGION_DOMAIN]
    for line in lines:
        text = json.dumps(line if line not in room_lines else {**line, "message": ""}, ensure_ascii=False)
        assert not [secret for secret in everything_typed if secret in text], line


def test_text_stays_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    kept = root.handlers[:]
    try:
        configure_logging(force=True)
        logging.getLogger("bot.test").warning("plain")
        assert capsys.readouterr().err.rstrip().endswith(" WARNING bot.test: plain")
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in kept:
            root.addHandler(handler)
