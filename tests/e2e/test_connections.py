"""Connections to PostgreSQL: no ping before each use, yet a connection the server dropped is
never handed to a request."""

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from db.database import Database
from tests.support import Api, Factory

pytestmark = pytest.mark.postgres_only

LIST = "{ coordinations(first: 5) { nodes { __typename } } viewer { username } }"


async def _terminate_the_apps_connections(database: Database) -> int:
    """What a restart of PostgreSQL does to the pool (from a connection of our own)."""
    engine = create_async_engine(database.url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            ended = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await engine.dispose()
    return int(ended or 0)


async def test_requests_after_the_server_dropped_every_connection_succeed(
    api: Api, factory: Factory, database: Database
) -> None:
    alice = await factory.enterprise_user()
    for _ in range(3):
        assert (await api.data(LIST, actor=alice))["viewer"] == {"username": alice.username}
    assert await _terminate_the_apps_connections(database) >= 1
    # The server's close reaches each pooled connection as an end of file on its socket, which
    # the event loop delivers on its next turns: from then on the pool must not hand it out.
    # (A request in the instant before that still fails once: no retry yet.)
    await asyncio.sleep(0.5)
    for _ in range(3):
        body = await api.post(LIST, actor=alice)
        assert "errors" not in body, body
