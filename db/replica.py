"""Reads from a PostgreSQL streaming replica, with read-your-writes on every worker (SPEC §11).

**Read-your-writes.** After each mutation commits, its user's *write position* — the primary's WAL
insert position, read after the commit, so at or past the commit record's end — is kept in
``write_positions`` on the primary (``record``: one statement, committed asynchronously: it must be
visible at once, not durable). A query first reads its viewer's position from the primary
(``position``: one primary-key lookup) and is served by the replica only if the replica has
replayed at least that far (``pg_last_wal_replay_lsn()``, as last probed: replay only moves
forward, so an old reading is a safe lower bound). Every worker and machine sees the same table,
so the rule holds without sticky sessions; a user who wrote within the last second or so, or
whose write the replica has not replayed, reads from the primary.

**Health.** ``probe`` (at most once per ``interval`` per worker, when a request or ``/readyz`` asks)
reads the primary's flushed WAL position and the replica's replay position. The lag is the age of
the oldest primary position sampled that the replica has not replayed yet: measured on this
worker's clock, so neither server's clock matters, and an idle primary is not "behind". The replica
is left out (*degraded*) while it cannot be reached, is not a standby, or lags more than
``max_lag``; a read that fails on it for any connection reason (``unavailable``) marks it degraded
and is run again on the primary. The next successful probe brings it back.

**Restarts.** A standby that restarts after a crash may show an older state than it did before,
until it has replayed its WAL again. So each new connection to the replica reads when its server
started (``pg_postmaster_start_time()``, one round trip per connection, not per read); a server
not seen before makes the replay position read from its predecessor count for nothing (0) until
the next probe reads it from the new one.
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, TypeVar

from asyncpg import exceptions as pg
from sqlalchemy import bindparam, event, select, text
from sqlalchemy import exc as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import await_only

from db.driver import run
from db.models import WritePosition

T = TypeVar("T")

PROBE_INTERVAL_SECONDS = 1.0
PROBE_TIMEOUT_SECONDS = 5.0

logger = logging.getLogger("xhsz.replica")

_RECORD = text(
    # set_config(…, true) lasts for this statement's own transaction: its commit need not wait
    # for the disk (a crash may lose the position, never the write it follows).
    "WITH asynchronous AS (SELECT set_config('synchronous_commit', 'off', true)) "
    "INSERT INTO write_positions AS known (user_id, lsn) "
    "SELECT :user_id, (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint FROM asynchronous "
    "ON CONFLICT (user_id) DO UPDATE SET lsn = GREATEST(known.lsn, excluded.lsn)"
)
_POSITION = select(WritePosition.lsn).where(WritePosition.user_id == bindparam("user_id"))
_FLUSHED = text("SELECT (pg_current_wal_flush_lsn() - '0/0'::pg_lsn)::bigint")
_REPLAYED = text(
    "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, pg_postmaster_start_time()"
)
_STARTED = "SELECT pg_postmaster_start_time()"

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable
    TimeoutError,
    pg.PostgresConnectionError,  # the connection went away mid-statement
    pg.InterfaceError,  # a closed connection used
    pg.InternalClientError,  # a connection left mid-operation (an interrupted statement)
    pg.OperatorInterventionError,  # shutting down, starting up, terminated
    pg.InsufficientResourcesError,  # too many clients
    pg.SerializationError,  # a standby cancels a read that conflicts with recovery
    sa.TimeoutError,  # no pooled connection came free
    sa.DisconnectionError,
)


def unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` (or what it was raised from) says the server, not the statement, failed."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, _UNAVAILABLE):
            return True
        if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
            return True
        seen.add(id(error))
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return False


async def record(session: AsyncSession, user_id: int) -> None:
    """Keep ``user_id``'s write position: call after the user's change committed, on the primary
    (``session`` without a transaction of its own)."""
    await session.execute(_RECORD, {"user_id": user_id})


async def position(session: AsyncSession, user_id: int) -> int | None:
    """``user_id``'s write position (None: no write recorded), read on the primary."""
    rows = await run(session, _POSITION, {"user_id": user_id})
    if rows is None:
        found: int | None = (await session.execute(_POSITION, {"user_id": user_id})).scalar()
        return found
    return rows[0][0] if rows else None


class Replica:
    """A streaming replica: its engine, and whether (and how far) it may be read from now."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        primary: AsyncEngine,
        max_lag: float,
        interval: float = PROBE_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.primary = primary
        self.reader = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self.max_lag = max_lag
        self.interval = interval
        self._clock = clock
        self.usable = False
        self._told = False  # whether the log has heard of its state yet
        self.replayed = 0
        """The replay position last read (bytes into the WAL); 0 when unknown."""
        self.lag: float | None = None
        self.problem = "not probed yet"
        self._samples: deque[tuple[int, float]] = deque()
        self._probed_at: float | None = None
        self._probing: asyncio.Task[None] | None = None
        self._server: object = None
        """When the replica's server last seen started: another start is a restart."""
        self.observers: list[Callable[[Replica], None]] = []
        """Called after each probe and failed read (the metrics' gauges)."""

        @event.listens_for(engine.sync_engine, "connect")
        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            started = await_only(dbapi_connection.driver_connection.fetchval(_STARTED))
            self._saw_server(started)

    def _saw_server(self, started: object) -> None:
        if started != self._server:
            self._server = started
            self.replayed = 0

    def serves(self, written: int | None) -> bool:
        """Whether a viewer whose last write ended at ``written`` may read from the replica."""
        return self.usable and (written is None or written <= self.replayed)

    async def refresh(self, *, wait: bool = False) -> None:
        """Probe if the last probe is older than the interval: in the background, unless this is
        the first one or ``wait`` is given."""
        stale = self._probed_at is None or self._clock() - self._probed_at >= self.interval
        if stale and self._probing is None:
            self._probing = asyncio.get_running_loop().create_task(self._probe_once())
        if self._probing is not None and (wait or self._probed_at is None):
            await asyncio.shield(self._probing)

    async def _probe_once(self) -> None:
        try:
            await self.probe()
        finally:
            self._probing = None

    async def probe(self) -> None:
        """Read both servers' positions; decide whether the replica may be read from."""
        started = self._clock()
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                async with self.primary.connect() as connection:
                    flushed = (await connection.execute(_FLUSHED)).scalar_one()
                self._sample(flushed, started)
                async with self.engine.connect() as connection:
                    try:
                        replayed, server = (await connection.execute(_REPLAYED)).one()
                    except BaseException:  # a timeout too: leave no half-used connection
                        await connection.invalidate()
                        raise
        except Exception as error:  # whatever it is, the replica cannot be used now
            self.lag = None
            self._set(usable=False, problem=f"the probe failed ({type(error).__name__})")
            return
        finally:
            self._probed_at = self._clock()
        if replayed is None:
            self.lag = None
            self._set(usable=False, problem="not a standby (pg_last_wal_replay_lsn() is null)")
            return
        if server == self._server:  # else a connection has seen a newer start since
            self.replayed = max(self.replayed, replayed)
        while self._samples and self._samples[0][0] <= replayed:
            self._samples.popleft()
        self.lag = self._clock() - self._samples[0][1] if self._samples else 0.0
        if self.lag > self.max_lag:
            self._set(usable=False, problem=f"lagging {self.lag:.1f} s")
        else:
            self._set(usable=True, problem="")

    def _sample(self, flushed: int, at: float) -> None:
        self._samples.append((flushed, at))
        # Enough to measure up to the limit; the oldest is kept, as the lag is its age.
        while len(self._samples) > self.max_lag / self.interval + 3:
            del self._samples[1]

    async def read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``work`` on a replica session. If it fails for a connection reason (or is cancelled),
        its connection is discarded rather than pooled again: the list's statements run straight
        on the driver (``db/driver.py``), so SQLAlchemy does not see their failures, and a
        connection interrupted mid-statement must not serve the next read."""
        async with self.reader() as session:
            connection = await session.connection()  # the checkout work would make anyway
            try:
                return await work(session)
            except BaseException as error:
                if unavailable(error) or not isinstance(error, Exception):
                    with suppress(Exception):
                        await connection.invalidate()
                raise

    def failed(self, error: BaseException) -> None:
        """A read on the replica failed for ``error``: leave it out until a probe succeeds."""
        self.lag = None
        self._set(usable=False, problem=f"a read failed ({type(error).__name__})")

    def _set(self, *, usable: bool, problem: str) -> None:
        if usable != self.usable or not self._told:
            self._told = True
            if usable:
                logger.info("replica in use again")
            else:
                logger.warning("replica left out: %s; reading from the primary", problem)
        self.usable = usable
        self.problem = problem
        for observer in self.observers:
            observer(self)

    async def dispose(self) -> None:
        if self._probing is not None:
            self._probing.cancel()
        await self.engine.dispose()
