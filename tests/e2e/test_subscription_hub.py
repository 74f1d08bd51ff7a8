"""A worker's hub (``api.subscriptions``) in this process, fed by real mutations: what it does
with a subscriber that stops reading, and with events nobody here subscribes to."""

import asyncio
import time

from api.subscriptions import Connection, Hub, SubscriptionLimits
from db import identity
from db.database import Database
from db.identity import Viewer
from schema.messages import Closing, Language
from tests.support import Actor, Api, Factory, valid_input

WAIT = 30.0


async def viewer_of(database: Database, actor: Actor) -> Viewer:
    async with database.reader() as session:
        viewer = await identity.load_viewer(session=session, user_id=actor.user_id, token_version=1)
    assert viewer is not None
    return viewer


async def test_a_subscriber_that_falls_behind_is_disconnected_not_buffered(
    factory: Factory, api: Api
) -> None:
    actor = await factory.enterprise_user()
    hub = Hub(factory.database, SubscriptionLimits(queue_size=2))
    closed: list[Closing] = []
    connection = Connection(actor.user_id, 1, time.time() + 60, Language.ZH, closed.append)
    assert hub.admit(connection)
    values = valid_input("CUSTOMS_CERTIFICATE")
    try:
        async with hub.subscribe(
            await viewer_of(factory.database, actor), connection, None
        ) as subscription:
            created = await api.create(actor, values)
            for version in (1, 2):
                payload = await api.save(
                    actor, {**values, "id": created["id"], "expectedVersion": version}
                )
                assert payload["errors"] == []
            async with asyncio.timeout(WAIT):
                while not closed:  # noqa: ASYNC110 (the hub's own task closes it)
                    await asyncio.sleep(0.01)
            assert closed == [Closing.SLOW_CONSUMER]
            assert subscription.queue.qsize() == 2, "held no more than its queue's size"
            assert not subscription.open
            queued = [subscription.queue.get_nowait() for _ in range(2)]
            assert [d.event.version for d in queued] == [1, 2]
    finally:
        hub.leave(connection)
        await hub.stop()


async def test_another_enterprise_s_subscriber_is_offered_nothing(
    factory: Factory, api: Api
) -> None:
    a, b = await factory.enterprise_user(), await factory.enterprise_user()
    hub = Hub(factory.database)
    closed: list[Closing] = []
    connections = [
        Connection(x.user_id, 1, time.time() + 60, Language.ZH, closed.append) for x in (a, b)
    ]
    values = valid_input("CUSTOMS_CERTIFICATE")
    try:
        async with (
            hub.subscribe(await viewer_of(factory.database, a), connections[0], None) as of_a,
            hub.subscribe(await viewer_of(factory.database, b), connections[1], None) as of_b,
        ):
            created = await api.create(a, values)
            async with asyncio.timeout(WAIT):
                delivery = await of_a.queue.get()
            assert delivery.event.coordination_no == created["coordinationNo"]
            assert delivery.row.id is not None
            assert of_b.queue.empty()
            assert closed == []
    finally:
        await hub.stop()
