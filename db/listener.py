"""One ``LISTEN`` connection per worker (PostgreSQL): the events every worker's commits announce.

The connection is asyncpg's own, outside the pool (a pooled connection is shared and reset; this
one stays in ``LISTEN`` for the worker's life). When it is lost (a server restart,
``pg_terminate_backend``, a network cut that the periodic ping notices) the listener says so in the
log and connects again, waiting a little longer after each failure. Events committed while it was
away are not replayed: ``on_resumed`` is called once it listens again, so that subscribers can be
told to reconnect and read afresh.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

from db.events import CHANNEL, Event, Receiver

logger = logging.getLogger("xhsz.events")

PING_SECONDS = 5.0
"""How often an idle connection is checked (a cut cable closes no socket)."""
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)
APPLICATION_NAME = "xhsz-listener"
"""How the connection shows in ``pg_stat_activity``."""


def asyncpg_dsn(url: URL) -> str:
    """The SQLAlchemy URL as a DSN asyncpg reads."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    def __init__(
        self,
        url: URL,
        receive: Receiver,
        *,
        on_resumed: Callable[[], None] = lambda: None,
        ping_seconds: float = PING_SECONDS,
    ) -> None:
        self.dsn = asyncpg_dsn(url)
        self.receive = receive
        self.on_resumed = on_resumed
        self.ping_seconds = ping_seconds
        self.listening = asyncio.Event()
        """Set while the connection listens (subscribing waits for it, briefly)."""
        self._task: asyncio.Task[None] | None = None
        self._connection: Any = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="xhsz-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._close()

    async def _run(self) -> None:
        failures = 0
        missed = False  # whether events may have gone unheard (a loss, or a failed start)
        while True:
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(
                    self.dsn, server_settings={"application_name": APPLICATION_NAME}
                )
                self._connection = connection
                connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, self._notified)
            except (TimeoutError, OSError, asyncpg.PostgresError) as error:
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                missed = True
                logger.warning("cannot listen for events (%s); trying again in %s s", error, delay)
                await self._close()
                await asyncio.sleep(delay)
                continue
            failures = 0
            self.listening.set()
            if missed:
                logger.warning("listening for events again; events committed meanwhile are lost")
                self.on_resumed()
            else:
                logger.info("listening for events on %s", CHANNEL)
            await self._watch(connection, lost)
            self.listening.clear()
            missed = True
            logger.warning("lost the connection listening for events; reconnecting")
            await self._close()

    async def _watch(self, connection: Any, lost: asyncio.Event) -> None:
        """Return once the connection is gone (closed, or no longer answering)."""
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), self.ping_seconds)
                return
            except TimeoutError:
                pass
            try:
                await asyncio.wait_for(connection.execute("SELECT 1"), self.ping_seconds)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                return

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        event = Event.decode(payload)
        if event is not None:
            self.receive(event)

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await asyncio.wait_for(connection.close(), 2)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                connection.terminate()
