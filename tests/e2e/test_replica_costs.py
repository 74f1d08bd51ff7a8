"""What reading from a replica costs, counted at the wire, and what a restarted replica is
trusted with, on the suite's own primary and streaming replica (``tests/replicas.py``)."""

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.engine import make_url

from db.replica import Replica
from tests.e2e.test_round_trips import SAVE
from tests.pgwire import counting_proxy
from tests.replicas import StreamingPair, replica_settings, served, until
from tests.support import valid_input

pytestmark = pytest.mark.postgres_only

CAUGHT_UP = ("xhsz_reads_total", {"target": "replica", "reason": "caught_up"})


PAGE = """query {
  coordinations(first: 20) {
    edges { node { ... on Coordination { id coordinationNo attachments { id slot } } } }
  }
}"""


async def test_with_a_replica_a_page_costs_the_primary_one_round_trip_and_a_save_one_more(
    streaming: StreamingPair, tmp_path: Path
) -> None:
    """Counted at the wire: the viewer's write position on the primary, the page with its
    attachments (one statement) on the replica; a save's eight round trips (its NOTIFY
    included), then its write position kept."""
    pair = streaming
    async with (
        counting_proxy(port=pair.primary.port) as to_primary,
        counting_proxy(port=pair.replica.port) as to_replica,
    ):
        settings = replica_settings(pair, tmp_path)
        settings = dataclasses.replace(
            settings,
            database_url=make_url(pair.primary.url).set(port=to_primary.port).render_as_string(),
            database_replica_url=make_url(pair.replica.url)
            .set(port=to_replica.port)
            .render_as_string(),
        )
        async with served(settings) as factory:
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
            await until(served_by_the_replica, "reading from the replica")
            replica.interval = 3600.0  # no probe from here on, to count requests alone

            async def trips(query: str, values: dict[str, Any] | None = None) -> tuple[int, int]:
                primary, standby = to_primary.counts.round_trips, to_replica.counts.round_trips
                await factory.api.data(query, values, actor=erin)
                return (
                    to_primary.counts.round_trips - primary,
                    to_replica.counts.round_trips - standby,
                )

            assert [await trips(PAGE) for _ in range(3)] == [(1, 1)] * 3
            assert [await trips(SAVE, variables) for _ in range(2)][-1] == (9, 0)
            # Her save is newer than the replay position last probed: the primary reads, after
            # the position (the first page prepares its statements on that connection).
            await trips(PAGE)
            assert [await trips(PAGE) for _ in range(2)] == [(2, 0)] * 2


async def test_a_restarted_replica_is_not_trusted_with_what_its_predecessor_had_replayed(
    streaming: StreamingPair, tmp_path: Path
) -> None:
    """A standby restarting after a crash may show an older state for a moment: the replay
    position read before counts for nothing once a connection reaches the new server, until a
    probe of that server."""
    pair = streaming
    async with served(replica_settings(pair, tmp_path)) as factory:
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
        await until(_probed_usable(replica), "probing the restarted replica")
        assert replica.replayed >= known


def _probed_usable(replica: Replica) -> Callable[[], Awaitable[bool]]:
    async def probed() -> bool:
        await replica.probe()
        return bool(replica.usable)

    return probed
