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

from asyncpg.exceptions import ConnectionDoesNotExistError
from sqlalchemy import Enum, Select, String
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.types import TypeEngine

from db.models import UTCDateTime, as_utc

Converter = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    binds: tuple[Converter, ...]
    fixed: Mapping[str, Any]
    """Values written into the statement itself (``OFFSET 0``); every other one must be given."""
    converting: tuple[tuple[int, Callable[[Any], Any]], ...]
    """The result columns whose values need converting (by index), with their converters."""

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        given = {**self.fixed, **values} if self.fixed else values
        return [
            value if convert is None else convert(value)
            for value, convert in zip((given[name] for name in self.names), self.binds, strict=True)
        ]

    def row(self, record: Sequence[Any]) -> tuple[Any, ...]:
        if not self.converting:
            return tuple(record)
        values = list(record)
        for index, convert in self.converting:
            value = values[index]
            if value is not None:
                values[index] = convert(value)
        return tuple(values)


@lru_cache(maxsize=1024)
def _compiled(statement: ClauseElement, dialect: Dialect) -> _Compiled | None:
    """None for a statement SQLAlchemy renders anew for each execution (an expanding IN list)."""
    compiled: Any = statement.compile(dialect=dialect)
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None
    names = tuple(compiled.positiontup)
    results = tuple(result_converter(column.type, dialect) for column in compiled._result_columns)
    return _Compiled(
        sql=compiled.string,
        names=names,
        binds=tuple(compiled.binds[name].type._cached_bind_processor(dialect) for name in names),
        fixed={
            name: compiled.binds[name].value for name in names if not compiled.binds[name].required
        },
        converting=tuple(
            (index, convert) for index, convert in enumerate(results) if convert is not None
        ),
    )


def result_converter(type_: TypeEngine[Any], dialect: Dialect) -> Converter:
    """The type's result processor, or a quicker equal for the hot columns: a stored enum's
    member by a dict lookup (SQLAlchemy's processor does the same lookup behind two calls; an
    unknown value is a ``KeyError``, its ``LookupError``), a stored time by ``as_utc``."""
    processor = type_._cached_result_processor(dialect, None)
    if processor is None:
        return None
    if isinstance(type_, UTCDateTime) and _plain(type_.impl_instance, dialect):
        return as_utc
    if isinstance(type_, Enum) and not type_.native_enum and _plain(String(), dialect):
        lookup: dict[str, Any] = type_._object_lookup  # type: ignore[assignment]
        return lookup.__getitem__
    return processor


def _plain(type_: TypeEngine[Any], dialect: Dialect) -> bool:
    """Whether the driver's values of ``type_`` need no processing of SQLAlchemy's."""
    return type_._cached_result_processor(dialect, None) is None


async def run(
    session: AsyncSession, statement: ClauseElement, values: Mapping[str, Any]
) -> list[tuple[Any, ...]] | None:
    """The rows of ``statement`` run on asyncpg under ``session``'s connection; None on another
    driver, or for a statement rendered per execution: run it the usual way.

    No ping precedes a statement (``db/database.py``); instead a read that finds its connection
    gone (the server restarted or ended it, and the client had not heard yet) is run once more
    on a new connection. Only a read outside a transaction (autocommit): a write's transaction
    is lost with its connection, and the caller must see that."""
    found = await _driver(session)
    if found is None:
        return None
    compiled = _compiled(statement, found.dialect)
    if compiled is None:
        return None
    arguments = compiled.arguments(values)
    try:
        records = await _fetch(found, compiled, arguments)
    except DROPPED:
        if not (found.autocommit and found.asyncpg.is_closed()):
            raise
        await session.invalidate()  # the session starts afresh on another connection
        found = await _driver(session)
        assert found is not None, "the same session, the same driver"
        records = await _fetch(found, compiled, arguments)
    return [compiled.row(record) for record in records]


async def scalar(session: AsyncSession, statement: Select[Any], values: Mapping[str, Any]) -> Any:
    """The first value of the first row (None for no row), on the driver where there is one."""
    found = await run(session, statement, values)
    if found is None:
        connection = await session.connection()
        return await connection.scalar(statement, dict(values))
    return found[0][0] if found else None


# What a statement raises when its connection is gone (asyncpg's, or the socket's own).
DROPPED = (ConnectionDoesNotExistError, ConnectionError)


async def _driver(session: AsyncSession) -> "_Driver | None":
    found: _Driver | None = session.info.get(_Driver)
    if found is None or found.transaction is not session.sync_session.get_transaction():
        connection = await session.connection()
        if connection.dialect.driver != "asyncpg":
            return None
        raw = await connection.get_raw_connection()
        options = (
            connection.sync_connection.get_execution_options() if connection.sync_connection else {}
        )
        found = session.info[_Driver] = _Driver(
            session.sync_session.get_transaction(),
            connection.dialect,
            connection.sync_connection,
            raw.driver_connection,
            autocommit=options.get("isolation_level") == "AUTOCOMMIT",
        )
    return found


async def _fetch(found: "_Driver", compiled: _Compiled, arguments: list[Any]) -> list[Any]:
    sync = found.sync
    if sync is not None and sync.dispatch.before_cursor_execute:
        # What listens to the engine's statements (tests that count them, the benchmark that
        # replays them) sees these too.
        sync.dispatch.before_cursor_execute(sync, None, compiled.sql, arguments, None, False)
    records: list[Any] = await found.asyncpg.fetch(compiled.sql, *arguments)
    return records


@dataclass(frozen=True, slots=True)
class _Driver:
    """The session's connection as ``run`` uses it, looked up once per session transaction (the
    session holds one connection from its first statement until that transaction ends)."""

    transaction: object
    dialect: Dialect
    sync: Connection | None
    asyncpg: Any
    autocommit: bool
