"""A PostgreSQL primary and its streaming replica of the suite's own, in temporary folders.

``initdb`` for the primary, ``pg_basebackup -R`` for the replica (a hot standby streaming from
it), each on a free port and run as the postgres system user (``tests/servers.py``); the machine's
own cluster is never touched. Tests that need them skip, saying why, where the binaries or root
are missing."""

import asyncio
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from subprocess import CalledProcessError
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from api.app import create_app
from config.settings import Settings
from tests.servers import ThrowawayPostgres, missing_postgres_binaries
from tests.support import Api, Factory

CATCH_UP_SECONDS = 60.0
"""How long a test waits for the replica to replay what the primary wrote (a loaded machine)."""

WAIT_SECONDS = 60.0
"""Bound on every wait for the app to change its mind (it probes at most once a second)."""


@dataclass
class StreamingPair:
    primary: ThrowawayPostgres
    replica: ThrowawayPostgres

    async def _run(self, cluster: ThrowawayPostgres, statement: str) -> Any:
        url = make_url(cluster.url)
        connection = await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, database=url.database, timeout=10
        )
        try:
            return await connection.fetchval(statement)
        finally:
            await connection.close()

    async def on_primary(self, statement: str) -> Any:
        return await self._run(self.primary, statement)

    async def on_replica(self, statement: str) -> Any:
        return await self._run(self.replica, statement)

    async def pause_replay(self) -> None:
        """Stop the replica from applying what it receives (it keeps receiving it)."""
        await self.on_replica("SELECT pg_wal_replay_pause()")
        await self._wait_replica("SELECT pg_get_wal_replay_pause_state() = 'paused'", "paused")

    async def resume_replay(self) -> None:
        await self.on_replica("SELECT pg_wal_replay_resume()")

    async def caught_up(self) -> None:
        """Wait until the replica has replayed everything the primary had written by now."""
        position = await self.on_primary("SELECT pg_current_wal_flush_lsn()::text")
        await self._wait_replica(
            f"SELECT pg_last_wal_replay_lsn() >= '{position}'::pg_lsn", f"replayed to {position}"
        )

    async def _wait_replica(self, condition: str, what: str) -> None:
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while not await self.on_replica(condition):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the replica was not {what} within {CATCH_UP_SECONDS} s")
            await asyncio.sleep(0.05)


@contextmanager
def streaming_pair() -> Iterator[StreamingPair]:
    """A running primary and its replica until the block ends (skips the test if impossible)."""
    missing = missing_postgres_binaries()
    if missing is not None:
        pytest.skip(f"a streaming replica of the suite's own {missing}")
    with (
        tempfile.TemporaryDirectory(prefix="xhsz-primary-") as primary_folder,
        tempfile.TemporaryDirectory(prefix="xhsz-replica-") as replica_folder,
    ):
        primary = ThrowawayPostgres(Path(primary_folder))
        primary.start()
        try:
            replica = ThrowawayPostgres(Path(replica_folder), standby_of=primary)
            replica.start()
            try:
                yield StreamingPair(primary, replica)
            finally:
                with suppress(CalledProcessError):
                    replica.stop()
        finally:
            with suppress(CalledProcessError):
                primary.stop()


def replica_settings(pair: StreamingPair, storage: Path, *, max_lag: int = 600) -> Settings:
    """The app on ``pair``: the primary, and queries from the replica."""
    return Settings(
        database_url=pair.primary.url,
        database_replica_url=pair.replica.url,
        replica_max_lag_seconds=max_lag,
        storage_dir=storage,
        secret_key=secrets.token_urlsafe(48),
        database_pool_size=3,
    )


def environment(settings: Settings) -> dict[str, str]:
    """``settings`` as a server process reads them."""
    return {
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_DATABASE_REPLICA_URL": settings.database_replica_url,
        "XHSZ_REPLICA_MAX_LAG_SECONDS": str(settings.replica_max_lag_seconds),
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
    }


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[Factory]:
    """The app in this process (for making users and requests, and for ASGI requests)."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as client,
    ):
        yield Factory(app, Api(client))


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait, a bounded time, for ``condition`` to hold."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {WAIT_SECONDS} s")
        await asyncio.sleep(0.2)
