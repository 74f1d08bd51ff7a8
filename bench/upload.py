"""Upload benchmark: concurrent clients upload 4 MiB images to a real uvicorn for a while.

    .venv/bin/python bench/upload.py [--clients 20] [--seconds 15] [--size 4194304]
                                     [--workers 1] [--database-url URL]

Starts ``uvicorn api.app:create_app`` on a fresh SQLite database (or an existing, empty database
given by ``--database-url``, e.g. ``postgresql+asyncpg://postgres@127.0.0.1/xhsz_bench``) and a
temporary storage directory, then:

1. sends a 50 MiB upload body twice (with Content-Length, then chunked) and reports the server's
   resident memory before, at its highest while the body is refused, and after;
2. lets ``--clients`` clients upload PNG images of ``--size`` bytes for ``--seconds`` seconds
   (each client fills the four slots of requests it creates as it goes; creating them is not
   timed) and reports uploads/s, MB/s, p50/p99 latency and the server's peak RSS;
3. checks that every accepted file is stored whole (row count, file count and bytes on disk).

Memory is read from /proc (Linux), summed over the server and its worker processes. Clients and
server share the machine, so on a small one the figures are a floor rather than a ceiling.
"""

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.tokens import Tokens  # noqa: E402
from db import identity, migrate  # noqa: E402
from db.clock import utcnow  # noqa: E402
from db.database import Database  # noqa: E402
from db.status import Role  # noqa: E402
from tests import samples  # noqa: E402

MiB = 1024 * 1024
SAVE = """mutation($input: SaveCoordinationInput!) {
  saveCoordination(input: $input) { coordination { ... on Node { id } } errors { code } } }"""
UPLOAD = """mutation($id: ID!, $slot: AttachmentSlot!, $file: Upload!) {
  uploadAttachment(coordinationId: $id, slot: $slot, file: $file) { errors { code } } }"""
SLOTS = ("ORIGIN_PROOF", "IMPORT_DECLARATION", "OTHER_1", "OTHER_2")
FORM = {
    "type": "CCPIT_CERTIFICATE",
    "certificateNo": "CCPIT26E3501000321",
    "agreementCode": "02",
    "exportDeclarationNo": "350120260000321654",
    "importDeclarationNo": "VN-2026-0001",
    "contactName": "林晓",
    "contactPhone": "13812345678",
    "reason": "基准测试",
}


def png(size: int) -> bytes:
    """A valid PNG of ``size`` bytes: the service checks a file's structure, not only its first
    bytes, so noise behind a signature would be refused rather than stored."""
    return samples.png(size)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (uvicorn's workers), 0 once it is gone."""
    total = 0
    for each in (pid, *_children(pid)):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its children."""
    total = 0.0
    for each in (pid, *_children(pid)):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


class PeakMemory:
    """Samples a process tree's RSS in a thread; ``peak`` is the highest seen since ``reset``."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(self.interval)

    def reset(self) -> None:
        self.peak = rss_bytes(self.pid)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def server(environment: dict[str, str], workers: int) -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
        "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **environment})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise TimeoutError("the server did not start")
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


async def prepare(database_url: str, secret: str) -> str:
    """Migrate, add an enterprise user, and return a bearer token for it."""
    database = Database(database_url)
    try:
        await migrate.upgrade(database)
        async with database.writer() as session, session.begin():
            enterprise_id = await identity.ensure_enterprise(
                session=session, uscc="91350100M000100Y43", name="基准测试有限公司", now=utcnow()
            )
            user_id = await identity.add_user(
                session=session,
                username=f"bench-{secrets.token_hex(4)}",
                password_hash=identity.hash_password(secrets.token_hex(8)),
                role=Role.ENTERPRISE,
                enterprise_id=enterprise_id,
                now=utcnow(),
            )
    finally:
        await database.dispose()
    tokens = Tokens(secret=secret, issuer="xhsz", audience="xhsz-api", ttl=dt.timedelta(hours=1))
    token, _ = tokens.issue(user_id=user_id, token_version=1, now=utcnow())
    return token


def upload_request(request_id: str, slot: str, content: bytes) -> dict[str, Any]:
    """The keyword arguments of an httpx request that uploads ``content``."""
    operations = {"query": UPLOAD, "variables": {"id": request_id, "slot": slot, "file": None}}
    return {
        "data": {"operations": json.dumps(operations), "map": '{"0": ["variables.file"]}'},
        "files": {"0": ("bench.png", content, "image/png")},
    }


async def new_request(http: httpx.AsyncClient, url: str) -> str:
    response = await http.post(f"{url}/graphql", json={"query": SAVE, "variables": {"input": FORM}})
    body = response.json()
    assert body.get("data"), body
    payload = body["data"]["saveCoordination"]
    assert payload["errors"] == [], payload
    return str(payload["coordination"]["id"])


async def refuse_huge_body(http: httpx.AsyncClient, url: str, memory: PeakMemory) -> None:
    request_id = await new_request(http, url)
    huge = upload_request(request_id, "OTHER_1", png(50 * MiB))
    built = http.build_request("POST", f"{url}/graphql", **huge)
    body = built.read()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), MiB):
            yield body[start : start + MiB]

    for how, content in (("Content-Length", body), ("chunked", None)):
        await asyncio.sleep(0.5)
        before = rss_bytes(memory.pid)
        memory.reset()
        started = time.perf_counter()
        response = await http.post(
            f"{url}/graphql",
            content=content if content is not None else chunks(),
            headers={"Content-Type": built.headers["content-type"]},
        )
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.2)
        print(
            f"50 MiB body ({how}): HTTP {response.status_code} in {elapsed * 1000:.0f} ms; "
            f"server RSS {before / MiB:.1f} MiB before, {memory.peak / MiB:.1f} MiB peak, "
            f"{rss_bytes(memory.pid) / MiB:.1f} MiB after"
        )


async def load(
    http: httpx.AsyncClient, url: str, clients: int, seconds: float, size: int
) -> tuple[list[float], int]:
    content = png(size)
    latencies: list[float] = []
    refused = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal refused
        free: list[tuple[str, str]] = []
        while time.perf_counter() < deadline:
            if not free:
                request_id = await new_request(http, url)
                free = [(request_id, slot) for slot in SLOTS]
            request_id, slot = free.pop()
            started = time.perf_counter()
            response = await http.post(
                f"{url}/graphql", **upload_request(request_id, slot, content)
            )
            latency = time.perf_counter() - started
            accepted = (
                response.status_code == 200
                and not (response.json()["data"]["uploadAttachment"]["errors"])
            )
            if accepted:
                latencies.append(latency)
            else:
                refused += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, refused


def stored_sizes(storage_dir: Path, size: int) -> tuple[int, int]:
    """How many files the storage holds, and how many of them have ``size`` bytes."""
    files = [path for path in storage_dir.rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size == size for path in files)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--size", type=int, default=4 * MiB)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="xhsz-bench-") as scratch:
        database_url = options.database_url or f"sqlite+aiosqlite:///{scratch}/bench.db"
        storage_dir = Path(scratch, "attachments")
        secret = secrets.token_urlsafe(48)
        token = await prepare(database_url, secret)
        environment = {
            "XHSZ_DATABASE_URL": database_url,
            "XHSZ_STORAGE_DIR": str(storage_dir),
            "XHSZ_SECRET_KEY": secret,
            "XHSZ_DATABASE_POOL_SIZE": str(max(10, options.clients)),
        }
        headers = {"Authorization": f"Bearer {token}", "GraphQL-Require-Preflight": "1"}
        limits = httpx.Limits(max_connections=options.clients + 1)
        print(f"$ {shlex.join([sys.executable, *sys.argv])}")
        print(
            f"{options.clients} clients, {options.size} byte PNGs, {options.seconds:g} s, "
            f"{options.workers} worker(s), {database_url.split(':')[0]}, {os.cpu_count()} CPUs"
        )
        with server(environment, options.workers) as (url, pid), PeakMemory(pid) as memory:
            async with httpx.AsyncClient(headers=headers, timeout=120, limits=limits) as http:
                print(f"server RSS at start: {rss_bytes(pid) / MiB:.1f} MiB")
                await refuse_huge_body(http, url, memory)
                memory.reset()
                started, cpu_before = time.perf_counter(), cpu_seconds(pid)
                latencies, refused = await load(
                    http, url, options.clients, options.seconds, options.size
                )
                elapsed = time.perf_counter() - started
                server_cpu = cpu_seconds(pid) - cpu_before
        uploads = len(latencies)
        print(
            f"uploads: {uploads} in {elapsed:.1f} s = {uploads / elapsed:.1f} uploads/s, "
            f"{uploads * options.size / elapsed / 1e6:.1f} MB/s ({refused} refused)"
        )
        print(
            f"latency: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
            f"mean {statistics.fmean(latencies) * 1000:.0f} ms"
        )
        print(f"server peak RSS under load: {memory.peak / MiB:.1f} MiB")
        print(f"server CPU: {server_cpu:.1f} s in {elapsed:.1f} s ({server_cpu / elapsed:.0%})")
        stored, whole = stored_sizes(storage_dir, options.size)
        print(f"stored files: {stored}, of which {whole} whole ({uploads} uploads accepted)")


if __name__ == "__main__":
    asyncio.run(main())
