"""CPU per request of the app alone, in process: the quick loop for profiling a change.

    .venv/bin/python bench/inprocess.py --database-url postgresql+asyncpg://postgres@127.0.0.1/DB
    .venv/bin/python bench/inprocess.py --database-url ... --profile 40   # cProfile, top 40

It calls the ASGI app directly (no uvicorn, no client library in the way), one request after
another, with the demo user's token and ``bench/list.py``'s first-page document, and prints the
process's CPU time (user + system) per request: what the app and its driver cost, without the HTTP
server's parsing. Each figure is the median of ``--rounds`` rounds of ``--requests`` requests, so a
noisy machine moves it less than a single run. Use ``bench/list.py`` for the figures an issue asks
for; use this to see which change moves them.
"""

import argparse
import asyncio
import cProfile
import itertools
import pstats
import secrets
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from bench.list import (  # noqa: E402
    QUERY,
    SAVE_INPUT,
    SAVE_MUTATION,
    TOTAL_QUERY,
    TWO_STATUSES,
    token_for,
)
from config.settings import Settings  # noqa: E402
from tests.support import graphql_post_scope  # noqa: E402


def scope_of(token: str) -> dict[str, Any]:
    return graphql_post_scope(
        [
            (b"content-type", b"application/json"),
            (b"accept", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        host=b"bench",
    )


async def call(app: Any, scope: dict[str, Any], body: bytes) -> bytes:
    sent = False
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(dict(scope, state={}), receive, send)
    return b"".join(chunks)


RECEIPT = """
mutation Receipt($input: RecordCustomsReceiptInput!) {
  recordCustomsReceipt(input: $input) {
    coordination { ... on Coordination { id coordinationNo status version } }
    message errors { field code message }
  }
}
"""
WARM_UP = 200


async def run(options: argparse.Namespace) -> None:
    settings = Settings(database_url=options.database_url, secret_key=secrets.token_urlsafe(48))
    needed = WARM_UP + 1 + options.rounds * options.requests
    token, bodies = await workload(settings, options, needed)
    app = create_app(settings)
    scope = scope_of(token)
    async with app.router.lifespan_context(app):
        answer = orjson.loads(await call(app, scope, next(bodies)))
        if answer.get("errors") or not any(answer["data"].values()):
            raise SystemExit(f"unexpected answer: {answer}")
        if any(payload.get("errors") for payload in answer["data"].values()):
            raise SystemExit(f"refused: {answer}")
        for _ in range(WARM_UP):  # warm the caches and the pool
            await call(app, scope, next(bodies))
        profiler = cProfile.Profile() if options.profile else None
        figures = []
        for _ in range(options.rounds):
            started = time.process_time()
            if profiler:
                profiler.enable()
            for _ in range(options.requests):
                await call(app, scope, next(bodies))
            if profiler:
                profiler.disable()
            figures.append((time.process_time() - started) * 1000 / options.requests)
    print(
        f"in-process {scenario_of(options)}: "
        f"min {min(figures):.3f}, median {statistics.median(figures):.3f} ms CPU/request "
        f"({options.rounds} rounds of {options.requests}; the least disturbed round is the min)"
    )
    if profiler:
        stats = pstats.Stats(profiler)
        calls = stats.total_calls / (options.rounds * options.requests)  # type: ignore[attr-defined]
        print(f"Python function calls per request: {calls:,.0f} (steady whatever the load)")
        stats.sort_stats("tottime").print_stats(options.profile)
        stats.sort_stats("cumulative").print_stats(options.profile)


def accepting(coordination_no: str) -> dict[str, str]:
    return {"coordinationNo": coordination_no, "outcome": "ACCEPTED"}


def scenario_of(options: argparse.Namespace) -> str:
    return next((name for name in ("save", "receipt", "total") if getattr(options, name)), "first")


async def workload(
    settings: Settings, options: argparse.Namespace, needed: int
) -> tuple[str, Iterator[bytes]]:
    """The token to send and the request bodies, one per request (a receipt accepts a different
    pending request of the demo data each time: run it on a freshly seeded database)."""
    scenario = scenario_of(options)
    user = "customs" if scenario == "receipt" else "demo"
    app = create_app(settings)
    async with app.state.database.reader() as session:
        user_id = await session.scalar(
            text("SELECT id FROM users WHERE username = :user"), {"user": user}
        )
        pending = (
            list(
                await session.scalars(
                    text(
                        "SELECT coordination_no FROM coordinations"
                        " WHERE status = 'PENDING' AND deleted_at IS NULL"
                        " ORDER BY id LIMIT :needed"
                    ),
                    {"needed": needed},
                )
            )
            if scenario == "receipt"
            else []
        )
    await app.state.database.dispose()
    if scenario == "receipt":
        if len(pending) < needed:
            raise SystemExit(f"{needed} pending requests needed, {len(pending)} left: seed anew")
        bodies = (
            orjson.dumps(
                {
                    "query": RECEIPT,
                    "variables": {"input": {"coordinationNo": no, "outcome": "ACCEPTED"}},
                }
            )
            for no in pending
        )
    elif scenario == "save":
        body = orjson.dumps({"query": SAVE_MUTATION, "variables": {"input": SAVE_INPUT}})
        bodies = itertools.repeat(body)
    else:
        query = TOTAL_QUERY if scenario == "total" else QUERY
        body = orjson.dumps({"query": query, "variables": {"filter": {"status": TWO_STATUSES}}})
        bodies = itertools.repeat(body)
    return token_for(settings, user_id), bodies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--total", action="store_true", help="the page with totalCount")
    parser.add_argument("--save", action="store_true", help="saves (each creates a draft)")
    parser.add_argument(
        "--receipt", action="store_true", help="customs receipts (each accepts a pending request)"
    )
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
