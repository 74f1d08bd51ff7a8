"""Hot reads straight on asyncpg, with SQLAlchemy's own SQL and type conversions.

For the list's few statements, SQLAlchemy's execution path (session, connection, compiled cache,
parameter and result processing through its greenlet bridge) cost more of our CPU than PostgreSQL
spends running them. These statements are built once per shape anyway, so each is compiled once
for the asyncpg dialect (``$n`` placeholders, names in order, the types' bind and result
converters) and then run on the driver connection under the session: asyncpg prepares it once per
connection and keeps it. The rows come out as tuples of the same Python values SQLAlchemy gives.
SQLite keeps the ordinary path (``run`` returns None there).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement

Converter = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    binds: tuple[Converter, ...]
    results: tuple[Converter, ...]
    fixed: Mapping[str, Any]
    """Values written into the statement itself (``OFFSET 0``); every other one must be given."""

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        given = {**self.fixed, **values} if self.fixed else values
        return [
            value if convert is None else convert(value)
            for value, convert in zip((given[name] for name in self.names), self.binds, strict=True)
        ]

    def row(self, record: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if convert is None or value is None else convert(value)
            for value, convert in zip(record, self.results, strict=True)
        )


@lru_cache(maxsize=1024)
def _compiled(statement: ClauseElement, dialect: Dialect) -> _Compiled | None:
    """None for a statement SQLAlchemy renders anew for each execution (an expanding IN list)."""
    compiled: Any = statement.compile(dialect=dialect)
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None
    names = tuple(compiled.positiontup)
    return _Compiled(
        sql=compiled.string,
        names=names,
        binds=tuple(compiled.binds[name].type._cached_bind_processor(dialect) for name in names),
        results=tuple(
            column.type._cached_result_processor(dialect, None)
            for column in compiled._result_columns
        ),
        fixed={
            name: compiled.binds[name].value for name in names if not compiled.binds[name].required
        },
    )


async def run(
    session: AsyncSession, statement: ClauseElement, values: Mapping[str, Any]
) -> list[tuple[Any, ...]] | None:
    """The rows of ``statement`` run on asyncpg under ``session``'s connection; None on another
    driver, or for a statement rendered per execution: run it the usual way."""
    connection = await session.connection()
    if connection.dialect.driver != "asyncpg":
        return None
    compiled = _compiled(statement, connection.dialect)
    if compiled is None:
        return None
    arguments = compiled.arguments(values)
    sync = connection.sync_connection
    if sync is not None and sync.dispatch.before_cursor_execute:
        # What listens to the engine's statements (tests that count them, the benchmark that
        # replays them) sees these too.
        sync.dispatch.before_cursor_execute(sync, None, compiled.sql, arguments, None, False)
    raw = await connection.get_raw_connection()
    asyncpg: Any = raw.driver_connection
    records = await asyncpg.fetch(compiled.sql, *arguments)
    return [compiled.row(record) for record in records]
