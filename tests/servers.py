"""Real uvicorn servers in subprocesses, for tests that need several processes.

Each server's log is kept until the test that ran it is over, and a failing test's report ends
with the tail of each (the ``pytest_runtest_makereport`` hook in tests/conftest.py)."""

import os
import pwd
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


LOG_TAIL = 4000
"""How much of a server's log a failing test's report shows (its last characters)."""

POOL_SIZE = "4"
"""Each server's connection pool (per worker): several test suites
share one PostgreSQL server and its ``max_connections`` (100 by default), and a suite that held
more failed others' requests with "too many clients" (masked as "Unexpected error.")."""

STARTS = 3
"""Tries at starting a server: the port ``free_port`` found may be taken before the server binds
it (by any process on the machine, an outgoing connection's ephemeral port included)."""


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: IO[str]

    def log_text(self) -> str:
        """What the server has written to stderr so far."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


@dataclass
class _Logged:
    """A server that a test may have talked to, so that a failing test can show its log."""

    command: str
    log: IO[str]
    final: str | None = None

    def text(self) -> str:
        if self.final is not None:
            return self.final
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


_running_or_recent: list[_Logged] = []


def server_logs() -> list[tuple[str, str]]:
    """The command and log tail of every server running now or stopped since
    ``forget_stopped_servers`` was called (the conftest calls it after each test)."""
    return [
        (logged.command, logged.text()[-LOG_TAIL:] or "(nothing logged)")
        for logged in _running_or_recent
    ]


def forget_stopped_servers() -> None:
    _running_or_recent[:] = [logged for logged in _running_or_recent if logged.final is None]


@contextmanager
def uvicorn_server(
    environment: dict[str, str], *, workers: int = 1, timeout: float = 90.0
) -> Iterator[str]:
    """Serve the app (``api.app:create_app``) until the block ends; yields its base URL."""
    with uvicorn_process(environment, workers=workers, timeout=timeout) as server:
        yield server.url


@contextmanager
def uvicorn_process(
    environment: dict[str, str], *, workers: int = 1, timeout: float = 90.0
) -> Iterator[Server]:
    """Like ``uvicorn_server``, with the process (with one worker, the server itself)."""

    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host",
            "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning",
        ]  # fmt: skip

    with _serving(command, environment, timeout) as server:
        yield server


@contextmanager
def xhsz_serve(
    environment: dict[str, str],
    *,
    workers: int = 1,
    timeout: float = 120.0,
    options: tuple[str, ...] = (),
) -> Iterator[Server]:
    """``xhsz serve`` as an operator runs it (migrations, JSON logs, N workers, ``options``)."""
    xhsz = str(Path(sys.executable).with_name("xhsz"))

    def command(port: int) -> list[str]:
        return [
            xhsz, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            *options,
        ]  # fmt: skip

    with _serving(command, environment, timeout) as server:
        yield server


class _PortTaken(Exception):
    pass


@contextmanager
def _serving(
    command: Callable[[int], list[str]], environment: dict[str, str], timeout: float
) -> Iterator[Server]:
    for attempt in range(1, STARTS + 1):
        try:
            with _serving_on(command(free_port()), environment, timeout) as server:
                yield server
            return
        except _PortTaken:
            if attempt == STARTS:
                raise


@contextmanager
def _serving_on(
    command: list[str], environment: dict[str, str], timeout: float
) -> Iterator[Server]:
    port = int(command[command.index("--port") + 1])
    with tempfile.TemporaryFile(mode="w+") as log:
        variables = {**os.environ, "XHSZ_DATABASE_POOL_SIZE": POOL_SIZE, **environment}
        process = subprocess.Popen(command, cwd=ROOT, env=variables, stderr=log)
        logged = _Logged(shlex.join(command), log)
        _running_or_recent.append(logged)
        try:
            url = _wait_until_healthy(process, logged, f"http://127.0.0.1:{port}", timeout)
            yield Server(url, process, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            logged.final = logged.text()


def _wait_until_healthy(
    process: subprocess.Popen[bytes], logged: _Logged, base_url: str, timeout: float
) -> str:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            text = logged.text()
            if "address already in use" in text.lower():
                raise _PortTaken(text)
            raise RuntimeError(f"server exited with {process.returncode}: {text[-LOG_TAIL:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return base_url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"server did not start in {timeout} s: {logged.text()[-LOG_TAIL:]}")
        time.sleep(0.1)


PG_BIN = Path("/usr/lib/postgresql")


PG_PROGRAMS = ("initdb", "pg_ctl", "pg_basebackup")


def missing_postgres_binaries() -> str | None:
    """Why a cluster of our own cannot be started here (None: it can)."""
    versions = sorted(PG_BIN.glob("*/bin/pg_ctl"))
    if os.geteuid() != 0:
        return "needs root, to run PostgreSQL's programs as the postgres system user"
    if not versions:
        return f"needs Debian's PostgreSQL server binaries ({PG_BIN}/*/bin)"
    missing = [name for name in PG_PROGRAMS if not (versions[-1].parent / name).exists()]
    if missing:
        return f"needs PostgreSQL's {', '.join(missing)} in {versions[-1].parent}"
    try:
        _postgres_ids()
    except KeyError:
        return "needs the postgres system user"
    return None


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own (initdb in a temporary folder) that a test may stop and
    start without disturbing the shared server; with ``standby_of``, a streaming replica of that
    cluster instead (``pg_basebackup -R``: hot standby, replaying what the primary streams)."""

    def __init__(self, folder: Path, *, standby_of: "ThrowawayPostgres | None" = None) -> None:
        missing = missing_postgres_binaries()
        if missing is not None:
            raise RuntimeError(missing)
        self.bin = sorted(PG_BIN.glob("*/bin/pg_ctl"))[-1].parent
        self.folder = folder
        self.port = free_port()
        os.chown(folder, *_postgres_ids())
        data = str(folder / "data")
        if standby_of is None:
            self._as_postgres("initdb", "-D", data, "-A", "trust", "-U", "postgres")
        else:
            self._as_postgres(
                "pg_basebackup", "-h", "127.0.0.1", "-p", str(standby_of.port), "-U", "postgres",
                "-D", data, "-R", "-X", "stream", "-c", "fast",
            )  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, program: str, *arguments: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / program), *arguments],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        data, log = str(self.folder / "data"), str(self.folder / "log")
        self._as_postgres("pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")


def _postgres_ids() -> tuple[int, int]:
    """The postgres system user's uid and gid (KeyError: no such user)."""
    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    with tempfile.TemporaryDirectory() as folder:
        cluster = ThrowawayPostgres(Path(folder))
        cluster.start()
        try:
            yield cluster
        finally:
            with suppress(subprocess.CalledProcessError):
                cluster.stop()
