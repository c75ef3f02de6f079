"""The routine in a real browser: Debian's Chromium, driven by Playwright, on the demo page.

It starts the demo in-process on a free 127.0.0.1 port, walks the routine as a member of staff
would, and takes a screenshot of each step (``UPDATE_SCREENSHOTS=1`` saves them under
docs/screenshots/ for README). Deselect it with ``-m "not browser"``. Without Chromium it is
skipped with the reason, except in CI, where it fails.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from bot.clock import ManualClock
from bot.demo.runner import UNITS, start_demo
from bot.demo.users import DEMO_USERS
from cards import texts
from tests.demo.conftest import break_the_store

if TYPE_CHECKING:  # imported lazily below, so that a missing playwright skips instead of erroring
    from playwright.async_api import ConsoleMessage, Locator, Page, Request, Response

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright never downloads a browser here
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ANNA, ERIK, _MARIA = DEMO_USERS
UNIT = "HC Torsås"
ROOM = "HC Torsås 1"
RECIPIENT = "Kommunen – hemtjänsten"


def _unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{reason}; CI must run the browser test (`make test` installs Chromium)")
    pytest.skip(reason)


def _chromium() -> Path:
    if not CHROMIUM.is_file():
        _unavailable(f"Debian's chromium is not installed at {CHROMIUM} (`make test` installs it)")
    return CHROMIUM


@pytest.fixture
def expected_statuses() -> set[int]:
    """HTTP errors a test provokes on purpose; any other is a problem of the page."""
    return set()


@pytest.fixture
async def page(tmp_path: Path, expected_statuses: set[int]) -> AsyncIterator[Page]:
    chromium = _chromium()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("the Python package playwright is not installed (`pip install -e '.[test]'`)")
    # A fixed Wednesday morning in Stockholm, so every run shows the same dates.
    clock = ManualClock(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    demo = await start_demo(0, tmp_path / "demo-data", clock=clock)
    try:
        async with async_playwright() as playwright:
            # Date and time fields follow the browser's language (LANGUAGE, with chromium-l10n).
            browser = await playwright.chromium.launch(
                executable_path=chromium, args=CHROMIUM_FLAGS, env={**os.environ, "LANGUAGE": "sv_SE:sv"},
            )
            context = await browser.new_context(
                viewport={"width": 1280, "height": 900}, locale="sv-SE", timezone_id="Europe/Stockholm",
            )
            page = await context.new_page()
            problems = _watch(page, demo.url, expected_statuses)
            await page.goto(demo.url)
            yield page
            await browser.close()
        assert problems == [], "the page failed or reached beyond the demo server"
    finally:
        await demo.close()


def _watch(page: Page, origin: str, expected_statuses: set[int]) -> list[str]:
    """Collect script errors, console errors and any request that leaves the demo server."""
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        # The browser reports each error status in the console too.
        if message.type == "error" and not any(f"status of {status} " in message.text for status in expected_statuses):
            problems.append(f"console: {message.text}")

    def request(request: Request) -> None:
        if not request.url.startswith(origin):
            problems.append(f"left the demo server: {request.url}")

    def response(response: Response) -> None:
        if response.status >= 400 and response.status not in expected_statuses:
            problems.append(f"HTTP {response.status}: {response.url}")

    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", console)
    page.on("request", request)
    page.on("response", response)
    return problems


async def _shot(page: Page, name: str) -> None:
    """Each step's screenshot; written to docs/screenshots only when asked, so a run leaves the tree clean."""
    if not os.environ.get("UPDATE_SCREENSHOTS"):
        assert await page.screenshot()
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / name)


def _latest_card(page: Page) -> Locator:
    return page.locator(".message.from-bot .ac-adaptiveCard").last


async def _this_card(page: Page) -> Locator:
    """The latest card as it is now, still the same card after others arrive."""
    cards = page.locator(".message.from-bot .ac-adaptiveCard")
    return cards.nth(await cards.count() - 1)


async def _say(page: Page, text: str) -> None:
    await page.get_by_label("Meddelande till Distansmöte").fill(text)
    await page.get_by_role("button", name="Skicka", exact=True).click()


async def test_the_routine_from_new_meeting_to_deleted_room(page: Page) -> None:
    from playwright.async_api import expect

    banner = page.get_by_role("note")
    await expect(banner).to_contain_text("Lokal demo – inga riktiga möten skapas")
    await expect(page.get_by_label("Du är")).to_have_value(ANNA.id)
    rooms = page.locator("#rooms .room-name")
    await expect(page.locator("#rooms-empty")).to_be_visible()

    # 1. /distansmöte ny answers with the new-meeting card.
    await _say(page, "/distansmöte ny")
    card = _latest_card(page)
    await expect(card).to_contain_text(texts.NEW_MEETING_TITLE)
    await _shot(page, "01-ny.png")

    # 2. Fill it in: unit, date, start, length.
    unit = card.get_by_label(texts.UNIT_LABEL)  # the demo's list of units (DISTANSMOTE_UNITS): a choice
    await expect(unit.locator("option")).to_contain_text(list(UNITS))
    await unit.select_option(label=UNIT)
    await card.get_by_label(texts.DATE_LABEL).fill("2026-11-26")
    await card.get_by_label(texts.START_LABEL).fill("10:00")
    await card.get_by_label(texts.LENGTH_LABEL).select_option(label="45 minuter")
    await card.get_by_label(texts.PATIENT_JOINS_LABEL).select_option(label=texts.PATIENT_JOINS["video_room"])
    await card.get_by_label(texts.START_LABEL).blur()
    await _shot(page, "02-kortet-ifyllt.png")

    # 3. Create the room: the card says so, the invitation follows, the server has the room.
    await card.get_by_role("button", name=texts.CREATE_ROOM).click()
    invitation = page.locator(".message.from-bot").filter(has_text="Videoadress: hc.torsas.1@")
    await expect(invitation).to_be_visible()
    meeting = _latest_card(page)
    await expect(meeting).to_contain_text(texts.ROOM_CREATED_TITLE)
    await expect(meeting).to_contain_text("torsdag 2026-11-26 kl. 10.00–10.45")
    await expect(invitation).to_contain_text(texts.PATIENT_JOINS_LEAD["video_room"])
    await expect(invitation).not_to_contain_text(texts.MUNICIPALITY_NEEDS)
    await expect(rooms).to_have_text([ROOM])
    await expect(meeting).to_contain_text(texts.ROOM_IN_CISCO_MEETING)  # Anna is a Cisco Meeting user: hers
    await _shot(page, "03-rummet-skapat.png")

    # 4. Add a recipient (no personal data: an organisation and a role).
    await meeting.get_by_label(texts.RECIPIENT_ROLE_LABEL).select_option(label=RECIPIENT)
    await meeting.get_by_label(texts.CHANNELS["link"]).check()
    await meeting.get_by_role("button", name=texts.ADD_RECIPIENT).click()
    updated = _latest_card(page)
    await expect(updated).to_contain_text(f"{texts.CHANNELS['link']} – {texts.NOT_SENT}")
    await _shot(page, "04-mottagare.png")

    # 5. Mark it sent, 6. and confirmed.
    await updated.get_by_role("button", name=texts.MARK_SENT, exact=True).click()
    sent_at = f"{texts.CHANNELS['link']} – {texts.SENT_AT.format(time='')}"
    sent = re.compile(re.escape(sent_at) + r"2026-11-25")
    await expect(_latest_card(page)).to_contain_text(sent)
    await _shot(page, "05-skickat.png")

    await _latest_card(page).get_by_role("button", name=texts.MARK_CONFIRMED).click()
    await expect(_latest_card(page)).to_contain_text(texts.CONFIRMED_AT.format(time="2026-11-25"))
    await _shot(page, "06-bekraftat.png")

    # 7. Someone else may not delete Anna's room.
    await page.get_by_label("Du är").select_option(ERIK.id)
    await expect(page.locator("#messages .message")).to_have_count(0)
    await _say(page, f"/distansmöte ta bort {ROOM}")
    await expect(page.locator(".message.from-bot").last).to_contain_text(texts.ERRORS["not_allowed"])
    await expect(rooms).to_have_text([ROOM])
    await _shot(page, "07-annan-anvandare-nekas.png")

    # 8. Back as Anna (her chat is still there). A call starts in the room (the side panel plays
    # the participants); deleting asks first and warns that the call would end.
    await page.get_by_label("Du är").select_option(ANNA.id)
    await expect(_latest_card(page)).to_contain_text(texts.CONFIRMED_AT.format(time="2026-11-25"))
    await page.get_by_role("button", name="Starta ett samtal").click()
    await expect(page.locator("#rooms .room-in-call")).to_have_text("Samtal pågår i rummet")
    for way in ("Anslut via webbläsare", "Ring in"):  # and one more by each of the other ways
        await page.get_by_role("button", name=way).click()
    await expect(page.locator("#rooms .room-joined")).to_have_text(
        "4 anslutna: 2 via videosystem, 1 via webbläsare, 1 via telefon")
    await _latest_card(page).get_by_role("button", name=texts.DELETE_ROOM).click()
    question = _latest_card(page)
    await expect(question).to_contain_text(texts.DELETE_CONFIRM_TITLE.format(room=ROOM))
    await expect(question).to_contain_text(texts.DELETE_CALL_ACTIVE)
    await _shot(page, "08-ta-bort.png")

    # 9. End the call and delete: the room is gone from the server.
    await question.get_by_role("button", name=texts.DELETE_YES_END_CALL, exact=True).click()
    await expect(_latest_card(page)).to_contain_text(texts.DELETED_TITLE)
    await expect(rooms).to_have_count(0)
    await expect(page.locator("#rooms-empty")).to_be_visible()
    await _shot(page, "09-rummet-borttaget.png")



async def test_a_meeting_asked_about_moved_handed_over_and_cancelled(page: Page) -> None:
    from playwright.async_api import expect

    rooms = page.locator("#rooms .room-name")
    await _say(page, "/distansmöte ny")
    card = _latest_card(page)
    await card.get_by_label(texts.UNIT_LABEL).select_option(label=UNIT)
    await card.get_by_label(texts.DATE_LABEL).fill("2026-11-26")
    await card.get_by_label(texts.START_LABEL).fill("10:00")
    await card.get_by_role("button", name=texts.CREATE_ROOM).click()
    await expect(rooms).to_have_text([ROOM])
    await expect(_latest_card(page)).to_contain_text(texts.ROOM_CREATED_TITLE)
    room_card = await _this_card(page)

    # 10. Someone joins from a video system; "Har alla anslutit?" from Fler val counts them.
    await page.get_by_role("button", name="Anslut via videosystem").click()
    await expect(page.locator("#rooms .room-joined")).to_have_text(
        "1 ansluten: 1 via videosystem, 0 via webbläsare, 0 via telefon")
    await room_card.get_by_role("button", name=texts.MORE).click()
    await expect(_latest_card(page)).to_contain_text(texts.MORE_TITLE.format(room=ROOM))
    await _latest_card(page).get_by_role("button", name=texts.JOIN_CHECK_ASK).click()
    await expect(_latest_card(page)).to_contain_text(texts.JOIN_CHECK_ALL.format(joined=1, expected=1))
    await _shot(page, "10-har-alla-anslutit.png")

    # 11. Move it to Friday at nine: the room card says from when, the new invitation follows.
    await room_card.get_by_role("button", name=texts.MORE).click()
    more = _latest_card(page)
    await more.get_by_label(texts.DATE_LABEL).fill("2026-11-27")
    await more.get_by_label(texts.START_LABEL).fill("09:00")
    await more.get_by_role("button", name=texts.MOVE, exact=True).click()
    await expect(page.locator(".message.from-bot").last).to_contain_text("NY TID")
    moved = await _this_card(page)
    await expect(moved).to_contain_text("fredag 2026-11-27 kl. 09.00–10.00")
    await expect(moved).to_contain_text(texts.MOVED_NOTE.format(was="torsdag 2026-11-26 kl. 10.00–11.00"))
    await _shot(page, "11-flyttat.png")

    # 12. Hand it over to Erik, found by name.
    await moved.get_by_role("button", name=texts.MORE).click()
    more = _latest_card(page)
    await more.get_by_label(texts.COLLEAGUE_LABEL).fill("Erik")
    await more.get_by_role("button", name=texts.FIND_COLLEAGUE).click()
    question = _latest_card(page)
    await expect(question).to_contain_text(ERIK.name)
    await question.get_by_role("button", name=texts.HAND_OVER, exact=True).click()
    await expect(_latest_card(page)).to_contain_text(texts.HANDED_OVER_TEXT.format(name=ERIK.name, room=ROOM))
    await _shot(page, "12-overlamnat.png")

    # 13. Erik has the room card now; 14. he cancels the meeting, ending the call.
    await page.get_by_label("Du är").select_option(ERIK.id)
    await expect(_latest_card(page)).to_contain_text(f"{ANNA.name} har lämnat över mötesrummet till dig")
    given = await _this_card(page)
    await _shot(page, "13-eriks-rum.png")
    await given.get_by_role("button", name=texts.MORE).click()
    await _latest_card(page).get_by_role("button", name=texts.CANCEL_MEETING).click()
    question = _latest_card(page)
    await expect(question).to_contain_text(texts.CANCEL_CONFIRM_TITLE.format(room=ROOM))
    await question.get_by_role("button", name=texts.CANCEL_YES_END_CALL).click()
    await expect(_latest_card(page)).to_contain_text(texts.CANCELLED_TITLE)
    await expect(rooms).to_have_count(0)
    await _shot(page, "14-installt.png")

    # 15. The admin's per-room report shows it moved and cancelled.
    await page.get_by_label("Du är").select_option(_MARIA.id)
    await _say(page, "/distansmöte rapport rum")
    report = _latest_card(page)
    await expect(report).to_contain_text(texts.ROOMS_REPORT_TITLE)
    await expect(report).to_contain_text(texts.ROOMS_REPORT_CANCELLED)
    await expect(report).to_contain_text(texts.ROOMS_REPORT_TIMES.format(n=1))
    await _shot(page, "15-rapport-rum.png")

async def test_when_the_database_fails_the_page_says_so_in_swedish(page: Page, tmp_path: Path,
                                                                    expected_statuses: set[int]) -> None:
    from playwright.async_api import expect

    await _say(page, "/distansmöte hjälp")
    await expect(_latest_card(page)).to_contain_text(texts.HELP_TITLE)
    expected_statuses.add(503)
    break_the_store(tmp_path / "demo-data", broken=True)
    await _say(page, "/distansmöte hjälp")
    await expect(page.locator(".message.from-bot").last).to_have_text(re.compile(re.escape(texts.DEMO_STORE_DOWN)))
    await expect(page.locator("#status")).to_have_text("")
