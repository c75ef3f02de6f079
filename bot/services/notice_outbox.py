"""What the bot says on its own outside the reminders, delivered as durably as they are.

An admin alert or a person's notice (a creation or deletion that finished after the person left) is
a ``notice`` row first, committed, then tried at once; a row not delivered is tried again by the
timer's pass with the reminders' backoff until delivered, given up after ``MAX_ATTEMPTS`` or at
once when the platform says the person is gone (403/404). ``(recipient, cause)`` is unique, so a
cause said twice (two instances, a pass run again) reaches each recipient once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot import notices
from bot.clock import Clock
from bot.core import PersonKey, Reply
from bot.core.delivery import DeliveryError, DeliveryGone
from bot.services.reminder_plan import ProactiveSends, backoff
from bot.store.engine import insert_on_conflict
from bot.store.queues import Notice

log = logging.getLogger(__name__)

PENDING, SENT, FAILED = "pending", "sent", "failed"
MAX_ATTEMPTS = 8  # with the reminders' backoff (30 s doubling to 15 min): about an hour
# A row being sent is not due again before this: if its process dies mid-send, it is tried again then.
LEASE = timedelta(minutes=2)
BATCH = 50


def cause_of(notice: notices.Notice | Sequence[Reply], replies: Sequence[Reply]) -> str:
    """What a notice is about: its kind and what it says (the same words are said once)."""
    said = json.dumps([[reply.text, reply.card] for reply in replies], sort_keys=True, ensure_ascii=False)
    kind = "replies" if isinstance(notice, Sequence) else type(notice).__name__
    return f"{kind}:{hashlib.sha256(said.encode()).hexdigest()[:32]}"


class NoticeOutbox:
    def __init__(self, sessions: async_sessionmaker, clock: Clock, sends: ProactiveSends,
                 render: notices.Render) -> None:
        self._sessions = sessions
        self._clock = clock
        self._sends = sends
        self._render = render

    async def tell(self, person: PersonKey, notice: notices.Notice | Sequence[Reply]) -> bool:
        """Say ``notice`` (or these replies) to a person 1:1, once; True if it has been delivered (now,
        or when it was said before), else it is tried again later."""
        replies = list(notice) if isinstance(notice, Sequence) else [self._render(notice)]
        cause = cause_of(notice, replies)
        ids = await self._store([(str(person), False, (person.platform,))], replies, cause)
        if ids:
            return await self._deliver(ids[0])
        async with self._sessions() as session:
            state = await session.scalar(select(Notice.state).where(Notice.recipient == str(person),
                                                                    Notice.cause == cause))
        return state == SENT

    async def alert(self, admins: Sequence[str], platforms: Sequence[str], notice: notices.Notice) -> None:
        """Tell each admin, through the first of ``platforms`` that reaches them, once."""
        reply = self._render(notice)
        ids = await self._store([(admin, True, tuple(platforms)) for admin in admins], [reply],
                                cause_of(notice, [reply]))
        for row_id in ids:
            await self._deliver(row_id)

    async def retry_due(self) -> int:
        """The pass: try again what is due; returns how many were tried."""
        async with self._sessions() as session:
            due = list(await session.scalars(
                select(Notice.id).where(Notice.state == PENDING, Notice.due_at <= self._clock.now())
                .order_by(Notice.due_at).limit(BATCH)))
        for row_id in due:
            await self._deliver(row_id)
        return len(due)

    async def _store(self, recipients: Sequence[tuple[str, bool, tuple[str, ...]]], replies: Sequence[Reply],
                     cause: str) -> list[str]:
        """The rows new for this cause, committed: a recipient told of it before gets no new one."""
        now = self._clock.now()
        said = json.dumps([{"text": r.text, "card": r.card, "direct": r.direct} for r in replies], ensure_ascii=False)
        rows = [{"id": str(uuid.uuid4()), "recipient": recipient[:255], "admin": admin,
                 "platforms": ",".join(platforms), "cause": cause, "replies": said, "state": PENDING,
                 "attempts": 0, "due_at": now, "created_at": now} for recipient, admin, platforms in recipients]
        if not rows:
            return []
        async with self._sessions() as session, session.begin():
            insert = insert_on_conflict(session, Notice)
            added = await session.scalars(insert.values(rows).on_conflict_do_nothing().returning(Notice.id))
            return list(added)

    async def _deliver(self, row_id: str) -> bool:
        """Take the row (if it is still due: another instance may have it), send, record the outcome."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            taken = await session.execute(
                update(Notice).where(Notice.id == row_id, Notice.state == PENDING, Notice.due_at <= now)
                .values(due_at=now + LEASE, attempts=Notice.attempts + 1)
                .returning(Notice.recipient, Notice.admin, Notice.platforms, Notice.replies, Notice.attempts))
            row = taken.one_or_none()
        if row is None:
            return False
        replies = [Reply(r["text"], r["card"], direct=r["direct"]) for r in json.loads(row.replies)]
        problem = await self._send(row.recipient, row.admin, row.platforms.split(","), replies)
        values: dict[str, object]
        if problem is None:
            values = {"state": SENT, "sent_at": self._clock.now(), "last_error": None}
        elif isinstance(problem, DeliveryGone) or row.attempts >= MAX_ATTEMPTS:
            log.warning("%s not delivered, given up (%s)", "admin alert" if row.admin else "notice", problem.code)
            values = {"state": FAILED, "last_error": problem.code}
        else:
            log.warning("%s not delivered yet (%s); tried again later", "admin alert" if row.admin else "notice",
                        problem.code)
            values = {"due_at": self._clock.now() + backoff(row.attempts), "last_error": problem.code}
        async with self._sessions() as session, session.begin():
            await session.execute(update(Notice).where(Notice.id == row_id).values(**values))
        return problem is None

    async def _send(self, recipient: str, admin: bool, platforms: Sequence[str],
                    replies: Sequence[Reply]) -> DeliveryError | None:
        if not admin:
            return await self._sends.to_person(PersonKey.parse(recipient), replies)
        problem: DeliveryError | None = None
        for platform in platforms:  # the first that reaches the admin
            problem = await self._sends.to_identity(platform, recipient, replies[0])
            if problem is None:
                return None
        return problem
