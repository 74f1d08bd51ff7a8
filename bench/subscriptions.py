"""Subscription fan-out benchmark: many subscribers of one enterprise, a few clients saving.

    .venv/bin/python bench/subscriptions.py [--subscribers 100] [--events 500] [--writers 4]
                                            [--rate 0] [--workers 2] [--database-url URL]

Starts ``uvicorn api.app:create_app`` on a fresh SQLite database (one worker: SQLite's events
stay in their process) or on an existing, empty PostgreSQL database given by ``--database-url``
(e.g. ``postgresql+asyncpg://postgres@127.0.0.1/xhsz_bench``; ``--workers`` workers, events by
NOTIFY), then:

1. opens ``--subscribers`` graphql-transport-ws connections, each a different user of the same
   enterprise subscribed to ``coordinationEvents``, and reports the server's resident memory per
   connection (RSS after, minus before, divided by the connections);
2. lets ``--writers`` clients save their own requests (``expectedVersion`` each time) until
   ``--events`` saves have been made (as fast as they can, or ``--rate`` saves per second in all,
   to see the delay when the server keeps up), and waits until every subscriber has received
   every event;
3. reports deliveries per second (events × subscribers over the time from the first save to the
   last delivery), the delay from the save's response (the commit is just before it) to each
   delivery, and from the change's ``at`` (when the mutation began) to each delivery, p50 and
   p99, and the server's CPU time per delivery; every subscriber must have received every event
   once, in version order per request.

Clients and server share the machine, so on a small one the figures are a floor.
"""

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import shlex
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.tokens import Tokens  # noqa: E402
from bench.upload import MiB, cpu_seconds, percentile, rss_bytes, server  # noqa: E402
from db import identity, migrate  # noqa: E402
from db.clock import utcnow  # noqa: E402
from db.database import Database  # noqa: E402
from db.status import Role  # noqa: E402

SAVE = """mutation($input: SaveCoordinationInput!) { saveCoordination(input: $input) {
  coordination { ... on Coordination { id coordinationNo version } } errors { code } } }"""
EVENTS = """subscription { coordinationEvents {
  kind coordinationNo version at coordination { ... on Coordination { status version } } } }"""
FORM = {
    "type": "CCPIT_CERTIFICATE",
    "agreementCode": "02",
    "exportDeclarationNo": "350120260000321654",
    "importDeclarationNo": "VN-2026-0001",
    "contactName": "林晓",
    "contactPhone": "13812345678",
    "reason": "基准测试",
}


async def prepare(database_url: str, secret: str, users: int) -> list[str]:
    """Migrate, add ``users`` users of one enterprise, and return a bearer token for each."""
    database = Database(database_url)
    password_hash = identity.hash_password(secrets.token_hex(8))
    ids = []
    try:
        await migrate.upgrade(database)
        async with database.writer() as session, session.begin():
            enterprise_id = await identity.ensure_enterprise(
                session=session, uscc="91350100M000100Y43", name="基准测试有限公司", now=utcnow()
            )
            for _ in range(users):
                ids.append(
                    await identity.add_user(
                        session=session,
                        username=f"bench-{secrets.token_hex(6)}",
                        password_hash=password_hash,
                        role=Role.ENTERPRISE,
                        enterprise_id=enterprise_id,
                        now=utcnow(),
                    )
                )
    finally:
        await database.dispose()
    tokens = Tokens(secret=secret, issuer="xhsz", audience="xhsz-api", ttl=dt.timedelta(hours=1))
    return [tokens.issue(user_id=pk, token_version=1, now=utcnow())[0] for pk in ids]


class Subscriber:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.received: list[tuple[float, str, int, str]] = []  # (time, number, version, at)

    @classmethod
    async def open(cls, url: str, token: str) -> "Subscriber":
        connection = await connect(
            url.replace("http", "ws", 1) + "/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
            open_timeout=60,
        )
        payload = {"Authorization": f"Bearer {token}"}
        await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(await connection.recv())["type"] == "connection_ack"
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}
        await connection.send(json.dumps(subscribe))
        return cls(connection)

    async def read(self, expected: int) -> None:
        while len(self.received) < expected:
            message = json.loads(await self.connection.recv())
            if message["type"] == "ping":
                await self.connection.send('{"type":"pong"}')
                continue
            assert message["type"] == "next", message
            event = message["payload"]["data"]["coordinationEvents"]
            self.received.append(
                (time.time(), event["coordinationNo"], event["version"], event["at"])
            )


async def open_subscriptions(http: httpx.AsyncClient, url: str) -> float:
    for line in (await http.get(f"{url}/metrics")).text.splitlines():
        if line.startswith("xhsz_subscriptions_open "):
            return float(line.split()[1])
    return 0.0


Responded = dict[tuple[str, int], float]
"""When the response of each save, by (coordination number, version), arrived."""


async def write(
    http: httpx.AsyncClient, url: str, token: str, saves: int, responded: Responded, pace: float
) -> None:
    """Create one request, then save it ``saves - 1`` more times, one every ``pace`` seconds at
    most; note each response's time."""
    next_at = time.monotonic()
    headers = {"Authorization": f"Bearer {token}"}
    form = {**FORM, "certificateNo": f"CCPIT{secrets.token_hex(6).upper()}"}
    version, request_id = 0, None
    for _ in range(saves):
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        next_at += pace
        values = {**form, "id": request_id, "expectedVersion": version or None}
        response = await http.post(
            f"{url}/graphql", json={"query": SAVE, "variables": {"input": values}}, headers=headers
        )
        payload = response.json()["data"]["saveCoordination"]
        assert payload["errors"] == [], payload
        saved = payload["coordination"]
        request_id, version = saved["id"], saved["version"]
        responded[(saved["coordinationNo"], version)] = time.time()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--rate", type=float, default=0, help="saves per second (0: no limit)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url")
    options = parser.parse_args()
    workers = options.workers if options.database_url else 1
    per_writer = options.events // options.writers
    events = per_writer * options.writers
    pace = options.writers / options.rate if options.rate else 0.0

    with tempfile.TemporaryDirectory(prefix="xhsz-bench-") as scratch:
        database_url = options.database_url or f"sqlite+aiosqlite:///{scratch}/bench.db"
        secret = secrets.token_urlsafe(48)
        # A folder of its own: every *.db file in it is read as metrics.
        metrics_dir = tempfile.mkdtemp(prefix="metrics-", dir=scratch)
        tokens = await prepare(database_url, secret, options.subscribers + options.writers)
        environment = {
            "XHSZ_DATABASE_URL": database_url,
            "XHSZ_STORAGE_DIR": str(Path(scratch, "attachments")),
            "XHSZ_SECRET_KEY": secret,
            "XHSZ_SUBSCRIPTION_QUEUE_SIZE": str(max(256, events)),
            "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        }
        print(f"$ {shlex.join([sys.executable, *sys.argv])}")
        print(
            f"{options.subscribers} subscribers, {events} saves by {options.writers} writers "
            f"({f'{options.rate:g}/s' if options.rate else 'unpaced'}), {workers} worker(s), "
            f"{database_url.split(':')[0]}, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        with server(environment, workers) as (url, pid):
            async with httpx.AsyncClient(timeout=120) as http:
                await asyncio.sleep(1)
                before = rss_bytes(pid)
                subscribers = [
                    await Subscriber.open(url, token) for token in tokens[: options.subscribers]
                ]
                while await open_subscriptions(http, url) < options.subscribers:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
                await asyncio.sleep(1)
                after = rss_bytes(pid)
                print(
                    f"server RSS {before / MiB:.1f} MiB before, {after / MiB:.1f} MiB with "
                    f"{options.subscribers} subscribers: "
                    f"{(after - before) / options.subscribers / 1024:.0f} KiB per connection"
                )
                responded: Responded = {}
                reading = [asyncio.create_task(s.read(events)) for s in subscribers]
                started, cpu_before = time.time(), cpu_seconds(pid)
                await asyncio.gather(
                    *(
                        write(http, url, token, per_writer, responded, pace)
                        for token in tokens[options.subscribers :]
                    )
                )
                saved = time.time()
                await asyncio.wait_for(asyncio.gather(*reading), 300)
                finished, server_cpu = time.time(), cpu_seconds(pid) - cpu_before
            for subscriber in subscribers:
                await subscriber.connection.close()
    report(subscribers, responded, events, started, saved, finished, server_cpu)


def report(
    subscribers: list[Subscriber],
    responded: Responded,
    events: int,
    started: float,
    saved: float,
    finished: float,
    server_cpu: float,
) -> None:
    deliveries = sum(len(s.received) for s in subscribers)
    after_response, after_at = [], []
    for subscriber in subscribers:
        keys = [(number, version) for _, number, version, _ in subscriber.received]
        assert sorted(keys) == sorted(responded), "every event, once"
        by_request: dict[str, list[int]] = {}
        for number, version in keys:
            by_request.setdefault(number, []).append(version)
        assert all(v == sorted(v) for v in by_request.values()), "in version order per request"
        for received, number, version, at in subscriber.received:
            after_response.append(received - responded[(number, version)])
            after_at.append(received - dt.datetime.fromisoformat(at).timestamp())
    print(
        f"saves: {events} in {saved - started:.1f} s = {events / (saved - started):.0f}/s; "
        f"deliveries: {deliveries} in {finished - started:.1f} s = "
        f"{deliveries / (finished - started):.0f} events/s delivered"
    )
    print(
        "delay after the save's response (≈ commit): "
        f"p50 {percentile(after_response, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(after_response, 0.99) * 1000:.1f} ms; after the change's `at`: "
        f"p50 {percentile(after_at, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(after_at, 0.99) * 1000:.1f} ms"
    )
    print(f"server CPU: {server_cpu * 1e6 / deliveries:.0f} µs per delivery")


if __name__ == "__main__":
    asyncio.run(main())
