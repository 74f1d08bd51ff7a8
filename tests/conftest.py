"""Test harness: the real app over HTTP (httpx's ASGI transport) on a real database.

``XHSZ_TEST_BACKEND=sqlite`` (default) uses a fresh SQLite file; ``postgresql`` creates a database
of its own on ``XHSZ_TEST_POSTGRES`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432``) and
drops it afterwards. The schema is migrated once per run; every test starts from empty tables.
"""

import asyncio
import dataclasses
import os
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette

from api.app import create_app
from config.settings import Settings
from db.database import Database
from db.migrate import upgrade
from db.models import Base
from tests.replicas import StreamingPair, streaming_pair
from tests.servers import LOG_TAIL, forget_stopped_servers, server_logs
from tests.support import Api, Factory

BACKEND = os.environ.get("XHSZ_TEST_BACKEND", "sqlite")
POSTGRES_SERVER = os.environ.get(
    "XHSZ_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432"
)


def pytest_report_header() -> str:
    return f"xhsz backend: {BACKEND}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test that ran real servers (tests/servers.py) shows the tail of each one's log."""
    report: pytest.TestReport = yield
    if report.failed:
        for command, tail in server_logs():
            report.sections.append((f"server log, last {LOG_TAIL} characters: {command}", tail))
    if report.when == "teardown":
        forget_stopped_servers()
    return report


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="needs PostgreSQL (XHSZ_TEST_BACKEND=postgresql)")
    for item in items:
        if BACKEND != "postgresql" and "postgres_only" in item.keywords:
            item.add_marker(skip)


async def _admin(statement: str) -> None:
    """Run a statement on the server's ``postgres`` database; while the server is full ("too many
    clients": it is shared with other test runs), try again for up to a minute."""
    deadline = time.monotonic() + 60
    while True:
        engine = create_async_engine(
            make_url(POSTGRES_SERVER).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
            return
        except DBAPIError as error:
            if "too many clients" not in str(error) or time.monotonic() > deadline:
                raise
        finally:
            await engine.dispose()
        await asyncio.sleep(1)


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if BACKEND == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'xhsz.db'}"
        return
    if BACKEND != "postgresql":
        raise pytest.UsageError(f"XHSZ_TEST_BACKEND must be sqlite or postgresql, not {BACKEND}")
    name = f"xhsz_test_{os.getpid()}_{secrets.token_hex(4)}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def storage_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("attachments")


@pytest.fixture(scope="session")
def settings(database_url: str, storage_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        storage_dir=storage_dir,
        secret_key=secrets.token_urlsafe(48),
        # small, for PostgreSQL's max_connections is shared with every other suite running
        database_pool_size=5,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    await upgrade(application.state.database)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def database(app: Starlette) -> Database:
    database: Database = app.state.database
    return database


def _empty_directory(directory: Path) -> None:
    shutil.rmtree(directory)
    directory.mkdir()


@pytest.fixture(autouse=True)
async def empty_tables(request: pytest.FixtureRequest) -> None:
    """Every test that touches the app starts from empty tables, an empty storage directory and
    no remembered principals or persisted queries (user ids start again at 1)."""
    if "app" not in request.fixturenames:
        return
    request.getfixturevalue("app").state.principals.clear()
    request.getfixturevalue("app").state.persisted.clear()
    _empty_directory(request.getfixturevalue("storage_dir"))
    database: Database = request.getfixturevalue("database")
    # DELETE, children first, rather than TRUNCATE: on PostgreSQL a TRUNCATE of every table gives
    # each a new file (50-150 ms a test, a minute or more a run), a DELETE of the few rows a test
    # wrote takes a few ms. Identities start again at 1 as after TRUNCATE … RESTART IDENTITY
    # (SQLite's rowids do so by themselves once a table is empty).
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with database.write_engine.begin() as connection:
        for table in tables:
            await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (our own names)
        if not database.is_sqlite:
            await connection.execute(
                text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'")
            )


def _client(app: Starlette, address: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://xhsz.test")


@pytest.fixture
def statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements the app sends while the test runs (not SQLite's BEGIN, which only
    chooses the kind of transaction)."""
    seen: list[str] = []

    def record(*arguments: Any) -> None:
        statement: str = arguments[2]
        if statement.split(None, 1)[0].upper() != "BEGIN":
            seen.append(statement)

    for engine in database.engines:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield seen
    for engine in database.engines:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app) as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)


MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_api(app: Starlette, settings: Settings) -> AsyncIterator[MakeApi]:
    """Another app on the same database with some settings changed (``await make_api(x=…)``),
    called from another client address if ``address`` is given."""
    async with AsyncExitStack() as stack:

        async def make(*, address: str = "203.0.113.7", **changes: Any) -> Api:
            other = create_app(dataclasses.replace(settings, **changes))
            await stack.enter_async_context(other.router.lifespan_context(other))
            return Api(await stack.enter_async_context(_client(other, address)))

        yield make


@pytest.fixture
def factory(app: Starlette, api: Api) -> Factory:
    return Factory(app, api)


@pytest.fixture(scope="session")
async def streaming() -> AsyncIterator[StreamingPair]:
    """A PostgreSQL primary and its streaming replica of the suite's own, migrated, started when
    a test first asks (``tests/replicas.py``; skips saying why where it cannot be done)."""
    with streaming_pair() as pair:
        database = Database(pair.primary.url)
        try:
            await upgrade(database)
        finally:
            await database.dispose()
        await pair.caught_up()
        yield pair
