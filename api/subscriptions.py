"""Live updates on one worker (SPEC §10): its subscription connections, the events it hears, and
the fan-out from one to the other.

- **Hearing.** On PostgreSQL one ``LISTEN`` connection per worker (``db.listener``) hears the
  events of every worker's commits; on SQLite the process's own commits (``db.events``).
- **Fan-out.** One task per worker takes the events in the order they were committed, reloads each
  request once (only if someone here subscribes to it) and offers it to every subscription whose
  viewer may see it now (``db.queries.may_see``: an enterprise user its enterprise's, customs
  all; a deleted request only its ``DELETED`` event). Each subscription has a bounded queue: a
  subscriber that falls that far behind is disconnected (1013), never buffered without bound.
- **Revocation.** Every ``recheck`` seconds two statements read the token versions of the users
  with open connections and which of their tokens ``logout`` revoked; a connection whose user
  was disabled, whose password changed (or ``logoutEverywhere``), whose token was logged out or
  has expired is closed with 4403.
- **Limits.** Connections per user and subscriptions per connection are counted per worker.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from api import metrics
from config.limits import SubscriptionLimits
from db import identity, queries
from db.database import Database
from db.events import Event, EventKind
from db.identity import Viewer
from db.listener import Listener
from db.models import Coordination
from schema.messages import Closing, Language

logger = logging.getLogger("xhsz.subscriptions")

LISTENING_WAIT_SECONDS = 10.0
"""How long a new subscription waits for the worker's ``LISTEN`` (the first one starts it)."""


@dataclass(eq=False)
class Connection:
    """One graphql-transport-ws connection of an authenticated user."""

    user_id: int
    token_version: int
    token_expires: float
    language: Language
    close: Callable[[Closing], None]
    """Ends the connection (once; later calls do nothing), without waiting for it."""
    token_id: str = ""
    """The token's ``jti``, which ``logout`` revokes."""


@dataclass(frozen=True, slots=True)
class Delivery:
    event: Event
    row: Coordination
    """The request as it is now (read after the event was committed), deleted or not."""

    @property
    def deleted(self) -> bool:
        return self.row.deleted_at is not None


@dataclass(eq=False)
class Subscription:
    viewer: Viewer
    coordination_no: str | None
    connection: Connection
    queue: asyncio.Queue[Delivery]
    open: bool = True

    def wants(self, event: Event) -> bool:
        return self.open and self.coordination_no in (None, event.coordination_no)

    def offer(self, delivery: Delivery) -> None:
        try:
            self.queue.put_nowait(delivery)
        except asyncio.QueueFull:
            self.open = False
            metrics.DISCONNECTS.labels("slow_consumer").inc()
            self.connection.close(Closing.SLOW_CONSUMER)

    async def __aiter__(self) -> AsyncIterator[Delivery]:
        while self.open:
            yield await self.queue.get()


@dataclass(eq=False)
class Hub:
    database: Database
    limits: SubscriptionLimits = field(default_factory=SubscriptionLimits)
    connections: set[Connection] = field(default_factory=set)
    subscriptions: set[Subscription] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._inbox: asyncio.Queue[Event] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: Listener | None = None
        if self.database.is_sqlite:
            self.database.local_events.receivers.append(self.receive)
        else:
            self._listener = Listener(
                self.database.url, self.receive, on_resumed=self._events_missed
            )

    def _start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._fan_out(), name="xhsz-fan-out"),
                asyncio.create_task(self._recheck(), name="xhsz-recheck"),
            ]
            if self._listener is not None:
                self._listener.start()

    async def stop(self) -> None:
        if self.receive in self.database.local_events.receivers:
            self.database.local_events.receivers.remove(self.receive)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._listener is not None:
            await self._listener.stop()

    def admit(self, connection: Connection) -> bool:
        """Count an authenticated connection in, unless its user has too many already."""
        open_ones = sum(1 for known in self.connections if known.user_id == connection.user_id)
        if open_ones >= self.limits.connections_per_user:
            return False
        self._start()
        self.connections.add(connection)
        metrics.CONNECTIONS_OPEN.inc()
        return True

    def leave(self, connection: Connection) -> None:
        if connection in self.connections:
            self.connections.discard(connection)
            metrics.CONNECTIONS_OPEN.dec()

    @asynccontextmanager
    async def subscribe(
        self, viewer: Viewer, connection: Connection, coordination_no: str | None
    ) -> AsyncIterator[Subscription]:
        """A subscription to the events ``viewer`` may see, for as long as the block runs."""
        self._start()
        subscription = Subscription(
            viewer, coordination_no, connection, asyncio.Queue(self.limits.queue_size)
        )
        self.subscriptions.add(subscription)
        metrics.SUBSCRIPTIONS_OPEN.inc()
        try:
            if self._listener is not None and not self._listener.listening.is_set():
                try:
                    await asyncio.wait_for(self._listener.listening.wait(), LISTENING_WAIT_SECONDS)
                except TimeoutError:
                    logger.warning("subscribed while not listening for events yet")
            yield subscription
        finally:
            subscription.open = False
            self.subscriptions.discard(subscription)
            metrics.SUBSCRIPTIONS_OPEN.dec()

    def receive(self, event: Event) -> None:
        """An event committed somewhere: queued for the fan-out (if anyone here listens)."""
        if self.subscriptions:
            self._inbox.put_nowait(event)

    async def _fan_out(self) -> None:
        while True:
            event = await self._inbox.get()
            try:
                await self._deliver(event)
            except Exception:
                logger.exception("could not deliver the event %s", event.encode())

    async def _deliver(self, event: Event) -> None:
        interested = [s for s in self.subscriptions if s.wants(event)]
        if not interested:
            return
        async with self.database.reader() as session:
            row = await queries.get_for_delivery(session, event.coordination_id)
            await session.rollback()
        if row is None:  # purged since
            return
        deleted = row.deleted_at is not None
        if deleted and event.kind is not EventKind.DELETED:
            return  # a deleted request's earlier events stop with it
        delivery = Delivery(event, row)
        for subscription in interested:
            if subscription.open and queries.may_see(subscription.viewer, row, deleted_too=deleted):
                subscription.offer(delivery)

    async def _recheck(self) -> None:
        while True:
            await asyncio.sleep(self.limits.recheck_seconds)
            try:
                await self.recheck()
            except Exception:
                logger.exception("could not check the tokens of open subscriptions")

    async def recheck(self) -> None:
        """Close every connection whose token has expired or been revoked."""
        connections = list(self.connections)
        if not connections:
            return
        async with self.database.reader() as session:
            versions = await identity.valid_token_versions(
                session=session, user_ids={c.user_id for c in connections}
            )
            revoked = await identity.revoked_token_ids(
                session=session, token_ids={c.token_id for c in connections if c.token_id}
            )
            await session.rollback()
        now = time.time()
        for connection in connections:
            valid = versions.get(connection.user_id) == connection.token_version
            if not valid or connection.token_id in revoked or connection.token_expires <= now:
                metrics.DISCONNECTS.labels("revoked").inc()
                connection.close(Closing.FORBIDDEN)

    def _events_missed(self) -> None:
        """The ``LISTEN`` connection is back after a loss: whatever was committed meanwhile never
        reached these subscribers, so they are asked to reconnect and read afresh."""
        for connection in list(self.connections):
            metrics.DISCONNECTS.labels("events_missed").inc()
            connection.close(Closing.EVENTS_MISSED)
