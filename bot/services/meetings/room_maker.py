"""A creation's room on the CMS: found when an earlier try made it, made otherwise, or given back."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.clock import Clock
from bot.core.problems import Problem
from bot.services.changes import record
from bot.services.cms import (
    CmsClient,
    CmsCrowded,
    CmsError,
    CmsErrorStatus,
    CmsNotAsked,
    CmsProtocolError,
    CmsUnanswered,
    DuplicateCallId,
    DuplicateUri,
)
from bot.services.meetings.common import MeetingError, cdr_tag
from bot.services.meetings.creation_rows import CreationRows
from bot.services.naming import room_name, room_uri, uri_slug
from bot.store.schema import RoomCreation

log = logging.getLogger(__name__)

MAX_CREATE_ATTEMPTS = 10
# A create that went out unanswered may still be carried out: the pass looks its room up (every
# 15 s) this long before it asks again with the same URI, which a late first create then clashes with.
DOUBT_BOUND = timedelta(minutes=2)


class Queued(Exception):
    """The CMS is crowded: the creation goes on beside the webhook workers, in its turn.

    ``resumed``: an earlier try may have made its room, so it is looked up first.
    """

    def __init__(self, *, resumed: bool) -> None:
        super().__init__()
        self.resumed = resumed


class RoomMaker:
    def __init__(self, sessions: async_sessionmaker, cms: CmsClient, clock: Clock, rows: CreationRows) -> None:
        self._sessions = sessions
        self._cms = cms
        self._clock = clock
        self._rows = rows

    async def room_for(self, creation: RoomCreation, *, resumed: bool) -> str:
        """The id of the creation's room: found (an earlier try made it) or made now."""
        tag = cdr_tag(creation.meeting_id)
        if resumed:
            try:
                found = await self._find(creation, tag)
            except CmsCrowded:
                raise Queued(resumed=True) from None
            except CmsError as exc:  # the earlier try may have made it: ask again later, never give up here
                raise MeetingError(Problem.ROOM_PENDING) from exc
            if found:
                return found
            if creation.doubt_since is not None and self._clock.now() - creation.doubt_since < DOUBT_BOUND:
                raise MeetingError(Problem.ROOM_PENDING)  # its unanswered create may still be carried out
        try:
            for _attempt in range(MAX_CREATE_ATTEMPTS):
                try:
                    return await self._cms.create_space(
                        name=room_name(creation.unit, creation.number), uri=room_uri(creation.unit, creation.number),
                        call_id=creation.call_id, cdr_tag=tag, owner_jid=creation.owner_jid)
                except DuplicateUri:
                    if found := await self._find(creation, tag):
                        return found  # ours, from a try that answered too late
                    await self._rows.attempt(creation, number=await self._rows.next_number(uri_slug(creation.unit)))
                except DuplicateCallId:
                    await self._rows.attempt(creation, call_id=await self._rows.reserve_call_id())
            raise MeetingError(Problem.NO_UNIQUE_ROOM)
        except CmsCrowded:
            raise Queued(resumed=resumed) from None  # this try sent nothing that was carried out
        except CmsNotAsked as exc:
            # Not sent; but an earlier create of this room may still be carried out.
            raise MeetingError(Problem.ROOM_PENDING if creation.doubt_since else Problem.ROOM_SERVICE_DOWN) from exc
        except CmsError as exc:
            if isinstance(exc, CmsUnanswered) or (isinstance(exc, CmsProtocolError)
                                                  and not isinstance(exc, CmsErrorStatus)):
                # No answer in time, or one we cannot read: the room may exist, now or later.
                log.warning("room creation in doubt: %s; looking it up", type(exc).__name__)
                await self._rows.doubt(creation)
                with contextlib.suppress(CmsError):
                    if found := await self._find(creation, tag):
                        return found  # carried out, answered too late
                raise MeetingError(Problem.ROOM_PENDING) from exc  # not yet, or not at all: the pass looks again
            log.warning("room not created: %s", type(exc).__name__)  # refused, or never reached
            raise MeetingError(Problem.ROOM_SERVICE_UNAVAILABLE) from exc

    async def _find(self, creation: RoomCreation, tag: str) -> str | None:
        """The room of this creation on the CMS, by its name and uri, proven by its cdrTag."""
        name, uri = room_name(creation.unit, creation.number), room_uri(creation.unit, creation.number)
        for summary in await self._cms.list_spaces(filter=name):
            if summary.uri == uri and (await self._cms.get_space(summary.id)).cdr_tag == tag:
                return summary.id
        return None

    async def remove_orphan(self, space_id: str) -> bool:
        """Delete a room that could not be recorded; False if the CMS did not let us."""
        try:
            await self._cms.delete_space(space_id)
        except CmsError:
            log.error("could not remove an unrecorded room from the CMS; a later pass or the sweep will")
            return False
        async with self._sessions() as session, session.begin():
            await record(session, self._clock.now(), "system", "deleted", space_id=space_id, detail="not_recorded")
        return True
