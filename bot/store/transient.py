"""Which database failures are transient: the same work may succeed a little later, so it is retried."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATE classes about the state of the server or the connection, not the statement:
# connection exception, transaction rollback (deadlock, serialisation), insufficient resources,
# object not in prerequisite state (lock timeout, database not accepting connections), operator
# intervention (shutdown, terminated backend), system error.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "55", "57", "58")
_SQLITE_BUSY_OR_LOCKED = (5, 6)


def is_transient(exc: BaseException) -> bool:
    """A database failure that the same work may not meet a little later: the connection lost or
    refused, the server restarting or overloaded, a deadlock, SQLite busy. Such work is retried;
    any other error is the work's own and would fail again."""
    for current in _causes(exc):
        if isinstance(current, (OSError, TimeoutError, PoolTimeout)):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES:
            return True
        if getattr(current, "sqlite_errorcode", 0) & 0xFF in _SQLITE_BUSY_OR_LOCKED:
            return True
    return False


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what caused it, innermost last (the driver's error under SQLAlchemy's), each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.orig if isinstance(current, DBAPIError) else current.__cause__


def reason(exc: BaseException) -> str:
    """The innermost cause, on one line: what the driver or the server said."""
    *_, exc = _causes(exc)
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
