"""Engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg), one code path for both.

SQLite allows one writer at a time, and a transaction that starts reading and then writes can fail
with "database is locked" instead of waiting. So on SQLite, write transactions begin with
``BEGIN IMMEDIATE`` on a one-connection pool (writers queue in the process and wait on the file lock
across processes), while readers use their own pool and see a WAL snapshot. On PostgreSQL both are
the same engine; with a streaming replica (``replica_url``), queries may read from it instead
(``db/replica.py`` decides when).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from db.events import LocalEvents
from db.replica import Replica

SQLITE_BUSY_TIMEOUT_MS = 30_000
REPLICA_CONNECT_TIMEOUT_SECONDS = 5


class Database:
    def __init__(
        self,
        url: str | URL,
        *,
        pool_size: int = 10,
        pool_timeout: float = 30,
        echo: bool = False,
        replica_url: str | URL | None = None,
        replica_max_lag: float = 30,
    ) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            _create_parent_directory(self.url)
            self.engine = _sqlite_engine(self.url, begin="BEGIN", echo=echo, pool_size=pool_size)
            self.write_engine = _sqlite_engine(
                self.url, begin="BEGIN IMMEDIATE", echo=echo, pool_size=1
            )
        else:
            self.write_engine = _postgresql_engine(
                self.url, echo=echo, pool_size=pool_size, pool_timeout=pool_timeout
            )
            # Reads need no transaction of their own: without BEGIN/ROLLBACK around them a list
            # page is one round trip. (The same pool: the option is set on each checkout.)
            self.engine = self.write_engine.execution_options(isolation_level="AUTOCOMMIT")
        self.reader = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self.writer = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self.replica: Replica | None = None
        """Where queries may read (``db/replica.py``); the engines above stay the primary's, for
        everything else: mutations, logins, who is calling, maintenance, notifications."""
        if replica_url is not None:
            if self.is_sqlite:
                raise ValueError("a replica needs PostgreSQL")
            replica_engine = _postgresql_engine(
                make_url(replica_url),
                echo=echo,
                pool_size=pool_size,
                pool_timeout=pool_timeout,
                # A replica that does not answer is left out after this, not waited for.
                connect_args={"timeout": REPLICA_CONNECT_TIMEOUT_SECONDS},
                isolation_level="AUTOCOMMIT",  # reads only, without BEGIN/ROLLBACK around them
            )
            self.replica = Replica(replica_engine, primary=self.engine, max_lag=replica_max_lag)
        self.local_events = LocalEvents()
        """Events committed in this process; on SQLite the only way they travel (``db.events``)."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction, committed when the block ends and rolled back on error; the
        events it announced are handed on only after the commit."""
        async with self.writer() as session:
            try:
                async with session.begin():
                    yield session
            except BaseException:
                LocalEvents.discard(session)
                raise
            self.local_events.publish_committed(session)

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """Each pool once (on PostgreSQL the reading engine shares the writing one's)."""
        own = (self.write_engine,) if not self.is_sqlite else (self.engine, self.write_engine)
        return own if self.replica is None else (*own, self.replica.engine)

    async def dispose(self) -> None:
        if self.replica is not None:
            await self.replica.dispose()
        for engine in self.engines:
            await engine.dispose()


def _postgresql_engine(
    url: URL, *, echo: bool, pool_size: int, pool_timeout: float, **options: Any
) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        # Every connection opened is kept: an overflow connection is closed as soon as the pool
        # has pool_size idle, so a load hovering above pool_size opened and closed one every few
        # dozen requests (a connect, its type introspection, statements prepared anew: 5% of a
        # list page's CPU at 16 clients). A request waits for one instead (the process is busy
        # anyway), pool_timeout at most.
        max_overflow=0,
        pool_timeout=pool_timeout,  # then a 503, not a request waiting on and on
        echo=echo,
        **options,
    )
    _replace_closed_connections(engine)
    return engine


def _replace_closed_connections(engine: AsyncEngine) -> None:
    """Instead of a ping before every checkout (three round trips with asyncpg: BEGIN, an empty
    statement, ROLLBACK), hand out no connection whose socket the server has closed (a restart,
    ``pg_terminate_backend``, an idle timeout): asyncpg knows that without asking the server, and
    a ``DisconnectionError`` here makes the pool discard it and check out another."""

    @event.listens_for(engine.sync_engine, "checkout")
    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise exc.DisconnectionError("the server closed this connection")


def _create_parent_directory(url: URL) -> None:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(url: URL, *, begin: str, echo: bool, pool_size: int) -> AsyncEngine:
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over BEGIN from the driver so that we can choose its kind (SQLAlchemy's recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode = WAL",
            "synchronous = NORMAL",
            "foreign_keys = ON",
            f"busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine
