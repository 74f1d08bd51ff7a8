"""Prometheus metrics, served at ``/metrics``.

Labels are bounded: ``operation`` is built from the schema's root fields (never from a name the
client chose), ``code`` from our error codes, ``outcome`` from a fixed set. With several worker
processes (``xhsz serve --workers N``) every process writes to ``PROMETHEUS_MULTIPROC_DIR`` and a
scrape of any worker reports the sum over all of them.
"""

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from starlette.requests import Request
from starlette.responses import Response

from db.database import Database
from db.replica import Replica

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "xhsz_requests_total", "HTTP requests by operation and outcome.", ["operation", "outcome"]
)
LATENCY = Histogram(
    "xhsz_request_duration_seconds",
    "Time to answer a request, by operation.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
GRAPHQL_ERRORS = Counter(
    "xhsz_graphql_errors_total", "Top-level GraphQL errors by extensions.code.", ["code"]
)
USER_ERRORS = Counter(
    "xhsz_user_errors_total", "Refusals returned in mutation payloads, by ErrorCode.", ["code"]
)
UPLOAD_BYTES = Counter("xhsz_upload_bytes_total", "Bytes of attachments stored.")
READS = Counter(
    "xhsz_reads_total",
    "Queries' reads by the server that answered (primary, replica) and why it was chosen "
    "(no_replica, caught_up, own_write: the replica has not replayed the viewer's latest write, "
    "degraded: it is down or lagging, failed: a read on it failed and ran again on the primary).",
    ["target", "reason"],
)
REPLICA_IN_USE = Gauge(
    "xhsz_replica_in_use",
    "1 while every worker reads from the replica, 0 while any leaves it out (down, not a "
    "standby, lagging), as of each worker's last probe; 0 without a replica.",
    multiprocess_mode="livemin",
)
REPLICA_LAG = Gauge(
    "xhsz_replica_lag_seconds",
    "How far the replica is behind the primary (the largest of the workers' last probes); "
    "NaN while it cannot be probed.",
    multiprocess_mode="livemax",
)
POOL_IN_USE = Gauge(
    "xhsz_db_connections_in_use",
    "Database connections checked out of the pool.",
    multiprocess_mode="livesum",
)

SUBSCRIPTIONS_OPEN = Gauge(
    "xhsz_subscriptions_open",
    "Subscriptions (coordinationEvents) open, summed over workers.",
    multiprocess_mode="livesum",
)
CONNECTIONS_OPEN = Gauge(
    "xhsz_subscription_connections_open",
    "Authenticated graphql-transport-ws connections open, summed over workers.",
    multiprocess_mode="livesum",
)
EVENTS_SENT = Counter("xhsz_subscription_events_total", "Events sent to subscribers.")
DISCONNECTS = Counter(
    "xhsz_subscription_disconnects_total",
    "Subscription connections the server closed, by reason.",
    ["reason"],
)


def watch_pool(database: Database) -> None:
    """Keep ``xhsz_db_connections_in_use`` up to date from the engines' pool events."""
    for engine in database.engines:

        @event.listens_for(engine.sync_engine, "checkout")
        def checked_out(*_: Any) -> None:
            POOL_IN_USE.inc()

        @event.listens_for(engine.sync_engine, "checkin")
        def checked_in(*_: Any) -> None:
            POOL_IN_USE.dec()


def watch_replica(database: Database) -> None:
    """Keep the replica's gauges up to date after each probe and failed read."""
    if database.replica is None:
        return

    def probed(replica: Replica) -> None:
        REPLICA_IN_USE.set(1 if replica.usable else 0)
        if replica.lag is None:
            REPLICA_LAG.set(float("nan"))
        else:
            REPLICA_LAG.set(replica.lag)

    database.replica.observers.append(probed)


def registry() -> CollectorRegistry:
    if os.environ.get(MULTIPROCESS_DIR):
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)  # type: ignore[no-untyped-call]
        return collected
    from prometheus_client import REGISTRY

    return REGISTRY


async def endpoint(_request: Request) -> Response:
    return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)
