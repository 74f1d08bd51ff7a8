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
server's equivalent query. ``--replica-url URL`` has xhsz read from a streaming replica of the
database (SPEC §11) and prints how many reads each server answered (``xhsz_reads_total``). Every
loop is bounded in time and count; servers listen on 127.0.0.1.
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
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from api.tokens import Tokens  # noqa: E402
from config.settings import Settings  # noqa: E402
from db.clock import utcnow  # noqa: E402
from tests.pgwire import read_counts  # noqa: E402
from tests.servers import free_port  # noqa: E402
from tests.support import valid_input  # noqa: E402

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
SAVE_MUTATION = """
mutation Save($input: SaveCoordinationInput!) {
  saveCoordination(input: $input) {
    coordination { ... on Coordination { id coordinationNo status version } }
    message errors { field code message }
  }
}
"""
SAVE_INPUT = valid_input("CUSTOMS_CERTIFICATE")
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
    cpu_seconds: float = 0.0
    round_trips: int | None = None

    @property
    def cpu_ms(self) -> float:
        """The server's CPU time (user + system, all its processes) per request."""
        return self.cpu_seconds * 1000 / max(1, self.requests)

    @property
    def trips(self) -> str:
        return "" if self.round_trips is None else f"{self.round_trips / max(1, self.requests):.2f}"

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


# --- scenarios, statement counts, the floor ------------------------------------------------------


def token_for(settings: Settings, user_id: int | None) -> str:
    """A two-hour token for the demo user (``user_id``, None when the database has none)."""
    if user_id is None:
        raise SystemExit("no demo user: seed the database with `xhsz demo --requests N` first")
    tokens = Tokens(
        secret=settings.secret_key,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl=dt.timedelta(hours=2),
    )
    return tokens.issue(user_id=user_id, token_version=1, now=utcnow())[0]


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
    token = token_for(settings, user_id)
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


@dataclass(frozen=True)
class Meter:
    """Reads what a server has used: CPU time from ``/proc`` of its process tree, and round trips
    to PostgreSQL from the counting proxy its database URL points at (``tests.pgwire``)."""

    pid: int
    proxy_control: int | None = None

    def cpu_seconds(self) -> float:
        ticks = os.sysconf("SC_CLK_TCK")
        return sum(_cpu_ticks(pid) for pid in _process_tree(self.pid)) / ticks

    def round_trips(self) -> int | None:
        return None if self.proxy_control is None else read_counts(self.proxy_control)[0]

    def snapshot(self) -> tuple[float, int | None]:
        return self.cpu_seconds(), self.round_trips()


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime


@contextmanager
def proxy(url: str) -> Iterator[tuple[int, int]]:
    """A round-trip counting proxy to the PostgreSQL server of ``url``: (proxy port, control
    port)."""
    ready = Path(f"/tmp/xhsz-bench-proxy-{os.getpid()}")  # noqa: S108
    ready.unlink(missing_ok=True)
    server = make_url(url)
    where = [server.host or "127.0.0.1", str(server.port or 5432)]
    process = subprocess.Popen([sys.executable, "-m", "tests.pgwire", str(ready), *where], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() or not ready.read_text().endswith("\n"):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the counting proxy did not start")
            time.sleep(0.05)
        port, control = map(int, ready.read_text().split())
        yield port, control
    finally:
        process.terminate()
        process.wait(timeout=10)
        ready.unlink(missing_ok=True)


def through(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


@contextmanager
def serve(
    command: list[str], environment: dict[str, str], health: str
) -> Iterator[tuple[int, int]]:
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
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def uvicorn(app: str, *, factory: bool = True, workers: int = 1) -> list[str]:
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", "{port}"]
    command += ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    return command + (["--factory"] if factory else [])


async def load(
    port: int,
    path: str,
    body: bytes | Callable[[], bytes],
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    meter: Meter | None = None,
) -> Load:
    """POST ``body`` (or a new body from ``body()`` each time) over ``concurrency`` keep-alive
    connections for ``seconds`` (after a one-second warm-up); every answer must be 200 and carry
    no GraphQL errors. The ``meter`` is read when the warm-up ends and when the load does."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    def request() -> bytes:
        content = body() if callable(body) else body
        return (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n{head}\r\n"
        ).encode() + content

    warm_until = time.perf_counter() + 1.0
    stop_at = warm_until + seconds
    latencies: list[float] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (started := time.perf_counter()) < stop_at:
                writer.write(request())
                status = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                answer = await reader.readexactly(length)
                if not status.startswith(b"HTTP/1.1 200") or b'"errors":[{' in answer:
                    raise RuntimeError(f"{status!r} {answer[:300]!r}")
                if started >= warm_until:
                    latencies.append(time.perf_counter() - started)
        finally:
            writer.close()

    readings: list[tuple[float, int | None]] = []

    async def read_meter() -> None:
        if meter is not None:
            await asyncio.sleep(warm_until - time.perf_counter())
            readings.append(meter.snapshot())
            await asyncio.sleep(stop_at - time.perf_counter())
            readings.append(meter.snapshot())

    await asyncio.gather(read_meter(), *(client() for _ in range(concurrency)))
    result = Load(len(latencies), seconds, latencies)
    if len(readings) == 2:
        (cpu_start, trips_start), (cpu_end, trips_end) = readings
        result.cpu_seconds = cpu_end - cpu_start
        if trips_start is not None and trips_end is not None:
            result.round_trips = trips_end - trips_start
    return result


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
            viewer = (
                await connection.fetchrow(spec["viewer"][0], *spec["viewer"][1])
                if spec["viewer"]
                else {"id": None}
            )
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


def baseline_spec(url: str, scenario: Scenario, path: Path, proxy_port: int | None) -> None:
    # xhsz reads the viewer once per XHSZ_PRINCIPAL_CACHE_SECONDS: the reference does not either.
    viewer = next(((s, list(p)) for s, p in scenario.statements if "FROM users" in s), None)
    page = next((s, list(p)) for s, p in scenario.statements if "AS keys" in s)
    if proxy_port is not None:
        url = through(url, proxy_port)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    path.write_text(
        json.dumps(
            {
                "dsn": dsn,
                "viewer": viewer,
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
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for xhsz")
    parser.add_argument("--repeat", type=int, default=300, help="floor repetitions")
    parser.add_argument("--only", nargs="*", help="scenario names")
    parser.add_argument("--save", action="store_true", help="also measure saves (creates drafts)")
    parser.add_argument("--profile", type=Path, help="write pyinstrument reports here")
    parser.add_argument("--postgraphile", help="base URL of a PostGraphile server on the same data")
    parser.add_argument("--explain", action="store_true", help="print the PostgreSQL plans only")
    parser.add_argument(
        "--replica-url",
        help="a streaming replica of --database-url for xhsz to read from (round trips are then "
        "counted on the primary only)",
    )
    options = parser.parse_args()

    secret = secrets.token_urlsafe(48)
    settings = Settings(database_url=options.database_url, secret_key=secret)
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
    print(
        f"# {options.database_url}: {options.concurrency} clients, {options.seconds:g} s each, "
        f"{options.workers} worker(s); CPU is the server's (user + system, /proc), round trips "
        "are counted at the wire (Query and Sync messages)"
    )
    with ExitStack() as stack:
        proxied = None if is_sqlite else stack.enter_context(proxy(options.database_url))
        control = None if proxied is None else proxied[1]
        database_url = options.database_url
        if proxied is not None:
            database_url = through(options.database_url, proxied[0])
        environment = {
            "XHSZ_DATABASE_URL": database_url,
            "XHSZ_SECRET_KEY": secret,
            "XHSZ_GRAPHIQL": "false",
        }
        if options.replica_url:
            environment["XHSZ_DATABASE_REPLICA_URL"] = options.replica_url
        rows = measure_xhsz(options, scenarios, headers, environment, control, is_sqlite)
        print_table(options, rows)
        first = next((s for s in scenarios if s.name == "first"), None)
        if first is not None and not is_sqlite:
            measure_plain(options, first, rows, proxied)

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
        profile(options, first, headers, settings, is_sqlite)


Row = tuple[Scenario, Load, Load, float | None, float | None]


def measure_xhsz(
    options: argparse.Namespace,
    scenarios: list[Scenario],
    headers: dict[str, str],
    environment: dict[str, str],
    control: int | None,
    is_sqlite: bool,
) -> list[Row]:
    rows: list[Row] = []
    command = uvicorn("api.app:create_app", workers=options.workers)
    with serve(command, environment, "/healthz") as (port, pid):
        meter = Meter(pid, control)
        if options.save:
            scenarios = [*scenarios, Scenario("save", SAVE_MUTATION, {"input": SAVE_INPUT})]
        for scenario in scenarios:
            seconds = options.seconds
            alone = asyncio.run(
                load(port, "/graphql", scenario.body, headers, 1, seconds / 2, meter)
            )
            result = asyncio.run(
                load(port, "/graphql", scenario.body, headers, options.concurrency, seconds, meter)
            )
            floor = explain = None
            if scenario.statements and is_sqlite:
                floor = floor_sqlite(options.database_url, scenario, options.repeat)
            elif scenario.statements:
                floor, explain = asyncio.run(
                    floor_postgresql(options.database_url, scenario, options.repeat)
                )
            rows.append((scenario, result, alone, floor, explain))
        if options.replica_url:
            print(f"reads by target (xhsz_reads_total): {reads_by_target(port)}")
    return rows


def reads_by_target(port: int) -> str:
    """What ``xhsz_reads_total`` counted, e.g. ``replica/caught_up 51,234, primary/own_write 3``."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return ", ".join(
        f"{sample.labels['target']}/{sample.labels['reason']} {sample.value:,.0f}"
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "xhsz_reads_total"
    )


def print_table(options: argparse.Namespace, rows: list[Row]) -> None:
    print(
        f"\n| scenario | req/s ({options.concurrency} clients) | p50 ms | p99 ms "
        "| p50 ms (1 client) | app CPU ms/request | round trips/request (1 client) "
        "| SQL statements | floor ms (driver) | EXPLAIN ANALYZE ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for scenario, result, alone, floor, explain in rows:
        print(
            f"| {scenario.name} | {result.rate:,.0f} | {result.percentile(0.5):.2f} | "
            f"{result.percentile(0.99):.2f} | {alone.percentile(0.5):.2f} | "
            f"{result.cpu_ms:.2f} | {result.trips} ({alone.trips}) | "
            f"{len(scenario.statements) or ''} | {'' if floor is None else f'{floor:.2f}'} | "
            f"{'' if explain is None else f'{explain:.2f}'} |"
        )


def measure_plain(
    options: argparse.Namespace,
    first: Scenario,
    rows: list[Row],
    proxied: tuple[int, int] | None,
) -> None:
    spec = Path(f"/tmp/xhsz-bench-baseline-{os.getpid()}.json")  # noqa: S108
    baseline_spec(options.database_url, first, spec, None if proxied is None else proxied[0])
    control = None if proxied is None else proxied[1]
    try:
        command = uvicorn("bench.list:baseline")
        with serve(command, {"BENCH_BASELINE": str(spec)}, "/page") as (port, pid):
            meter = Meter(pid, control)
            alone = asyncio.run(load(port, "/page", b"{}", {}, 1, options.seconds / 2, meter))
            plain = asyncio.run(
                load(port, "/page", b"{}", {}, options.concurrency, options.seconds, meter)
            )
    finally:
        spec.unlink()
    ours = next(r for s, r, _, _, _ in rows if s is first)
    print(
        f"\n| plain Starlette + asyncpg, first page | {plain.rate:,.0f} | "
        f"{plain.percentile(0.5):.2f} | {plain.percentile(0.99):.2f} | "
        f"{alone.percentile(0.5):.2f} | {plain.cpu_ms:.2f} | {plain.trips} ({alone.trips}) |"
    )
    print(
        f"\nxhsz/plain: throughput {ours.rate / plain.rate:.2f}, "
        f"CPU per request {ours.cpu_ms / plain.cpu_ms:.1f}x"
    )


def profile(
    options: argparse.Namespace,
    first: Scenario,
    headers: dict[str, str],
    settings: Settings,
    is_sqlite: bool,
) -> None:
    environment = {
        "XHSZ_DATABASE_URL": options.database_url,
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_GRAPHIQL": "false",
    }
    options.profile.mkdir(parents=True, exist_ok=True)
    report = options.profile / f"first-{'sqlite' if is_sqlite else 'postgresql'}"
    session = f"{report}.pyisession"
    command = [sys.executable, "-m", "pyinstrument", "-r", "pyisession", "-o", session]
    command += ["-m", *uvicorn("api.app:create_app")[2:]]
    with serve(command, environment, "/healthz") as (port, _pid):
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
