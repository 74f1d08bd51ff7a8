"""Reads from a PostgreSQL streaming replica (SPEC §11), on a primary and replica that the suite
starts itself (``tests/replicas.py``): read-your-writes across server processes while replay is
paused, other viewers served by the replica meanwhile, the replica stopped and started under load,
a lagging one left out. Which server answered is read from each server's ``xhsz_reads_total``."""

import asyncio
import dataclasses
import math
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from api.app import create_app
from api.settings import Settings
from db.database import Database
from db.migrate import upgrade
from db.replica import Replica
from tests.e2e.test_round_trips import SAVE
from tests.pgwire import counting_proxy
from tests.replicas import StreamingPair, streaming_pair
from tests.servers import free_port, uvicorn_server
from tests.support import GET, Actor, Api, Factory, pk_of, store_request, valid_input

pytestmark = pytest.mark.postgres_only

WAIT_SECONDS = 60.0
"""Bound on every wait for a state to change (a probe runs at most once a second per worker)."""

LIST = """query {
  coordinations(first: 50) { edges { node { ... on Coordination { id coordinationNo version } } } }
}"""

Reads = Counter[tuple[str, str]]
DEGRADED = ("xhsz_reads_total", {"target": "primary", "reason": "degraded"})
CAUGHT_UP = ("xhsz_reads_total", {"target": "replica", "reason": "caught_up"})


@pytest.fixture(scope="module")
def pair() -> Iterator[StreamingPair]:
    with streaming_pair() as running:
        yield running


@pytest.fixture(scope="module")
async def migrated(pair: StreamingPair) -> StreamingPair:
    database = Database(pair.primary.url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()
    await pair.caught_up()
    return pair


def _settings(pair: StreamingPair, storage: Path, *, max_lag: int = 600) -> Settings:
    return Settings(
        database_url=pair.primary.url,
        database_replica_url=pair.replica.url,
        replica_max_lag_seconds=max_lag,
        storage_dir=storage,
        secret_key=secrets.token_urlsafe(48),
        database_pool_size=3,
    )


def _environment(settings: Settings) -> dict[str, str]:
    return {
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_DATABASE_REPLICA_URL": settings.database_replica_url,
        "XHSZ_REPLICA_MAX_LAG_SECONDS": str(settings.replica_max_lag_seconds),
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
    }


@asynccontextmanager
async def _served(settings: Settings) -> AsyncIterator[Factory]:
    """The app in this process (for making users and requests, and for ASGI requests)."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as client,
    ):
        yield Factory(app, Api(client))


async def _reads(http: httpx.AsyncClient, server: str) -> Reads:
    """``xhsz_reads_total`` of one server, by (target, reason)."""
    text = (await http.get(f"{server}/metrics")).text
    found: Reads = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "xhsz_reads_total":
                found[sample.labels["target"], sample.labels["reason"]] = int(sample.value)
    return found


async def _gauge(http: httpx.AsyncClient, server: str, name: str) -> float:
    text = (await http.get(f"{server}/metrics")).text
    return next(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


async def _counted(
    http: httpx.AsyncClient, server: str, work: Callable[[], Awaitable[Any]]
) -> tuple[Any, Reads]:
    """What ``work`` returned, and the reads the server counted meanwhile."""
    before = await _reads(http, server)
    result = await work()
    after = await _reads(http, server)
    after.subtract(before)
    return result, +after


async def _until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {WAIT_SECONDS} s")
        await asyncio.sleep(0.2)


def _ids(data: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in data["coordinations"]["edges"]]


async def test_a_save_is_read_back_through_another_server_while_replay_is_paused(
    migrated: StreamingPair, tmp_path: Path
) -> None:
    pair = migrated
    settings = _settings(pair, tmp_path)
    async with _served(settings) as factory:
        alice, bob = await factory.enterprise_user(), await factory.enterprise_user()
        with (
            uvicorn_server(_environment(settings)) as writer,
            uvicorn_server(_environment(settings)) as other,
        ):
            async with (
                httpx.AsyncClient(timeout=60) as http,
                httpx.AsyncClient(base_url=writer, timeout=60) as writer_client,
                httpx.AsyncClient(base_url=other, timeout=60) as other_client,
            ):
                await _read_your_writes(
                    pair, http, Api(writer_client), Api(other_client), other, alice, bob
                )


async def _read_your_writes(
    pair: StreamingPair,
    http: httpx.AsyncClient,
    at_writer: Api,
    at_other: Api,
    other: str,
    alice: Actor,
    bob: Actor,
) -> None:
    # Bob has written too (through the API, so his write position is kept), long enough
    # ago for the replica to have replayed it: the other server reads his list there.
    bobs = await at_writer.create(bob, valid_input("CUSTOMS_CERTIFICATE"))
    await pair.caught_up()

    async def bob_reads_from_the_replica() -> bool:
        listed, reads = await _counted(http, other, lambda: at_other.data(LIST, actor=bob))
        assert _ids(listed) == [bobs["id"]]
        return reads == Counter({("replica", "caught_up"): 1})

    await _until(bob_reads_from_the_replica, "reading Bob's list from the replica")

    await pair.pause_replay()
    try:
        saved = await at_writer.create(alice, valid_input("CUSTOMS_CERTIFICATE"))
        unreplayed = f"SELECT count(*) FROM coordinations WHERE id = {pk_of(saved['id'])}"  # noqa: S608
        assert await pair.on_primary(unreplayed) == 1
        assert await pair.on_replica(unreplayed) == 0, "the replica has not replayed it"

        # Alice reads it back through the other server: from the primary.
        found, reads = await _counted(
            http, other, lambda: at_other.data(GET, {"id": saved["id"]}, actor=alice)
        )
        assert found["coordination"]["coordinationNo"] == saved["coordinationNo"]
        assert found["coordination"]["version"] == saved["version"] == 1
        assert reads == Counter({("primary", "own_write"): 1})
        listed, reads = await _counted(http, other, lambda: at_other.data(LIST, actor=alice))
        assert _ids(listed) == [saved["id"]]
        assert reads == Counter({("primary", "own_write"): 1})

        # Meanwhile Bob's list is still the replica's to serve.
        listed, reads = await _counted(http, other, lambda: at_other.data(LIST, actor=bob))
        assert _ids(listed) == [bobs["id"]]
        assert reads == Counter({("replica", "caught_up"): 1})
        assert await pair.on_replica(unreplayed) == 0, "replay stayed paused throughout"
    finally:
        await pair.resume_replay()

    # Once the replica has replayed her save, Alice reads from it again.
    await pair.caught_up()

    async def alice_reads_from_the_replica() -> bool:
        listed, reads = await _counted(http, other, lambda: at_other.data(LIST, actor=alice))
        assert _ids(listed) == [saved["id"]]
        return reads == Counter({("replica", "caught_up"): 1})

    await _until(alice_reads_from_the_replica, "reading Alice's list from the replica")


async def test_reads_move_to_the_primary_while_the_replica_is_down_and_back_when_it_returns(
    migrated: StreamingPair, tmp_path: Path
) -> None:
    pair = migrated
    settings = _settings(pair, tmp_path)
    async with _served(settings) as factory:
        carol: Actor = await factory.enterprise_user()
        forms = [valid_input("CUSTOMS_CERTIFICATE") for _ in range(3)]
        stored = {pk_of((await factory.api.create(carol, form))["id"]) for form in forms}
        await pair.caught_up()
        with uvicorn_server(_environment(settings)) as server:
            async with httpx.AsyncClient(base_url=server, timeout=60) as http:
                api = Api(http)
                answers: Counter[str] = Counter()
                running = True

                async def client() -> None:
                    while running:
                        response = await api.response(LIST, actor=carol)
                        body = response.json()
                        ids = (
                            {pk_of(each) for each in _ids(body["data"])}
                            if body.get("data")
                            else set()
                        )
                        ok = response.status_code == 200 and "errors" not in body and ids == stored
                        answers["ok" if ok else f"{response.status_code} {body}"] += 1

                async def readyz(replica: str) -> bool:
                    response = await http.get("/readyz")
                    assert response.status_code == 200, response.text
                    return bool(response.json()["replica"] == replica)

                async def reads_grow(target: str) -> bool:
                    before = await _reads(http, server)
                    await asyncio.sleep(0.5)
                    after = await _reads(http, server)
                    return any(after[key] > before[key] for key in after if key[0] == target)

                clients = [asyncio.create_task(client()) for _ in range(3)]
                try:
                    await _until(lambda: readyz("ok"), "ready with the replica")
                    await _until(lambda: reads_grow("replica"), "reading from the replica")

                    assert await _gauge(http, server, "xhsz_replica_in_use") == 1
                    assert 0 <= await _gauge(http, server, "xhsz_replica_lag_seconds") < 600

                    await asyncio.to_thread(pair.replica.stop)
                    await _until(lambda: readyz("degraded"), "reporting the replica degraded")
                    assert await _gauge(http, server, "xhsz_replica_in_use") == 0
                    assert math.isnan(await _gauge(http, server, "xhsz_replica_lag_seconds"))
                    before = await _reads(http, server)
                    await _until(lambda: reads_grow("primary"), "reading from the primary")
                    during = await _reads(http, server)
                    assert during[("replica", "caught_up")] == before[("replica", "caught_up")]

                    await asyncio.to_thread(pair.replica.start)
                    await _until(lambda: readyz("ok"), "ready with the replica again")
                    assert await _gauge(http, server, "xhsz_replica_in_use") == 1
                    await _until(lambda: reads_grow("replica"), "reading from the replica again")
                finally:
                    running = False
                    await asyncio.gather(*clients)
                reads = await _reads(http, server)
                assert set(answers) == {"ok"}, (answers, reads)
                assert answers["ok"] >= 10
                assert reads[("primary", "degraded")] + reads[("primary", "failed")] > 0, reads


async def test_a_lagging_replica_is_left_out_until_it_catches_up(
    migrated: StreamingPair, tmp_path: Path
) -> None:
    pair = migrated
    async with _served(_settings(pair, tmp_path, max_lag=1)) as factory:
        dave = await factory.enterprise_user()
        client = factory.api.client

        async def replica_is(state: str) -> bool:
            response = await client.get("/readyz")
            assert response.status_code == 200, response.text
            return bool(response.json()["replica"] == state)

        await _until(lambda: replica_is("ok"), "using the replica")
        await pair.pause_replay()
        try:
            await factory.api.create(
                dave, valid_input("CUSTOMS_CERTIFICATE")
            )  # the primary moves on
            await _until(lambda: replica_is("degraded"), "leaving the lagging replica out")
            listed = await factory.api.data(LIST, actor=dave)
            assert len(_ids(listed)) == 1, "served by the primary"
        finally:
            await pair.resume_replay()
        await _until(lambda: replica_is("ok"), "using the replica again")


async def test_without_a_standby_reads_stay_on_the_primary_and_the_service_is_ready(
    settings: Settings, make_api: Callable[..., Awaitable[Api]], factory: Factory
) -> None:
    """A replica URL where nothing listens, or naming a server that is not a standby: degraded."""
    alice = await factory.enterprise_user()
    await store_request(factory.database, alice)
    nowhere = make_url(settings.database_url).set(host="127.0.0.1", port=free_port())
    for replica_url in (nowhere.render_as_string(hide_password=False), settings.database_url):
        api = await make_api(database_replica_url=replica_url)
        ready = await api.client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ready", "database": "ok", "storage": "ok", "replica": "degraded",
        }  # fmt: skip
        before = REGISTRY.get_sample_value(*DEGRADED) or 0
        assert len(_ids(await api.data(LIST, actor=alice))) == 1
        assert REGISTRY.get_sample_value(*DEGRADED) == before + 1


PAGE = """query {
  coordinations(first: 20) {
    edges { node { ... on Coordination { id coordinationNo attachments { id slot } } } }
  }
}"""


async def test_with_a_replica_a_page_costs_the_primary_one_round_trip_and_a_save_one_more(
    migrated: StreamingPair, tmp_path: Path
) -> None:
    """Counted at the wire: the viewer's write position on the primary, the page and its
    attachments on the replica; a save's seven round trips, then its write position kept."""
    pair = migrated
    async with (
        counting_proxy(port=pair.primary.port) as to_primary,
        counting_proxy(port=pair.replica.port) as to_replica,
    ):
        settings = _settings(pair, tmp_path)
        settings = dataclasses.replace(
            settings,
            database_url=make_url(pair.primary.url).set(port=to_primary.port).render_as_string(),
            database_replica_url=make_url(pair.replica.url)
            .set(port=to_replica.port)
            .render_as_string(),
        )
        async with _served(settings) as factory:
            erin = await factory.enterprise_user()
            variables = {"input": valid_input("CUSTOMS_CERTIFICATE")}
            await factory.api.data(SAVE, variables, actor=erin)
            await pair.caught_up()
            replica = factory.database.replica
            assert replica is not None

            async def served_by_the_replica() -> bool:
                before = REGISTRY.get_sample_value(*CAUGHT_UP) or 0
                await factory.api.data(PAGE, actor=erin)
                return REGISTRY.get_sample_value(*CAUGHT_UP) == before + 1

            # Warm: the statements prepared on each connection, a probe that saw the save.
            await _until(served_by_the_replica, "reading from the replica")
            replica.interval = 3600.0  # no probe from here on, to count requests alone

            async def trips(query: str, values: dict[str, Any] | None = None) -> tuple[int, int]:
                primary, standby = to_primary.counts.round_trips, to_replica.counts.round_trips
                await factory.api.data(query, values, actor=erin)
                return (
                    to_primary.counts.round_trips - primary,
                    to_replica.counts.round_trips - standby,
                )

            assert [await trips(PAGE) for _ in range(3)] == [(1, 2)] * 3
            assert [await trips(SAVE, variables) for _ in range(2)][-1] == (8, 0)
            # Her save is newer than the replay position last probed: the primary reads, after
            # the position (the first page prepares its statements on that connection).
            await trips(PAGE)
            assert [await trips(PAGE) for _ in range(2)] == [(3, 0)] * 2


async def test_a_restarted_replica_is_not_trusted_with_what_its_predecessor_had_replayed(
    migrated: StreamingPair, tmp_path: Path
) -> None:
    """A standby restarting after a crash may show an older state for a moment: the replay
    position read before counts for nothing once a connection reaches the new server, until a
    probe of that server."""
    pair = migrated
    async with _served(_settings(pair, tmp_path)) as factory:
        replica = factory.database.replica
        assert replica is not None
        await replica.probe()
        assert replica.usable
        assert replica.replayed > 0
        known = replica.replayed

        await asyncio.to_thread(pair.replica.stop)
        await asyncio.to_thread(pair.replica.start)
        await replica.engine.dispose()  # the pool's connections were to the server stopped
        async with replica.engine.connect():
            assert replica.replayed == 0, "a new server: nothing replayed is known of it"
        await _until(_probed_usable(replica), "probing the restarted replica")
        assert replica.replayed >= known


def _probed_usable(replica: Replica) -> Callable[[], Awaitable[bool]]:
    async def probed() -> bool:
        await replica.probe()
        return bool(replica.usable)

    return probed
