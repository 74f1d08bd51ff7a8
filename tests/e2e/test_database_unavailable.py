"""When PostgreSQL refuses connections, or the pool has none to give in time, the client gets 503
with ``Retry-After`` and a typed ``SERVICE_UNAVAILABLE`` error (not a masked 500), the log one
warning (not a stack at error level), and the next request once connections are available again
succeeds. Every refusal here is PostgreSQL's own, or the pool's."""

import asyncio
import dataclasses
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette

from api.app import create_app
from api.downloads import DownloadLinks
from config.settings import Settings
from db.clock import utcnow
from db.database import Database
from db.migrate import upgrade
from tests.servers import throwaway_postgres
from tests.support import Actor, Factory

pytestmark = pytest.mark.postgres_only

VIEWER = "{ viewer { username } }"
LOGIN = 'mutation { login(username: "nobody", password: "guess") { token } }'
ZH = "服务暂时不可用，请稍后再试"
EN = "The service is temporarily unavailable; please try again shortly."


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://xhsz.test") as http,
    ):
        yield app, http


async def ask(
    http: httpx.AsyncClient, actor: Actor, query: str = VIEWER, **headers: str
) -> httpx.Response:
    headers["Authorization"] = f"Bearer {actor.token}"
    return await http.post("/graphql", json={"query": query}, headers=headers)


def assert_unavailable(
    response: httpx.Response,
    caplog: pytest.LogCaptureFixture,
    *,
    path: str,
    message: str = ZH,
    column: int = 3,
) -> None:
    """503, Retry-After, the typed error at ``path`` and exactly one warning naming the request."""
    request_id = response.headers["x-request-id"]
    assert (response.status_code, response.headers.get("retry-after")) == (503, "5"), response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": message,
                "locations": [{"line": 1, "column": column}],
                "path": [path],
                "extensions": {"code": "SERVICE_UNAVAILABLE", "requestId": request_id},
            }
        ],
    }
    assert_one_warning(caplog, request_id)


def assert_one_warning(caplog: pytest.LogCaptureFixture, request_id: str) -> None:
    logged = [
        r for r in caplog.records if r.name.startswith("xhsz") and r.levelno >= logging.WARNING
    ]
    assert [(r.name, r.levelname, r.exc_info) for r in logged] == [("xhsz.errors", "WARNING", None)]
    assert request_id in logged[0].getMessage()
    caplog.clear()


def download_url(app: Starlette, actor: Actor) -> str:
    links: DownloadLinks = app.state.links
    return links.url(1, user_id=actor.user_id, token_version=1, now=utcnow())


async def until_disconnected(database: Database, role: str | None) -> None:
    """Wait until PostgreSQL has ended the sessions of ``role`` (a backend leaves shortly after
    its client hangs up, and counts against the limit until then)."""
    deadline = time.monotonic() + 30
    query = text("SELECT count(*) FROM pg_stat_activity WHERE usename = :role")
    while True:
        async with database.reader() as session:
            if not await session.scalar(query, {"role": role}):
                return
        assert time.monotonic() < deadline, f"sessions of {role} still open"
        await asyncio.sleep(0.05)


@pytest.fixture
async def limited_role(settings: Settings) -> AsyncIterator[str]:
    """A role of its own that PostgreSQL lets hold one connection at a time, with the app's rights
    on the test database; yields the database URL that logs in as it. Dropped afterwards."""
    role = f"xhsz_limited_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_async_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        for statement in (
            f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}",
        ):
            await connection.execute(text(statement))
    try:
        yield make_url(settings.database_url).set(username=role).render_as_string(False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f"DROP OWNED BY {role}"))
            await connection.execute(text(f"DROP ROLE {role}"))
        await admin.dispose()


async def test_connections_postgresql_refuses_answer_503_until_it_accepts_them_again(
    factory: Factory, settings: Settings, limited_role: str, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await factory.enterprise_user()
    caplog.set_level(logging.INFO, logger="xhsz")
    async with serving(dataclasses.replace(settings, database_url=limited_role)) as (app, http):
        hog = create_async_engine(limited_role)
        async with hog.connect() as held:  # the role's one connection
            await held.execute(text("SELECT 1"))

            assert_unavailable(await ask(http, alice), caplog, path="viewer")
            english = await ask(http, alice, LOGIN, **{"Accept-Language": "en"})
            assert_unavailable(english, caplog, path="login", message=EN, column=12)
            download = await http.get(download_url(app, alice))
            assert (download.status_code, download.headers["retry-after"]) == (503, "5")
            request_id = download.headers["x-request-id"]
            assert download.json() == {
                "errors": [
                    {
                        "message": ZH,
                        "extensions": {"code": "SERVICE_UNAVAILABLE", "requestId": request_id},
                    }
                ]
            }
            assert_one_warning(caplog, request_id)
        await hog.dispose()
        await until_disconnected(factory.database, make_url(limited_role).username)

        back = await ask(http, alice)
        assert (back.status_code, back.json()) == (
            200,
            {"data": {"viewer": {"username": alice.username}}},
        )
        assert (await http.get(download_url(app, alice))).status_code == 404, "no such attachment"


async def test_a_pool_with_no_connection_to_give_in_time_answers_503_until_one_is_free(
    factory: Factory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await factory.enterprise_user()
    caplog.set_level(logging.INFO, logger="xhsz")
    small = dataclasses.replace(settings, database_pool_size=1, database_pool_timeout=1)
    async with serving(small) as (app, http), AsyncExitStack() as held:
        database: Database = app.state.database
        # The pool's one connection: all it may open.
        await held.enter_async_context(database.engine.connect())
        assert_unavailable(await ask(http, alice), caplog, path="viewer")
        await held.aclose()

        back = await ask(http, alice)
        assert (back.status_code, back.json()) == (
            200,
            {"data": {"viewer": {"username": alice.username}}},
        )


async def test_postgresql_down_answers_503_and_service_resumes_when_it_is_back(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="xhsz")
    with throwaway_postgres() as cluster:
        migrating = Database(cluster.url)
        await upgrade(migrating)
        await migrating.dispose()
        cluster.stop()
        down = dataclasses.replace(settings, database_url=cluster.url, storage_dir=tmp_path)
        async with serving(down) as (_app, http):
            refused = await http.post("/graphql", json={"query": LOGIN})
            assert_unavailable(refused, caplog, path="login", column=12)

            cluster.start()
            back = await http.post("/graphql", json={"query": LOGIN})
            assert (back.status_code, back.json()) == (200, {"data": {"login": {"token": None}}})
