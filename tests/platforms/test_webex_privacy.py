"""A personnummer typed into Webex, in the spellings that used to get through: refused, and in
nothing Webex receives, nothing stored and nothing on the CMS."""

from __future__ import annotations

from typing import Any

import pytest

from cards import texts
from tests.conftest import RunningCms
from tests.platforms.webex_harness import Harness, click, latest_card
from tests.reading import shows_number
from tests.store.rows import everything_stored

NUMBER = "8507099805"
SPELLINGS = ["850709 - 9805", "85 07 09-9805", "850709\u20139805", "850709\u00a09805",
             "\uff18\uff15\uff10\uff17\uff10\uff19\uff19\uff18\uff10\uff15", "850709-9806"]


def _shown_to_webex(webex: Harness) -> list[Any]:
    return [[m.text, m.markdown, m.attachments] for m in webex.fake.sent]


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_a_number_typed_in_webex_is_refused_and_goes_nowhere(
        webex: Harness, nina: dict[str, Any], cms: RunningCms, spelling: str) -> None:
    digits = NUMBER if spelling != "850709-9806" else "8507099806"
    group = webex.fake.group_room(nina["id"])
    await webex.deliver(webex.fake.user_message(nina, f"/distansmöte ny {spelling}", room_id=group))
    await webex.deliver(webex.fake.user_message(nina, "/distansmöte ny"))
    form = latest_card(webex, nina)
    await click(webex, nina, form, texts.CREATE_ROOM, unit=f"HC Torsås {spelling}", date="2026-11-26",
                 start="13:30", length="60")

    refusals = [m for m in webex.fake.sent if m.markdown == texts.PERSONAL_NUMBER_REFUSED]
    assert len(refusals) == 2 and all(m.room_type == "direct" for m in refusals)
    assert form.id not in webex.fake.deleted  # the card stays, to be corrected
    assert cms.simulator.snapshot() == []
    assert not shows_number(digits, _shown_to_webex(webex), await everything_stored(webex.services))
