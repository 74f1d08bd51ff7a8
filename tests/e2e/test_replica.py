"""Reads from a PostgreSQL streaming replica (SPEC §11), on a primary and replica that the suite
starts itself (``tests/replicas.py``): read-your-writes across server processes while replay is
paused, other viewers served by the replica meanwhile, the replica stopped and started under load,
a lagging one left out. Which server answered is read from each server's ``xhsz_reads_total``."""

import asyncio
import math
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from config.settings import Settings
from tests.replicas import StreamingPair, environment, replica_settings, served, until
from tests.servers import free_port, uvicorn_server
from tests.support import GET, Actor, Api, Factory, pk_of, store_request, valid_input

pytestmark = pytest.mark.postgres_only

LIST = """query {
  coordinations(first: 50) { edges { node { ... on Coordination { id coordinationNo version } } } }
}"""

Reads = Counter[tuple[str, str]]
DEGRADED = ("xhsz_reads_total", {"target": "primary", "reason": "degraded"})


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


def _ids(data: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in data["coordinations"]["edges"]]


async def test_a_save_is_read_back_through_another_server_while_replay_is_paused(
    streaming: StreamingPair, tmp_path: Path
) -> None:
    pair = streaming
    settings = replica_settings(pair, tmp_path)
    async with served(settings) as factory:
        alice, bob = await factory.enterprise_user(), await factory.enterprise_user()
        with (
            uvicorn_server(environment(settings)) as writer,
            uvicorn_server(environment(settings)) as other,
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

    await until(bob_reads_from_the_replica, "reading Bob's list from the replica")

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

    await until(alice_reads_from_the_replica, "reading Alice's list from the replica")


async def test_reads_move_to_the_primary_while_the_replica_is_down_and_back_when_it_returns(
    streaming: StreamingPair, tmp_path: Path
) -> None:
    pair = streaming
    settings = replica_settings(pair, tmp_path)
    async with served(settings) as factory:
        carol: Actor = await factory.enterprise_user()
        forms = [valid_input("CUSTOMS_CERTIFICATE") for _ in range(3)]
        stored = {pk_of((await factory.api.create(carol, form))["id"]) for form in forms}
        await pair.caught_up()
        with uvicorn_server(environment(settings)) as server:
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
                    await until(lambda: readyz("ok"), "ready with the replica")
                    await until(lambda: reads_grow("replica"), "reading from the replica")

                    assert await _gauge(http, server, "xhsz_replica_in_use") == 1
                    assert 0 <= await _gauge(http, server, "xhsz_replica_lag_seconds") < 600

                    await asyncio.to_thread(pair.replica.stop)
                    await until(lambda: readyz("degraded"), "reporting the replica degraded")
                    assert await _gauge(http, server, "xhsz_replica_in_use") == 0
                    assert math.isnan(await _gauge(http, server, "xhsz_replica_lag_seconds"))
                    before = await _reads(http, server)
                    await until(lambda: reads_grow("primary"), "reading from the primary")
                    during = await _reads(http, server)
                    assert during[("replica", "caught_up")] == before[("replica", "caught_up")]

                    await asyncio.to_thread(pair.replica.start)
                    await until(lambda: readyz("ok"), "ready with the replica again")
                    assert await _gauge(http, server, "xhsz_replica_in_use") == 1
                    await until(lambda: reads_grow("replica"), "reading from the replica again")
                finally:
                    running = False
                    await asyncio.gather(*clients)
                reads = await _reads(http, server)
                assert set(answers) == {"ok"}, (answers, reads)
                assert answers["ok"] >= 10
                assert reads[("primary", "degraded")] + reads[("primary", "failed")] > 0, reads


async def test_a_lagging_replica_is_left_out_until_it_catches_up(
    streaming: StreamingPair, tmp_path: Path
) -> None:
    pair = streaming
    async with served(replica_settings(pair, tmp_path, max_lag=1)) as factory:
        dave = await factory.enterprise_user()
        client = factory.api.client

        async def replica_is(state: str) -> bool:
            response = await client.get("/readyz")
            assert response.status_code == 200, response.text
            return bool(response.json()["replica"] == state)

        await until(lambda: replica_is("ok"), "using the replica")
        await pair.pause_replay()
        try:
            await factory.api.create(
                dave, valid_input("CUSTOMS_CERTIFICATE")
            )  # the primary moves on
            await until(lambda: replica_is("degraded"), "leaving the lagging replica out")
            listed = await factory.api.data(LIST, actor=dave)
            assert len(_ids(listed)) == 1, "served by the primary"
        finally:
            await pair.resume_replay()
        await until(lambda: replica_is("ok"), "using the replica again")


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
