"""Live updates (SPEC §10) against a real ``xhsz serve``: two workers on PostgreSQL (events travel
by NOTIFY from the worker that committed to the one holding the socket), one process on SQLite
(events go in-process). Subscribers are real graphql-transport-ws clients (``tests.live``, and
gql's WebSocket transport in one test)."""

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from sqlalchemy import text
from sqlalchemy.engine import make_url

from config.settings import Settings
from db.listener import APPLICATION_NAME
from tests.conftest import BACKEND
from tests.live import EVENTS, WAIT, Socket, wait_for_subscriptions, ws_url
from tests.servers import Server, xhsz_serve
from tests.support import (
    Actor,
    Api,
    Factory,
    attach,
    register_certificate,
    sample,
    valid_input,
    xhsz,
)

WORKERS = 2 if BACKEND == "postgresql" else 1
LISTED_ORIGIN = "https://portal.example.gov.cn"


@pytest.fixture(scope="module")
def live(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    environment = {
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("metrics")),
        "XHSZ_SUBSCRIPTION_RECHECK_SECONDS": "1",
        "XHSZ_CORS_ORIGINS": LISTED_ORIGIN,
        "XHSZ_PRINCIPAL_CACHE_SECONDS": "0",  # user ids repeat from test to test
    }
    with xhsz_serve(environment, workers=WORKERS) as server:
        yield server


@pytest.fixture
async def http(live: Server) -> AsyncIterator[httpx.AsyncClient]:
    # A new connection per request, so that requests spread over the workers.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=live.url, timeout=WAIT, limits=limits) as client:
        yield client


@pytest.fixture
def remote(http: httpx.AsyncClient) -> Api:
    return Api(http)


def bearer(actor: Actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {actor.token}"}


def log_lines(server: Server) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]


def connected_pids(server: Server) -> list[int]:
    return [
        line["pid"] for line in log_lines(server) if line.get("message") == "subscription connected"
    ]


async def subscribers_on_every_worker(
    live: Server, http: httpx.AsyncClient, new_actor: Callable[[], Awaitable[Actor]]
) -> list[Socket]:
    """Subscribers (each a new user from ``new_actor``, so that no per-user limit is reached)
    until every worker holds at least one. Which worker accepts a connection is the kernel's
    choice, and one idle worker may take several in a row: they come in pairs, at once."""
    sockets: list[Socket] = []
    before = len(connected_pids(live))
    while len(set(connected_pids(live)[before:])) < WORKERS:
        assert len(sockets) < 16, "the workers did not all get a connection"
        actors = [await new_actor() for _ in range(2)]
        pair = await asyncio.gather(*(Socket.open(live.url, bearer(a)) for a in actors))
        for socket in pair:
            await socket.subscribe()
        sockets.extend(pair)
        await wait_for_subscriptions(http, len(sockets))
    return sockets


def colleague(factory: Factory, actor: Actor) -> Callable[[], Awaitable[Actor]]:
    """Makes users of ``actor``'s enterprise."""
    return lambda: factory.enterprise_user(uscc=actor.uscc, name=actor.enterprise_name)


async def test_saves_reach_every_worker_s_subscribers_in_order_exactly_once(
    live: Server, factory: Factory, remote: Api, http: httpx.AsyncClient
) -> None:
    actor = await factory.enterprise_user()
    created = await remote.create(actor, valid_input("CUSTOMS_CERTIFICATE"))
    sockets = await subscribers_on_every_worker(live, http, colleague(factory, actor))
    values = valid_input("CUSTOMS_CERTIFICATE")
    for version in range(1, 21):
        saved = await remote.save(
            actor, {**values, "id": created["id"], "expectedVersion": version}
        )
        assert saved["errors"] == []
    for socket in sockets:
        events = await socket.events(20)
        assert [(e["kind"], e["version"]) for e in events] == [
            ("SAVED", version) for version in range(2, 22)
        ]
        assert {e["coordinationId"] for e in events} == {created["id"]}
        assert all(e["coordination"]["id"] == created["id"] for e in events)
        await socket.nothing_more(0.5)
        await socket.close()
    # Every worker holds a subscriber: whichever served a save, another one delivered it too.
    saved_by = {
        line["pid"]
        for line in log_lines(live)
        if line.get("operation") == "mutation:saveCoordination"
    }
    assert saved_by <= set(connected_pids(live))


async def test_a_gql_client_receives_the_life_of_a_request(
    live: Server, factory: Factory, remote: Api, http: httpx.AsyncClient, settings: Settings
) -> None:
    actor = await factory.enterprise_user()
    values = valid_input("CUSTOMS_CERTIFICATE")
    await register_certificate(factory.database, actor, values)
    transport = WebsocketsTransport(
        url=ws_url(live.url),
        init_payload=bearer(actor),
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    received: list[dict[str, Any]] = []
    async with Client(transport=transport) as session:

        async def listen() -> None:
            async for result in session.subscribe(gql(EVENTS)):
                received.append(result["coordinationEvents"])
                if result["coordinationEvents"]["kind"] == "DELETED":
                    return

        listening = asyncio.create_task(listen())
        await wait_for_subscriptions(http, 1)
        created = await remote.create(actor, values)
        await attach(factory.database, created["id"])  # straight into the database: no event
        assert (await remote.submit(actor, created["id"], 1))["errors"] == []
        assert (await remote.withdraw(actor, created["id"], 2))["errors"] == []
        assert (await remote.delete(actor, created["id"], 3))["errors"] == []
        await asyncio.wait_for(listening, WAIT)
    assert [(e["kind"], e["status"], e["version"]) for e in received] == [
        ("CREATED", "DRAFT", 1),
        ("SUBMITTED", "PENDING", 2),
        ("WITHDRAWN", "WITHDRAWN", 3),
        ("DELETED", "WITHDRAWN", 4),
    ]
    assert received[-1]["coordination"] is None
    assert received[-1]["coordinationNo"] == created["coordinationNo"]


async def test_customs_sees_every_enterprise_s_submissions(
    live: Server, factory: Factory, remote: Api, http: httpx.AsyncClient
) -> None:
    enterprises = [await factory.enterprise_user() for _ in range(2)]
    sockets = await subscribers_on_every_worker(live, http, factory.customs_user)
    submitted = []
    for number, actor in enumerate(enterprises):
        values = valid_input("CUSTOMS_CERTIFICATE", certificateNo=f"KS{number:08d}")
        await register_certificate(factory.database, actor, values)
        created = await remote.create(actor, values)
        await attach(factory.database, created["id"])
        assert (await remote.submit(actor, created["id"], 1))["errors"] == []
        submitted.append(created["coordinationNo"])
    for socket in sockets:
        events = await socket.events(4)
        assert [(e["kind"], e["coordinationNo"]) for e in events] == [
            ("CREATED", submitted[0]),
            ("SUBMITTED", submitted[0]),
            ("CREATED", submitted[1]),
            ("SUBMITTED", submitted[1]),
        ]
        assert events[1]["coordination"]["status"] == "PENDING"
        await socket.close()


async def test_an_enterprise_receives_all_of_its_own_and_nothing_of_another_s(
    live: Server, factory: Factory, remote: Api, http: httpx.AsyncClient
) -> None:
    a, b = await factory.enterprise_user(), await factory.enterprise_user()
    values = valid_input("CUSTOMS_CERTIFICATE")
    first_a = await remote.create(a, values)
    first_b = await remote.create(b, values)
    sockets = await subscribers_on_every_worker(live, http, colleague(factory, b))

    async def saves(actor: Actor, created: dict[str, Any]) -> None:
        for version in range(1, 201):
            payload = await remote.save(
                actor, {**values, "id": created["id"], "expectedVersion": version}
            )
            assert payload["errors"] == []

    await asyncio.gather(saves(a, first_a), saves(b, first_b))
    assert (await remote.delete(a, first_a["id"], 201))["errors"] == []
    for socket in sockets:
        events = await socket.events(200)
        assert {e["coordinationNo"] for e in events} == {first_b["coordinationNo"]}
        assert [e["version"] for e in events] == list(range(2, 202))
        await socket.nothing_more(0.5)
        await socket.close()


async def test_a_rolled_back_change_emits_nothing(
    live: Server, factory: Factory, remote: Api, http: httpx.AsyncClient
) -> None:
    actor = await factory.enterprise_user()
    values = valid_input("CUSTOMS_CERTIFICATE")
    created = await remote.create(actor, values)
    socket = await Socket.open(live.url, bearer(actor))
    await socket.subscribe(no=created["coordinationNo"])
    await wait_for_subscriptions(http, 1)
    stale = await remote.save(actor, {**values, "id": created["id"], "expectedVersion": 7})
    assert [e["code"] for e in stale["errors"]] == ["VERSION_CONFLICT"]
    invalid = await remote.save(actor, {**values, "id": created["id"], "contactPhone": "x"})
    assert [e["code"] for e in invalid["errors"]] == ["INVALID_FORMAT"]
    unsubmittable = await remote.submit(actor, created["id"], 1)  # no attachments
    assert {e["code"] for e in unsubmittable["errors"]} == {"ATTACHMENT_REQUIRED"}
    saved = await remote.save(actor, {**values, "id": created["id"], "contactName": "李四"})
    assert saved["errors"] == []
    [event] = await socket.events(1)
    assert (event["kind"], event["version"]) == ("SAVED", 2)
    assert event["coordination"]["contactName"] == "李四"
    await socket.nothing_more(0.5)
    await socket.close()


async def test_disabling_a_user_closes_their_subscriptions_within_five_seconds(
    live: Server, factory: Factory, http: httpx.AsyncClient, settings: Settings
) -> None:
    actor = await factory.enterprise_user()
    other = await factory.enterprise_user()
    sockets = [await Socket.open(live.url, bearer(actor)) for _ in range(3)]
    for socket in sockets:
        await socket.subscribe()
    bystander = await Socket.open(live.url, bearer(other))
    await bystander.subscribe()
    assert xhsz(settings, "user", "disable", actor.username).returncode == 0
    disabled_at = time.monotonic()
    for socket in sockets:
        assert await socket.closed(wait=5) == (4403, "未登录或登录已失效")
    assert time.monotonic() - disabled_at < 5
    await bystander.nothing_more(1.5)  # the other user's connection stays open
    await bystander.close()


async def test_logging_out_closes_that_token_s_subscriptions_only(
    live: Server, factory: Factory, remote: Api
) -> None:
    actor = await factory.enterprise_user()
    other_token = factory.tokens.issue(
        user_id=actor.user_id, token_version=1, now=dt.datetime.now(dt.UTC)
    )[0]
    socket = await Socket.open(live.url, bearer(actor))
    await socket.subscribe()
    other = await Socket.open(live.url, {"Authorization": f"Bearer {other_token}"})
    await other.subscribe()
    logged_out = await remote.data("mutation { logout { message } }", actor=actor)
    assert logged_out["logout"]["message"]
    out_at = time.monotonic()
    assert await socket.closed(wait=5) == (4403, "未登录或登录已失效")
    assert time.monotonic() - out_at < 5
    await other.nothing_more(1.5)  # the user's other token keeps its subscription
    await other.close()


@pytest.mark.parametrize(
    "payload",
    [None, {}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}],
    ids=["no-payload", "no-token", "invalid-token", "not-bearer"],
)
async def test_a_connection_without_a_valid_token_is_closed_with_4403(
    live: Server, payload: dict[str, str] | None
) -> None:
    socket = await Socket.open(live.url, payload, ack=False)
    assert await socket.closed() == (4403, "未登录或登录已失效")


async def test_an_expired_token_is_refused_in_english_when_asked(
    live: Server, factory: Factory, settings: Settings
) -> None:
    actor = await factory.enterprise_user()
    issued = factory.tokens.issue(user_id=actor.user_id, token_version=1, now=_long_ago())[0]
    payload = {"Authorization": f"Bearer {issued}", "Accept-Language": "en"}
    socket = await Socket.open(live.url, payload, ack=False)
    assert await socket.closed() == (4403, "Forbidden: no valid token")


def _long_ago() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=2)


async def test_limits_on_subscriptions_and_connections(
    live: Server, factory: Factory, http: httpx.AsyncClient
) -> None:
    actor = await factory.enterprise_user()
    socket = await Socket.open(live.url, {**bearer(actor), "Accept-Language": "en"})
    for number in range(10):
        await socket.subscribe(str(number))
    await socket.subscribe("11")
    refused = await socket.message()
    assert (refused["type"], refused["id"]) == ("error", "11")
    assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
    assert refused["payload"][0]["message"] == "At most 10 subscriptions per connection"
    await socket.close()
    if WORKERS == 1:  # per worker: with two, which one a connection reaches is chance
        sockets = [await Socket.open(live.url, bearer(actor)) for _ in range(5)]
        extra = await Socket.open(live.url, bearer(actor), ack=False)
        code, _ = await extra.closed()
        assert code == 4429
        for each in sockets:
            await each.close()


async def test_queries_and_mutations_are_refused_over_the_socket(
    live: Server, factory: Factory
) -> None:
    actor = await factory.enterprise_user()
    socket = await Socket.open(live.url, bearer(actor))
    await socket.subscribe("q", query="{ viewer { username } }")
    refused = await socket.message()
    assert (refused["type"], refused["id"]) == ("error", "q")
    await socket.close()


async def test_a_handshake_from_another_origin_is_refused(live: Server, factory: Factory) -> None:
    from websockets.exceptions import InvalidStatus

    actor = await factory.enterprise_user()
    with pytest.raises(InvalidStatus) as refused:
        await Socket.open(live.url, bearer(actor), origin="https://evil.example")
    assert refused.value.response.status_code == 403
    same = await Socket.open(live.url, bearer(actor), origin=live.url)
    await same.close()
    listed = await Socket.open(live.url, bearer(actor), origin=LISTED_ORIGIN)
    await listed.close()


async def test_files_and_customs_decisions_are_events_with_the_versions_they_made(
    live: Server, factory: Factory, remote: Api, http: httpx.AsyncClient
) -> None:
    actor, customs = await factory.enterprise_user(), await factory.customs_user()
    values = valid_input("CUSTOMS_CERTIFICATE")
    await register_certificate(factory.database, actor, values)
    created = await remote.create(actor, values)
    socket = await Socket.open(live.url, bearer(actor))
    await socket.subscribe(no=created["coordinationNo"].lower())  # as typed: case does not matter
    await wait_for_subscriptions(http, 1)
    other = await remote.attach(actor, created["id"], "OTHER_1", sample("pdf", 2000), "其他.pdf")
    assert (await remote.delete_attachment(actor, other["id"]))["errors"] == []
    for slot in ("ORIGIN_PROOF", "IMPORT_DECLARATION"):
        await remote.attach(actor, created["id"], slot, sample("png", 3000), f"{slot}.png")
    assert (await remote.submit(actor, created["id"], 5))["errors"] == []
    no = created["coordinationNo"]
    assert (await remote.receipt(customs, no, "ACCEPTED"))["errors"] == []
    assert (await remote.receipt(customs, no, "CONCLUDED", "同意"))["errors"] == []
    events = await socket.events(7)
    assert [(e["kind"], e["status"], e["version"]) for e in events] == [
        ("ATTACHMENT_ADDED", "DRAFT", 2),
        ("ATTACHMENT_REMOVED", "DRAFT", 3),
        ("ATTACHMENT_ADDED", "DRAFT", 4),
        ("ATTACHMENT_ADDED", "DRAFT", 5),
        ("SUBMITTED", "PENDING", 6),
        ("CUSTOMS_DECISION", "ACCEPTED", 7),
        ("CUSTOMS_DECISION", "CONCLUDED", 8),
    ]
    await socket.close()
    scraped = (await http.get("/metrics")).text
    sent = re.search(r"^xhsz_subscription_events_total (\S+)$", scraped, re.MULTILINE)
    assert sent is not None
    assert float(sent.group(1)) >= 7


async def test_a_token_that_expires_closes_its_connection(
    live: Server, factory: Factory, settings: Settings
) -> None:
    actor = await factory.enterprise_user()
    lifetime = 3
    now = dt.datetime.now(dt.UTC) - settings.token_ttl + dt.timedelta(seconds=lifetime)
    token, expires_at = factory.tokens.issue(user_id=actor.user_id, token_version=1, now=now)
    socket = await Socket.open(live.url, {"Authorization": f"Bearer {token}"})
    await socket.subscribe()
    assert await socket.closed(wait=lifetime + 10) == (4403, "未登录或登录已失效")
    assert time.time() >= int(expires_at.timestamp()), "not before the token's exp (whole seconds)"


@pytest.mark.postgres_only
async def test_a_worker_that_loses_its_listen_connection_listens_again(
    live: Server, factory: Factory, remote: Api, http: httpx.AsyncClient, settings: Settings
) -> None:
    actor = await factory.enterprise_user()
    sockets = await subscribers_on_every_worker(live, http, colleague(factory, actor))
    database = make_url(settings.database_url).database
    async with factory.database.engine.connect() as connection:
        terminated = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = :database"
            ),
            {"name": APPLICATION_NAME, "database": database},
        )
    assert terminated == WORKERS
    for socket in sockets:  # told to reconnect and read afresh once their worker listens again
        assert await socket.closed() == (1012, "可能遗漏了事件：请重新连接并刷新")
    again = await subscribers_on_every_worker(live, http, colleague(factory, actor))
    created = await remote.create(actor, valid_input("CUSTOMS_CERTIFICATE"))
    for socket in again:
        [event] = await socket.events(1)
        assert (event["kind"], event["coordinationNo"]) == ("CREATED", created["coordinationNo"])
        await socket.close()
    messages = [line["message"] for line in log_lines(live)]
    assert sum(m.startswith("lost the connection") for m in messages) == WORKERS
    assert sum(m.startswith("listening for events again") for m in messages) == WORKERS
