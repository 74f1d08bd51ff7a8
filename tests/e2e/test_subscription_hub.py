"""Subscriptions in this process: a worker's hub (``api.subscriptions``) fed by real mutations
(what it does with a subscriber that stops reading, and with another enterprise's subscriber),
a subscription sent over HTTP, and the limits as settings."""

import asyncio
import time

import httpx

from api.subscriptions import Connection, Hub
from config.limits import SubscriptionLimits
from config.settings import Settings
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


SUBSCRIPTION = "subscription { coordinationEvents { kind } }"


async def test_a_subscription_over_http_is_refused_with_a_message(
    factory: Factory, api: Api, client: httpx.AsyncClient
) -> None:
    actor = await factory.enterprise_user()
    body = await api.post(SUBSCRIPTION, actor=actor, language="en")
    assert body["errors"][0]["message"] == (
        "Subscriptions run over a WebSocket to /graphql (graphql-transport-ws)"
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    streamed = await client.post(
        "/graphql",
        json={"query": SUBSCRIPTION},
        headers={
            "Authorization": f"Bearer {actor.token}",
            "Accept": 'multipart/mixed;subscriptionSpec="1.0"',
        },
    )
    assert streamed.status_code < 500
    assert "INTERNAL_SERVER_ERROR" not in streamed.text
    assert "订阅需通过 WebSocket" in streamed.text


def test_the_limits_are_settings() -> None:
    settings = Settings.from_env(
        {
            "XHSZ_SECRET_KEY": "s" * 32,
            "XHSZ_SUBSCRIPTIONS_PER_CONNECTION": "3",
            "XHSZ_SUBSCRIPTION_CONNECTIONS_PER_USER": "2",
            "XHSZ_SUBSCRIPTION_QUEUE_SIZE": "50",
            "XHSZ_SUBSCRIPTION_PING_SECONDS": "30",
            "XHSZ_SUBSCRIPTION_RECHECK_SECONDS": "1",
        }
    )
    assert settings.subscription_limits == SubscriptionLimits(
        subscriptions_per_connection=3,
        connections_per_user=2,
        queue_size=50,
        ping_seconds=30,
        recheck_seconds=1,
    )
    assert Settings.from_env({"XHSZ_SECRET_KEY": "s" * 32}).subscription_limits == (
        SubscriptionLimits(10, 5, 256, 15, 2)
    )
