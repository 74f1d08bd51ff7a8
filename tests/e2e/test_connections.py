"""Connections to PostgreSQL: no ping before each use, yet a connection the server dropped is
never handed to a request, and a read that meets one unawares runs again on a new one."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from config.settings import Settings
from db.database import Database
from tests.conftest import MakeApi
from tests.pgwire import CountingProxy, counting_proxy
from tests.support import SAVE, Api, Factory, valid_input

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
    # (A read in the instant before that runs again on a new connection: the next test.)
    await asyncio.sleep(0.5)
    for _ in range(3):
        body = await api.post(LIST, actor=alice)
        assert "errors" not in body, body


@pytest.fixture
async def proxy(settings: Settings) -> AsyncIterator[CountingProxy]:
    server = make_url(settings.database_url)
    async with counting_proxy(server.host or "127.0.0.1", server.port or 5432) as running:
        yield running


async def test_a_read_whose_connection_is_gone_unnoticed_runs_again_on_a_new_one(
    make_api: MakeApi, settings: Settings, proxy: CountingProxy, factory: Factory
) -> None:
    """The instant the sleep above avoids, made certain: PostgreSQL's side of the pooled
    connection ends and the app hears nothing until it sends the page's statement."""
    url = make_url(settings.database_url).set(host="127.0.0.1", port=proxy.port)
    api = await make_api(
        database_url=url.render_as_string(hide_password=False), database_pool_size=1
    )
    alice = await factory.enterprise_user()
    assert (await api.data(LIST, actor=alice))["viewer"] == {"username": alice.username}
    connections = proxy.counts.connections
    assert await proxy.sever_silently() == connections  # the pooled one (one per pool)

    body = await api.post(LIST, actor=alice)

    assert "errors" not in body, body
    assert proxy.counts.connections == connections + 1  # run again, once, on a new connection


async def test_a_write_whose_connection_is_gone_fails_and_is_not_run_again(
    make_api: MakeApi, settings: Settings, proxy: CountingProxy, factory: Factory
) -> None:
    url = make_url(settings.database_url).set(host="127.0.0.1", port=proxy.port)
    api = await make_api(
        database_url=url.render_as_string(hide_password=False), database_pool_size=1
    )
    alice = await factory.enterprise_user()
    await api.data(LIST, actor=alice)
    await proxy.sever_silently()

    response = await api.response(SAVE, {"input": valid_input("CUSTOMS_CERTIFICATE")}, actor=alice)

    assert response.status_code in (200, 503), response.text
    assert response.json()["errors"], response.text  # a transaction is never silently redone
    body = await api.post(LIST, actor=alice)  # and the pool recovers for the next request
    assert "errors" not in body, body
