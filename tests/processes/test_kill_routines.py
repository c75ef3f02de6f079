"""50 routines against real bot processes, each step a signed webhook, killed with SIGKILL at
points of the whole routine: wherever the bot waits for Webex (the sender's lookup, a reply, the
old card's deletion) or for the CMS (making the room, reading it back, the active calls, the
deletion), each step at each of its points once, in routines drawn at random (a routine may end by
deleting the room, by moving the meeting, or by cancelling it); and at last while
it sends the start reminders. Each kill is followed by a
restart, the answer the killed step would have had, and the invariants, checked against the
database, the CMS and a sweep: no orphan room, no half-recorded meeting or deletion, no lost
command, no change made twice, no lost reminder.

Reproducible: the seed is printed on failure (``KILL_SEED=<n>`` repeats a run).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.clock import Alarm, ManualClock
from bot.config import Settings
from bot.core import PersonKey
from bot.services.cms import CmsClient
from bot.services.meetings import CDR_TAG_PREFIX, DELETE_WITHDRAWN, DELETING, LIVE_STATES
from bot.services.reconciler import reconcile
from bot.services.reminder_plan import START, ReminderPlanner
from bot.store.engine import create_engine, sessionmaker
from bot.store.queues import InboundJob
from bot.store.schema import AuditRecord, Meeting, Recipient, Reminder, RoomCreation, RoomDeletion
from cards import texts
from tests.fakes.webex import Delivery, SentMessage, WebexFake
from tests.harness import submission
from tests.processes.bot_process import DOMAIN, SECRET, TOKEN
from tests.processes.test_creation_processes import NOW, RESTART_WITHIN, BotProcess
from tests.waiting import eventually

ROUTINES = 50
LEASES_RUN_OUT = timedelta(seconds=31)  # the next start comes after the dead process's leases


@dataclass(frozen=True)
class KillPoint:
    """A request the bot waits on, held unanswered until the bot is killed."""

    service: str  # "webex" or "cms"
    method: str
    path: str  # Webex: a prefix below /v1/; CMS: a pattern below /api/v1/

    def hold(self, fake: WebexFake, cms: Any) -> None:
        if self.service == "webex":
            fake.hang_next(method=self.method, path=self.path)
        else:
            cms.simulator.hang(on=f"{self.method} {self.path}")

    def holding(self, fake: WebexFake, cms: Any) -> bool:
        return (fake.hanging if self.service == "webex" else cms.simulator.hanging) == 1

    async def release(self, fake: WebexFake, cms: Any) -> None:
        """Webex drops what it held; the CMS carries it out (a room made or deleted all the same)."""
        fake.release()
        cms.simulator.release()
        await cms.simulator.settled()

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"


REPLY = KillPoint("webex", "POST", "messages")
OLD_CARD = KillPoint("webex", "DELETE", "messages/")  # the new card is posted, the clicked one not yet gone
LOOKUP = KillPoint("webex", "GET", "people/")  # a card's sender, looked up once per process
CALLS = KillPoint("cms", "GET", "calls")
KILL_POINTS: dict[str, tuple[KillPoint, ...]] = {
    "new": (REPLY,),
    "create": (LOOKUP, KillPoint("cms", "POST", "coSpaces"), KillPoint("cms", "GET", "coSpaces/.+"), REPLY, OLD_CARD),
    "add": (REPLY, OLD_CARD),
    "sent": (REPLY, OLD_CARD),
    "confirmed": (REPLY, OLD_CARD),
    "ask delete": (CALLS, REPLY),
    "delete": (CALLS, KillPoint("cms", "DELETE", "coSpaces/.+"), REPLY, OLD_CARD),
    "more": (REPLY,),
    "move": (REPLY, OLD_CARD),
    "ask cancel": (CALLS, REPLY),
    "cancel": (CALLS, KillPoint("cms", "DELETE", "coSpaces/.+"), REPLY, OLD_CARD),
}
# After the recipient has confirmed: nothing more, delete the room, move the meeting (and maybe then
# delete), or cancel it.
ENDINGS = {"ask delete": "delete", "delete": "delete", "move": "move", "ask cancel": "cancel", "cancel": "cancel"}


def _last(messages: list[SentMessage], test: Callable[[SentMessage], bool]) -> SentMessage | None:
    found = [m for m in messages if test(m)]
    return found[-1] if found else None


def _room_card_and_invitation(messages: list[SentMessage]) -> SentMessage | None:
    card = _last(messages, lambda m: m.markdown == texts.ROOM_CREATED_TITLE)
    if card is None or not any(m.card is None for m in messages[messages.index(card):]):
        return None
    return card


def _plan(chance: random.Random) -> dict[int, tuple[str, KillPoint]]:
    """Every kill point of every step once, each in a routine of its own drawn at random."""
    points = [(step, point) for step, at in KILL_POINTS.items() for point in at]
    return dict(zip(chance.sample(range(1, ROUTINES + 1), len(points)), points, strict=True))


class Round:
    """The bot process of the moment, the fakes it talks to, and the kills so far."""

    def __init__(self, database_url: str, cms: Any, fake: WebexFake, webex_url: str, log: Path, seed: int) -> None:
        self.database_url, self.cms, self.fake, self.webex_url, self.log = database_url, cms, fake, webex_url, log
        self.chance = random.Random(seed)
        self.plan = _plan(self.chance)
        self.at = NOW
        self.bot: BotProcess | None = None
        self.kills: Counter[str] = Counter()
        self.answered_after: list[float] = []  # seconds from a restart until the killed step's answer

    async def start(self) -> BotProcess:
        self.bot = await BotProcess.start(self.database_url, self.cms.url, self.webex_url, self.at, self.log)
        return self.bot

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()

    async def kill_and_restart(self, point: KillPoint, counted_as: str | None = None) -> float:
        """Once the bot waits on ``point`` (held with :meth:`KillPoint.hold`): kill it, let ``point``
        go, and start the next process after the leases. Returns when the restart began
        (``time.monotonic()``)."""
        assert self.bot is not None
        await eventually(lambda: point.holding(self.fake, self.cms))
        await self.bot.kill_9()  # waits for the exit
        await point.release(self.fake, self.cms)
        self.kills[counted_as or str(point)] += 1
        self.at += LEASES_RUN_OUT
        restarted = time.monotonic()
        await self.start()
        return restarted

    async def step(self, delivery: Delivery, person: dict[str, Any],
                   answer: Callable[[list[SentMessage]], SentMessage | None], kill: KillPoint | None) -> SentMessage:
        """Post one step and wait for its answer; with ``kill``, die while waiting on it, restart
        after the leases, and wait for the same answer from the new process."""
        assert self.bot is not None
        before = len(self.fake.sent_to(person_id=person["id"]))

        def answered() -> SentMessage | None:
            return answer(self.fake.sent_to(person_id=person["id"])[before:])

        if kill is None:
            await self.bot.post(delivery)
            await eventually(lambda: answered() is not None)
        else:
            kill.hold(self.fake, self.cms)
            await self.bot.post(delivery)
            restarted = await self.kill_and_restart(kill)
            await eventually(lambda: answered() is not None, within=RESTART_WITHIN)
            self.answered_after.append(time.monotonic() - restarted)
            # The answer may have been posted before the kill: the job run again posts it once more.
            await _job_done(self.database_url, delivery)
            await _check_invariants(self.database_url, self.cms, self.at)
        message = answered()
        assert message is not None
        return message

    async def routine(self, n: int) -> None:
        """One person's routine: new card, create, add a recipient, sent, confirmed; then maybe delete,
        move (and maybe delete), or cancel."""
        fake, room = self.fake, f"HC Torsås {n}"
        person = fake.add_person(f"Person {n}", f"p{n}@{DOMAIN}")
        killed, at = self.plan.get(n, (None, None))
        ending = ENDINGS.get(killed or "") or ("move" if killed == "more" else None) or self.chance.choice(
            [None, "delete", "move", "cancel"])
        deletes = ending == "delete" or (ending == "move" and self.chance.random() < 0.5)

        async def step(name: str, delivery: Delivery, answer: Callable[[list[SentMessage]], SentMessage | None]
                       ) -> SentMessage:
            kill = at if name == killed else None
            try:
                return await self.step(delivery, person, answer, kill)
            except BaseException as failure:
                failure.add_note(f"routine {n}, step {name!r}, killed at {kill}")
                raise

        def click(card: SentMessage, button: str, **inputs: str) -> Delivery:
            assert card.card is not None
            return fake.submit_card(person, card.id, submission(card.card, button, **inputs))

        def room_card(messages: list[SentMessage]) -> SentMessage | None:
            return _last(messages, lambda m: m.markdown == room and m.card is not None)

        form = await step("new", fake.user_message(person, "/distansmöte ny"),
                          lambda ms: _last(ms, lambda m: m.markdown == texts.NEW_MEETING_TITLE))
        card = await step("create", click(form, texts.CREATE_ROOM, unit="HC Torsås", date="2026-11-26",
                                          start="13:30", length="60"), _room_card_and_invitation)
        card = await step("add", click(card, texts.ADD_RECIPIENT, label="Kommunen – hemtjänsten",
                                       channel="messenger"), room_card)
        card = await step("sent", click(card, texts.MARK_SENT), room_card)
        card = await step("confirmed", click(card, texts.MARK_CONFIRMED), room_card)
        if ending in ("move", "cancel"):
            more = await step("more", click(card, texts.MORE), lambda ms: _last(
                ms, lambda m: m.markdown == texts.MORE_TITLE.format(room=room)))
        if ending == "move":
            # A quarter later: every start reminder falls due while every meeting is still on.
            card = await step("move", click(more, texts.MOVE, start="13:45"), room_card)
        if ending == "cancel":
            question = await step("ask cancel", click(more, texts.CANCEL_MEETING), lambda ms: _last(
                ms, lambda m: m.markdown == texts.CANCEL_CONFIRM_TITLE.format(room=room)))
            await step("cancel", click(question, texts.CANCEL_YES), lambda ms: _last(
                ms, lambda m: m.markdown == texts.CANCELLED_TITLE))
        if deletes:
            question = await step("ask delete", click(card, texts.DELETE_ROOM), lambda ms: _last(
                ms, lambda m: m.markdown == texts.DELETE_CONFIRM_TITLE.format(room=room)))
            await step("delete", click(question, texts.DELETE_YES), lambda ms: _last(
                ms, lambda m: m.markdown == texts.DELETED_TEXT.format(room=room)))


async def _check_invariants(database_url: str, cms: Any, at: datetime) -> None:
    """After a restart and the killed step's answer: every room of the bot is a live meeting's and
    every live meeting's room is there, every creation and deletion is finished, every change was
    made once, every live meeting has its reminders and a deleted one none; a sweep an hour
    later finds nothing to reconcile."""
    engine = create_engine(database_url)
    sessions = sessionmaker(engine)
    try:
        async with sessions() as session:
            meetings = list(await session.scalars(select(Meeting)))
            creations = set(await session.scalars(select(RoomCreation.state)))
            deletions = set(await session.scalars(select(RoomDeletion.state)))
            pending = Counter(await session.scalars(select(Reminder.meeting_id).where(Reminder.state == "pending")))
            recipients = Counter(await session.scalars(select(Recipient.meeting_id)))
            changes = Counter((await session.execute(
                select(AuditRecord.meeting_id, AuditRecord.action).where(AuditRecord.meeting_id.is_not(None)))).all())
            marks = dict((await session.execute(
                select(AuditRecord.meeting_id, AuditRecord.action).where(
                    AuditRecord.id.in_(select(func.max(AuditRecord.id)).where(
                        AuditRecord.action.in_((DELETING, DELETE_WITHDRAWN, "deleted")))
                        .group_by(AuditRecord.meeting_id))))).all())
        live = [m for m in meetings if m.state in LIVE_STATES]
        ours = {s["id"] for s in cms.simulator.snapshot() if (s["cdrTag"] or "").startswith(CDR_TAG_PREFIX)}
        assert ours == {m.space_id for m in live}, "no orphan room, no live meeting without its room"
        assert creations <= {"created", "abandoned"}, "no creation left half-done"
        assert DELETING not in marks.values(), "no deletion left half-done"
        assert deletions <= {"withdrawn", "deleted"}, "no deletion left intended"
        assert set(recipients.values()) <= {1}, "no recipient added twice"
        assert max(changes.values(), default=1) == 1, f"no change made twice: {changes.most_common(1)}"
        settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
        planned = {m.id: len(ReminderPlanner(settings, Alarm()).reminders_for(m)) for m in live}
        assert {m.id: pending[m.id] for m in live} == planned, "no lost reminder"
        assert sum(pending.values()) == sum(planned.values()), "a deleted meeting's reminders are cancelled"
        client = CmsClient(cms.url, "api", "simulator")
        try:  # the sweep, an hour and more later: nothing left to reconcile
            assert await reconcile(client, sessions, ManualClock(at + timedelta(hours=2))) == []
        finally:
            await client.close()
    finally:
        await engine.dispose()


async def _job_done(database_url: str, delivery: Delivery) -> None:
    engine = create_engine(database_url)
    key = f"{delivery.envelope['resource']}:{delivery.data_id}"
    try:
        async with asyncio.timeout(RESTART_WITHIN):
            while True:
                async with engine.connect() as connection:
                    if await connection.scalar(select(InboundJob.state).where(InboundJob.key == key)) == "done":
                        return
                await asyncio.sleep(0.05)
    finally:
        await engine.dispose()


async def _start_reminders(database_url: str) -> dict[str, datetime]:
    """Each live meeting's creator (person key) and when its start reminder is due."""
    engine = create_engine(database_url)
    try:
        async with sessionmaker(engine)() as session:
            return dict((await session.execute(
                select(Meeting.creator_id, Reminder.due_at).join(Reminder, Reminder.meeting_id == Meeting.id)
                .where(Reminder.kind == START, Reminder.state == "pending"))).all())
    finally:
        await engine.dispose()


async def test_kill_9_at_random_points_of_50_routines(database_url: str, cms: Any, aiohttp_server: Any,
                                                      tmp_path: Path) -> None:
    seed = int(os.environ.get("KILL_SEED") or random.randrange(1 << 30))
    fake = WebexFake(token=TOKEN, webhook_secret=SECRET)
    webex_url = str((await aiohttp_server(fake.app)).make_url("/v1/"))
    run = Round(database_url, cms, fake, webex_url, tmp_path / "bot.log", seed)
    try:
        await run.start()
        for n in range(1, ROUTINES + 1):
            await run.routine(n)

        # The start reminders fall due: the bot dies while Webex holds the first one.
        due = await _start_reminders(database_url)
        assert due, "some meetings were kept"
        run.at = max(due.values())
        await run.stop()
        REPLY.hold(fake, cms)
        await run.start()
        await run.kill_and_restart(REPLY, counted_as="reminder")
        start_title = texts.START_TITLE.split("{room}")[1].split("{start}")[0]  # " börjar kl. "

        def reminded(key: str) -> bool:
            return any(start_title in str(m.card) for m in fake.sent_to(person_id=PersonKey.parse(key).id))

        await eventually(lambda: all(reminded(key) for key in due), within=RESTART_WITHIN)
        deadline = time.monotonic() + RESTART_WITHIN
        while await _start_reminders(database_url):  # each is recorded sent once Webex has answered its post
            assert time.monotonic() < deadline, "no start reminder left pending"
            await asyncio.sleep(0.05)
    except BaseException as failure:
        failure.add_note(f"KILL_SEED={seed} (kills so far: {dict(run.kills)})")
        raise
    finally:
        await run.stop()
    assert sum(run.kills.values()) == sum(map(len, KILL_POINTS.values())) + 1
    assert cms.simulator.requests.count("POST /api/v1/coSpaces") == ROUTINES, "no room made twice"
    print(f"\n{ROUTINES} routines, {sum(run.kills.values())} kills (seed {seed}): {dict(run.kills)}; restart to "
          f"answer: median {sorted(run.answered_after)[len(run.answered_after) // 2]:.1f} s, "
          f"max {max(run.answered_after):.1f} s")
    assert "Traceback" not in run.log.read_text()
