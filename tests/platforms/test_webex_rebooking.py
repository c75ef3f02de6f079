"""Move, hand over and cancel a meeting on Webex: signed webhooks in, the real SDK out to the fake API."""

from __future__ import annotations

from typing import Any

from cards import texts
from tests.conftest import RunningCms
from tests.platforms.webex_harness import REGION_DOMAIN, Harness, click, create_room, latest_card


async def test_move_hand_over_and_cancel_through_signed_webhooks(webex: Harness, nina: dict[str, Any],
                                                                  cms: RunningCms) -> None:
    fake = webex.fake
    kalle = fake.add_person("Kalle Kollega", f"kalle@{REGION_DOMAIN}")
    await webex.deliver(fake.user_message(kalle, "/distansmöte hjälp"))
    await webex.deliver(fake.user_message(nina, "/distansmöte ny"))
    await create_room(webex, nina, latest_card(webex, nina))
    room_card = latest_card(webex, nina)

    await click(webex, nina, room_card, texts.MORE)
    more = latest_card(webex, nina)
    assert more.markdown == texts.MORE_TITLE.format(room="HC Torsås 1") and room_card.id not in fake.deleted
    await click(webex, nina, more, texts.MOVE, date="2026-11-27", start="09:00", length="60")
    moved_card, invitation = fake.sent_to(person_id=nina["id"])[-2:]
    assert more.id in fake.deleted  # the Fler val card gave way to the room card at its new time
    assert (invitation.markdown or "").startswith("NY TID")
    assert "fredag 2026-11-27 kl. 09.00–10.00" in (invitation.markdown or "")

    await click(webex, nina, moved_card, texts.MORE)
    more = latest_card(webex, nina)
    await click(webex, nina, more, texts.FIND_COLLEAGUE, colleague=f"kalle@{REGION_DOMAIN}")
    await click(webex, nina, latest_card(webex, nina), texts.HAND_OVER)
    assert fake.sent_to(person_id=nina["id"])[-1].markdown == texts.HANDED_OVER_TEXT.format(
        name="Kalle Kollega", room="HC Torsås 1")
    given = latest_card(webex, kalle)
    assert given.markdown == "HC Torsås 1" and given.room_type == "direct"

    await click(webex, kalle, given, texts.MORE)
    await click(webex, kalle, latest_card(webex, kalle), texts.CANCEL_MEETING)
    await click(webex, kalle, latest_card(webex, kalle), texts.CANCEL_YES)
    assert fake.sent_to(person_id=kalle["id"])[-1].markdown == texts.CANCELLED_TITLE
    assert cms.simulator.snapshot() == []
    assert all(m.room_type == "direct" for m in fake.sent)


async def test_webex_people_search_offers_allowed_people_by_a_names_start_and_says_when_it_cannot_search(
        webex: Harness, nina: dict[str, Any], cms: RunningCms) -> None:
    fake = webex.fake
    karin = fake.add_person("Karin Ek", f"karin.ek@{REGION_DOMAIN}")
    fake.add_person("Karl Utomstående", "karl@elsewhere.example", org_id="OTHER-ORG")
    await webex.deliver(fake.user_message(nina, "/distansmöte ny"))
    await create_room(webex, nina, latest_card(webex, nina))
    await click(webex, nina, latest_card(webex, nina), texts.MORE)
    more = latest_card(webex, nina)

    fake.fail_next(503, path="people", count=6)
    await click(webex, nina, more, texts.FIND_COLLEAGUE, colleague="kar")
    assert fake.sent_to(person_id=nina["id"])[-1].markdown == texts.ERRORS["people_search_unavailable"]

    await click(webex, nina, more, texts.FIND_COLLEAGUE, colleague="kar")  # the card stayed: try again
    offered = latest_card(webex, nina)
    [choice] = next(e for e in (offered.card or {})["body"] if e.get("id") == "to")["choices"]
    assert choice == {"title": "Karin Ek", "value": f"webex:{karin['id']}"}  # not the one outside the region

    # The card offered only Karin; a forged submission naming someone else is checked against Webex.
    await click(webex, nina, offered, texts.HAND_OVER, to="webex:nobody-at-all")
    assert fake.sent_to(person_id=nina["id"])[-1].markdown == texts.ERRORS["no_colleague_found"]
