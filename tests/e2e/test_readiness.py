"""``/healthz`` and ``/readyz``: ready means the database answers and storage is writable."""

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from config.settings import Settings
from tests.servers import throwaway_postgres

ClientFor = Callable[[Settings], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def client_for() -> AsyncIterator[ClientFor]:
    opened: list[tuple[Starlette, httpx.AsyncClient]] = []

    async def make(settings: Settings) -> httpx.AsyncClient:
        app = create_app(settings)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x")
        opened.append((app, client))
        return client

    yield make
    for app, client in opened:
        await client.aclose()
        await app.state.database.dispose()


async def test_healthz_and_readyz_answer_when_all_is_well(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).text == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "storage": "ok"}


async def test_readyz_fails_when_storage_is_not_writable(
    client_for: ClientFor, settings: Settings, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the storage folder should be")
    client = await client_for(
        Settings(database_url=settings.database_url, storage_dir=blocker, secret_key="k" * 40)
    )
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "storage": "failing"}


@pytest.mark.postgres_only
async def test_readyz_follows_postgresql_going_down_and_coming_back(
    client_for: ClientFor, tmp_path: Path
) -> None:
    with throwaway_postgres() as cluster:
        client = await client_for(
            Settings(
                database_url=cluster.url, storage_dir=tmp_path, secret_key=secrets.token_hex(32)
            )
        )
        assert (await client.get("/readyz")).status_code == 200

        cluster.stop()
        down = await client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["database"] == "failing"
        assert (await client.get("/healthz")).status_code == 200, "the process itself is fine"

        cluster.start()
        back = await client.get("/readyz")
        assert back.status_code == 200, back.json()
