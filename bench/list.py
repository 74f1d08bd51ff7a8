"""Benchmark of the coordination list (issue 5) against a database seeded with ``xhsz demo``.

    .venv/bin/xhsz demo --requests 1000000            # with XHSZ_DATABASE_URL set, once
    .venv/bin/python bench/list.py --database-url postgresql+asyncpg://postgres@127.0.0.1/DB
    .venv/bin/python bench/list.py --database-url sqlite+aiosqlite:////path/to.db

For each scenario (the demo enterprise, which holds 10% of the requests):

    first    the first page (20, with attachments), filtered by two statuses
    deep     the same, after a cursor 10,000 rows in
    total    the first page with totalCount
    prefix   a certificate-number prefix search

it serves the app with uvicorn (one worker) and reports requests/s with 16 concurrent keep-alive
clients, p50/p99 latency, the SQL statements one request sends, and the floor: the same
statements, with the same parameters, run one after another straight on the driver (asyncpg or
sqlite3), plus PostgreSQL's EXPLAIN ANALYZE execution time of the page statement. On PostgreSQL
it also serves a plain Starlette + asyncpg endpoint that runs the same statements and returns the
same rows as JSON (the "within 2x" reference). ``--profile DIR`` runs the server under
pyinstrument for the first-page scenario; ``--postgraphile URL`` also loads a PostGraphile
server's equivalent query. Every loop is bounded in time and count; servers listen on 127.0.0.1.
"""

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.tokens import Tokens  # noqa: E402
from db.clock import utcnow  # noqa: E402
from tests.servers import free_port  # noqa: E402

QUERY = """
query List($filter: CoordinationFilter, $after: String) {
  coordinations(filter: $filter, first: 20, after: $after) {
    edges {
      cursor
      node {
        ... on Coordination {
          id coordinationNo type status statusLabel certificateNo exportDeclarationNo
          agreement { code nameZh } submittedAt
          attachments { id slot fileName size }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
TOTAL_QUERY = QUERY.replace("pageInfo {", "totalCount pageInfo {")
TWO_STATUSES = ["ACCEPTED", "RETURNED"]
DEEP = 10_000


@dataclass
class Scenario:
    name: str
    query: str
    variables: dict[str, Any]
    statements: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def body(self) -> bytes:
        return json.dumps({"query": self.query, "variables": self.variables}).encode()


@dataclass
class Load:
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


# --- scenarios, statement counts, the floor ------------------------------------------------------


async def prepare(settings: Settings) -> tuple[str, list[Scenario]]:
    """A token for the demo user and the scenarios, each run once in process to record its SQL."""
    app = create_app(settings)
    database = app.state.database
    async with database.reader() as session:
        user_id = await session.scalar(text("SELECT id FROM users WHERE username = 'demo'"))
        enterprise_id = await session.scalar(
            text("SELECT enterprise_id FROM users WHERE username = 'demo'")
        )
        newest = await session.scalar(
            text(
                "SELECT certificate_no FROM coordinations WHERE enterprise_id = :e "
                "ORDER BY id DESC LIMIT 1"
            ),
            {"e": enterprise_id},
        )
    if user_id is None:
        raise SystemExit("no demo user: seed the database with `xhsz demo --requests N` first")
    tokens = Tokens(
        secret=settings.secret_key,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl=dt.timedelta(hours=2),
    )
    token, _ = tokens.issue(user_id=user_id, token_version=1, now=utcnow())
    headers = {"Authorization": f"Bearer {token}"}
    two = {"status": TWO_STATUSES}
    scenarios = [
        Scenario("first", QUERY, {"filter": two}),
        Scenario("deep", QUERY, {"filter": two}),
        Scenario("total", TOTAL_QUERY, {"filter": two}),
        Scenario("prefix", QUERY, {"filter": {"certificateNo": str(newest)[:5]}}),
    ]
    captured: list[tuple[str, Any]] = []

    def record(*arguments: Any) -> None:
        if arguments[2].split(None, 1)[0].upper() != "BEGIN":
            captured.append((arguments[2], arguments[3]))

    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as http,
    ):
        after = None
        for _ in range(DEEP // 100):  # the cursor 10,000 rows in, a hundred rows at a time
            body = {
                "query": QUERY.replace("first: 20", "first: 100"),
                "variables": {"filter": two, "after": after},
            }
            page = (await http.post("/graphql", json=body)).json()["data"]["coordinations"]
            after = page["pageInfo"]["endCursor"]
        scenarios[1].variables["after"] = after
        for engine in database.engines:
            event.listen(engine.sync_engine, "before_cursor_execute", record)
        for scenario in scenarios:
            captured.clear()
            answer = (
                await http.post(
                    "/graphql", content=scenario.body, headers={"Content-Type": "application/json"}
                )
            ).json()
            if answer.get("errors"):
                raise SystemExit(f"{scenario.name}: {answer['errors']}")
            scenario.statements = list(captured)
    return token, scenarios


async def explain_postgresql(url: str, scenario: Scenario) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement of the scenario but the viewer's."""
    import asyncpg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    plans = []
    try:
        for sql, params in scenario.statements:
            if "FROM users" in sql:
                continue
            rows = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, *params)
            plans.append("\n".join(row[0] for row in rows))
    finally:
        await connection.close()
    return f"## {scenario.name}\n" + "\n\n".join(plans)


async def floor_postgresql(url: str, scenario: Scenario, repeat: int) -> tuple[float, float]:
    """Median time to run the scenario's statements on asyncpg, and EXPLAIN ANALYZE's execution
    time of its page statement (the one that joins the keyset), both in ms."""
    import asyncpg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        prepared = [(await connection.prepare(sql), params) for sql, params in scenario.statements]
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            for statement, params in prepared:
                await statement.fetch(*params)
            times.append(time.perf_counter() - started)
        page_sql, page_params = next((s, p) for s, p in scenario.statements if "AS keys" in s)
        explained = await connection.fetch(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + page_sql, *page_params
        )
        execution = json.loads(explained[0][0])[0]["Execution Time"]
    finally:
        await connection.close()
    return statistics.median(times) * 1000, float(execution)


def floor_sqlite(url: str, scenario: Scenario, repeat: int) -> float:
    connection = sqlite3.connect(make_url(url).database or "")
    try:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            for sql, params in scenario.statements:
                connection.execute(sql, params).fetchall()
            times.append(time.perf_counter() - started)
    finally:
        connection.close()
    return statistics.median(times) * 1000


# --- servers and load ----------------------------------------------------------------------------


@contextmanager
def serve(command: list[str], environment: dict[str, str], health: str) -> Iterator[int]:
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in command]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **environment})
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {' '.join(command)}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}{health}", timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(" ".join(command))
            time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def uvicorn(app: str, *, factory: bool = True) -> list[str]:
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", "{port}"]
    command += ["--workers", "1", "--log-level", "warning", "--no-access-log"]
    return command + (["--factory"] if factory else [])


async def load(
    port: int, path: str, body: bytes, headers: dict[str, str], concurrency: int, seconds: float
) -> Load:
    """POST ``body`` over ``concurrency`` keep-alive connections for ``seconds`` (after a one-
    second warm-up); every answer must be 200 and carry no GraphQL errors."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{head}\r\n"
    ).encode() + body
    warm_until = time.perf_counter() + 1.0
    stop_at = warm_until + seconds
    latencies: list[float] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (started := time.perf_counter()) < stop_at:
                writer.write(request)
                status = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                answer = await reader.readexactly(length)
                if not status.startswith(b"HTTP/1.1 200") or b'"errors"' in answer[:200]:
                    raise RuntimeError(f"{status!r} {answer[:300]!r}")
                if started >= warm_until:
                    latencies.append(time.perf_counter() - started)
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return Load(len(latencies), seconds, latencies)


# --- the plain Starlette + asyncpg reference -----------------------------------------------------


def baseline() -> Any:
    """``/page``: the first-page scenario's statements (viewer, page, attachments) on asyncpg, the
    rows with their attachments as JSON. Started by uvicorn from this file (BENCH_BASELINE)."""
    import asyncpg
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    spec = json.loads(Path(os.environ["BENCH_BASELINE"]).read_text())
    pool: list[Any] = []

    async def page(_request: Request) -> Response:
        async with pool[0].acquire() as connection:
            viewer = await connection.fetchrow(spec["viewer"][0], *spec["viewer"][1])
            rows = await connection.fetch(spec["page"][0], *spec["page"][1])
            ids = [row["id"] for row in rows]
            attachments = await connection.fetch(spec["attachments"], ids)
        by_request: dict[int, list[dict[str, Any]]] = {}
        for attachment in attachments:
            by_request.setdefault(attachment["coordination_id"], []).append(
                {k: attachment[k] for k in ("id", "slot", "file_name", "size")}
            )
        data = [
            {
                "id": row["id"],
                "coordinationNo": row["coordination_no"],
                "type": row["type"],
                "status": row["status"],
                "certificateNo": row["certificate_no"],
                "exportDeclarationNo": row["export_declaration_no"],
                "agreementCode": row["agreement_code"],
                "submittedAt": row["submitted_at"].isoformat() if row["submitted_at"] else None,
                "attachments": by_request.get(row["id"], []),
            }
            for row in rows[:20]
        ]
        body = {"viewer": viewer["id"] if viewer else None, "data": data, "more": len(rows) > 20}
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        pool.append(await asyncpg.create_pool(spec["dsn"], min_size=10, max_size=10))
        yield
        await pool[0].close()

    return Starlette(routes=[Route("/page", page, methods=["POST", "GET"])], lifespan=lifespan)


def baseline_spec(url: str, scenario: Scenario, path: Path) -> None:
    viewer = next((s, p) for s, p in scenario.statements if "FROM users" in s)
    page = next((s, list(p)) for s, p in scenario.statements if "AS keys" in s)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    path.write_text(
        json.dumps(
            {
                "dsn": dsn,
                "viewer": [viewer[0], list(viewer[1])],
                "page": page,
                "attachments": "SELECT id, coordination_id, slot, file_name, size FROM attachments "
                "WHERE coordination_id = ANY($1::bigint[]) ORDER BY id",
            }
        )
    )


# --- PostGraphile --------------------------------------------------------------------------------

POSTGRAPHILE_QUERY = """
query($e: BigInt!) {
  allCoordinations(first: 20, orderBy: [SUBMITTED_AT_DESC, ID_DESC],
                   filter: {enterpriseId: {equalTo: $e}, deletedAt: {isNull: true},
                            status: {in: ["ACCEPTED", "RETURNED"]}}) {
    edges { cursor node { id coordinationNo type status certificateNo exportDeclarationNo
                          agreementCode submittedAt
                          attachmentsByCoordinationId { nodes { id slot fileName size } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=300, help="floor repetitions")
    parser.add_argument("--only", nargs="*", help="scenario names")
    parser.add_argument("--profile", type=Path, help="write pyinstrument reports here")
    parser.add_argument("--postgraphile", help="base URL of a PostGraphile server on the same data")
    parser.add_argument("--explain", action="store_true", help="print the PostgreSQL plans only")
    options = parser.parse_args()

    secret = secrets.token_urlsafe(48)
    settings = Settings(database_url=options.database_url, secret_key=secret)
    environment = {
        "XHSZ_DATABASE_URL": options.database_url,
        "XHSZ_SECRET_KEY": secret,
        "XHSZ_GRAPHIQL": "false",
    }
    token, scenarios = asyncio.run(prepare(settings))
    if options.only:
        scenarios = [s for s in scenarios if s.name in options.only]
    is_sqlite = make_url(options.database_url).get_backend_name() == "sqlite"
    headers = {"Authorization": f"Bearer {token}"}
    if options.explain:
        for scenario in scenarios:
            print(asyncio.run(explain_postgresql(options.database_url, scenario)), end="\n\n")
        return

    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# {options.database_url}: {options.concurrency} clients, {options.seconds:g} s each")
    rows = []
    with serve(uvicorn("api.app:create_app"), environment, "/healthz") as port:
        for scenario in scenarios:
            alone = asyncio.run(
                load(port, "/graphql", scenario.body, headers, 1, options.seconds / 2)
            )
            result = asyncio.run(
                load(port, "/graphql", scenario.body, headers, options.concurrency, options.seconds)
            )
            if is_sqlite:
                floor, explain = floor_sqlite(options.database_url, scenario, options.repeat), None
            else:
                floor, explain = asyncio.run(
                    floor_postgresql(options.database_url, scenario, options.repeat)
                )
            rows.append((scenario, result, alone, floor, explain))

    print(
        f"\n| scenario | req/s ({options.concurrency} clients) | p50 ms | p99 ms "
        "| p50 ms (1 client) | SQL/request | floor ms (driver, sequential) | EXPLAIN ANALYZE ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for scenario, result, alone, floor, explain in rows:
        print(
            f"| {scenario.name} | {result.rate:,.0f} | {result.percentile(0.5):.2f} | "
            f"{result.percentile(0.99):.2f} | {alone.percentile(0.5):.2f} | "
            f"{len(scenario.statements)} | {floor:.2f} | "
            f"{'' if explain is None else f'{explain:.2f}'} |"
        )

    first = next((s for s in scenarios if s.name == "first"), None)
    if first is not None and not is_sqlite:
        spec = Path(f"/tmp/xhsz-bench-baseline-{os.getpid()}.json")  # noqa: S108
        baseline_spec(options.database_url, first, spec)
        try:
            with serve(
                uvicorn("bench.list:baseline"), {"BENCH_BASELINE": str(spec)}, "/page"
            ) as port:
                plain_alone = asyncio.run(load(port, "/page", b"{}", {}, 1, options.seconds / 2))
                plain = asyncio.run(
                    load(port, "/page", b"{}", {}, options.concurrency, options.seconds)
                )
        finally:
            spec.unlink()
        ours = next(r for s, r, _, _, _ in rows if s is first)
        print(
            f"\nplain Starlette + asyncpg, first page: {plain.rate:,.0f} req/s, "
            f"p50 {plain.percentile(0.5):.2f} ms, p99 {plain.percentile(0.99):.2f} ms, "
            f"p50 with 1 client {plain_alone.percentile(0.5):.2f} ms; "
            f"xhsz/plain throughput = {ours.rate / plain.rate:.2f}"
        )

    if options.postgraphile and first is not None:
        enterprise = asyncio.run(_demo_enterprise(settings))
        body = json.dumps({"query": POSTGRAPHILE_QUERY, "variables": {"e": str(enterprise)}})
        url = httpx.URL(options.postgraphile)
        graphile = asyncio.run(
            load(url.port or 80, url.path or "/graphql", body.encode(), {},
                 options.concurrency, options.seconds)
        )  # fmt: skip
        print(
            f"PostGraphile, first page: {graphile.rate:,.0f} req/s, "
            f"p50 {graphile.percentile(0.5):.2f} ms, p99 {graphile.percentile(0.99):.2f} ms"
        )

    if options.profile and first is not None:
        options.profile.mkdir(parents=True, exist_ok=True)
        report = options.profile / f"first-{'sqlite' if is_sqlite else 'postgresql'}"
        session = f"{report}.pyisession"
        command = [sys.executable, "-m", "pyinstrument", "-r", "pyisession", "-o", session]
        command += ["-m", *uvicorn("api.app:create_app")[2:]]
        with serve(command, environment, "/healthz") as port:
            asyncio.run(
                load(port, "/graphql", first.body, headers, options.concurrency, options.seconds)
            )
        render = [sys.executable, "-m", "pyinstrument", "--load", session, "-r", "text"]
        for name, extra in (("tree", []), ("self", ["-p", "flat", "-p", "flat_time=self"])):
            with open(f"{report}-{name}.txt", "w") as out:
                subprocess.run([*render, "--no-color", *extra], stdout=out, check=True)
        print(f"\nprofiles of the first-page scenario: {report}-tree.txt, {report}-self.txt")


async def _demo_enterprise(settings: Settings) -> int:
    app = create_app(settings)
    async with app.state.database.reader() as session:
        found = await session.scalar(
            text("SELECT enterprise_id FROM users WHERE username = 'demo'")
        )
    await app.state.database.dispose()
    return int(found)


if __name__ == "__main__":
    main()
