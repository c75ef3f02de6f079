"""Statements on the driver's own connection: a whole SQLite transaction in one hop to aiosqlite's
thread, and values converted as the columns' types do."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

T = TypeVar("T")
Parameters = Callable[[Mapping[str, Any]], tuple[Any, ...]]


async def sqlite_driver(connection: AsyncConnection) -> Any:
    """aiosqlite's own connection under ``connection``, in the same transaction. A statement sent
    there takes one hop to aiosqlite's thread where SQLAlchemy's execution takes four (cursor,
    execute, fetch, close): for the few statements every command runs. It takes driver values
    (:func:`bind_processors`) and ``?`` parameters, and answers plain tuples."""
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    return driver


async def sqlite_run(connection: AsyncConnection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` on the sqlite3 connection under ``connection``, in aiosqlite's thread: a whole
    transaction in one hop, where aiosqlite's public calls take one each (it has no public way to
    run a function there, so this uses its ``_execute``, pinned by requirements.lock and covered
    by every test that stores a webhook). ``work`` commits or rolls back what it began."""
    driver = await sqlite_driver(connection)
    return cast(T, await driver._execute(work, driver._conn))



async def sqlite_transaction(connection: AsyncConnection, statements: Sequence[tuple[str, Sequence[Sequence[Any]]]],
                             query: tuple[str, Sequence[Any]] | None = None) -> list[Any]:
    """A whole transaction in one hop (:func:`sqlite_run`): each statement with each of its parameter
    sets, then ``query``, whose rows are returned; committed, or rolled back on any error."""
    def work(database: sqlite3.Connection) -> list[Any]:
        try:  # the driver begins the transaction at the first statement
            for sql, parameter_sets in statements:
                database.executemany(sql, parameter_sets)
            rows = database.execute(*query).fetchall() if query else []
            database.commit()
        except BaseException:
            database.rollback()
            raise
        return rows

    return await sqlite_run(connection, work)


def sqlite_statement(statement: ClauseElement, dialect: Dialect) -> tuple[str, Parameters]:
    """``statement`` compiled once to SQLite's own SQL, and a function from its bind values (by
    name; those the statement fixes itself are filled in) to the driver's ``?`` parameters, each
    converted as its column's type does: for statements run in one hop (:func:`sqlite_run`)."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    names = compiled.positiontup or []
    fixed = compiled.params
    convert = {name: compiled.binds[name].type.bind_processor(dialect) for name in names}

    def parameters(values: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for name in names:
            value = values[name] if name in values else fixed[name]
            process = convert[name]
            out.append(process(value) if process is not None and value is not None else value)
        return tuple(out)

    return str(compiled), parameters

def bind_processors(table: Table, dialect: Dialect) -> dict[str, Callable[[Any], Any] | None]:
    """Each column's conversion of a value into the driver's (a datetime into SQLite's text)."""
    return {column.name: column.type.bind_processor(dialect) for column in table.columns}


def driver_values(processors: dict[str, Callable[[Any], Any] | None], row: dict[str, Any],
                  columns: Sequence[str]) -> list[Any]:
    values = []
    for column in columns:
        process = processors[column]
        values.append(process(row[column]) if process else row[column])
    return values
