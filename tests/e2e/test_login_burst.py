"""The login lockout under a burst of parallel logins through ``xhsz serve --workers 2``.

Checking the lockout, verifying the password and recording a failure must be one step for each
username and each client, across processes: otherwise every request of a burst reads "fewer than
five failures" before any of them records one, each gets its password checked, and the right
password inside the burst gets a token. Every request comes on a connection of its own, as an
attacker's would, so that both workers answer.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import ColumnElement, func, select, text

from config.settings import Settings
from db.database import Database
from db.models import LoginFailure
from tests.servers import Server, xhsz_serve
from tests.support import PASSWORD, Factory

BURST = 40
LIMIT = 5
TOKEN = "TOKEN"  # what ``login_code`` answers when the login succeeded
LOGIN = """
mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) { token errors { code } }
}
"""


@dataclass(frozen=True)
class Scenario:
    """Whose limit the burst runs into: one username's, or one client's across usernames."""

    name: str
    usernames: list[str]
    counted: ColumnElement[bool]  # the recorded failures that count towards that limit
    environment: dict[str, str]


SCENARIOS = [
    Scenario("one-username", ["alice"] * BURST, LoginFailure.username == "alice", {}),
    # One try for each of 40 usernames stays under every username's limit; the per-client limit
    # is lowered to 5 so that the same burst runs into it.
    Scenario(
        "one-client",
        [f"user{index}" for index in range(BURST)],
        LoginFailure.client == "127.0.0.1",
        {"XHSZ_LOGIN_MAX_FAILURES_PER_CLIENT": str(LIMIT)},
    ),
]


@contextmanager
def two_workers(settings: Settings, tmp_path: Path, scenario: Scenario) -> Iterator[Server]:
    environment = {
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        # Room for the whole burst and the right password in either worker: a request waiting
        # for a pool connection would not be waiting in the database, where the gated test
        # watches for it.
        "XHSZ_DATABASE_POOL_SIZE": str(BURST + 1),
        **scenario.environment,
    }
    with xhsz_serve(environment, workers=2) as server:
        yield server


@asynccontextmanager
async def fresh_connections(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=2 * BURST, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as http:
        yield http


async def login_code(http: httpx.AsyncClient, server: Server, username: str, password: str) -> str:
    """The error code of one login (``TOKEN`` when it succeeded)."""
    response = await http.post(
        "/graphql", json={"query": LOGIN, "variables": {"u": username, "p": password}}
    )
    context = (
        f"{response.status_code} {response.text}\n--- server log ---\n{server.log_text()[-4000:]}"
    )
    assert response.status_code == 200, context
    payload = response.json()["data"]["login"]
    if payload["token"]:
        return TOKEN
    [error] = payload["errors"]
    return str(error["code"])


@asynccontextmanager
async def burst(
    http: httpx.AsyncClient, server: Server, usernames: list[str], password: str | None = None
) -> AsyncIterator[list[asyncio.Task[str]]]:
    """One login for each username (a wrong password unless given), all sent at once; none is
    left running after the block."""
    tasks = [
        asyncio.create_task(login_code(http, server, username, password or f"guess {index}"))
        for index, username in enumerate(usernames)
    ]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def recorded_failures(database: Database, scenario: Scenario) -> int:
    async with database.reader() as session:
        counted = select(func.count()).select_from(LoginFailure).where(scenario.counted)
        return int(await session.scalar(counted) or 0)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
async def test_a_burst_of_parallel_wrong_logins_through_two_workers_checks_five_passwords(
    factory: Factory, settings: Settings, tmp_path: Path, scenario: Scenario
) -> None:
    """The right password is sent once five answers are back, while the rest of the burst is
    still being answered: by then five failures are recorded, so it is refused."""
    await factory.enterprise_user(username="alice")
    with two_workers(settings, tmp_path, scenario) as server:
        async with (
            fresh_connections(server) as http,
            burst(http, server, scenario.usernames) as wrong,
        ):
            for answered, next_answer in enumerate(asyncio.as_completed(wrong), start=1):
                await next_answer
                if answered == LIMIT:
                    break
            right = await login_code(http, server, "alice", PASSWORD)
            codes = await asyncio.gather(*wrong)

    checked = codes.count("INVALID_CREDENTIALS")
    assert (checked, right) == (LIMIT, "TOO_MANY_ATTEMPTS"), "(passwords checked, right password)"
    assert codes.count("TOO_MANY_ATTEMPTS") == BURST - LIMIT
    assert await recorded_failures(factory.database, scenario) == LIMIT


async def locks_awaited(database: Database) -> int:
    """How many sessions of the test database wait for a lock (PostgreSQL)."""
    async with database.reader() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND backend_type = 'client backend'"
                " AND wait_event_type = 'Lock'"
            )
        )
        return int(waiting or 0)


async def wait_for_waiters(
    database: Database, count: int, server: Server, logins: list[asyncio.Task[str]]
) -> None:
    """Wait until ``count`` logins wait in the database; a login answered before (it cannot have
    passed the gate: refused by the server, say) ends the wait with its answer."""
    deadline = time.monotonic() + 60
    while (waiting := await locks_awaited(database)) < count:
        if answered := [login for login in logins if login.done()]:
            answer = await answered[0]  # raises with the response and the server log, if it failed
            raise AssertionError(f"a login was answered {answer} before the gate opened")
        assert time.monotonic() < deadline, (
            f"{waiting} of {count} logins reached the database\n{server.log_text()[-4000:]}"
        )
        await asyncio.sleep(0.05)


@pytest.mark.postgres_only
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
async def test_logins_released_all_at_once_are_checked_one_at_a_time_and_in_turn(
    factory: Factory, settings: Settings, tmp_path: Path, scenario: Scenario
) -> None:
    """The sharpest race: the test locks the failures table, lets the whole burst queue up behind
    it in the database, then the right password, and releases them all at the same instant.
    Logins queue in the order they came (PostgreSQL grants a lock to its waiters in turn), so the
    right password, last in line, finds the lockout."""
    await factory.enterprise_user(username="alice")
    database = factory.database
    with two_workers(settings, tmp_path, scenario) as server:
        async with fresh_connections(server) as http, database.writer() as gate:
            await gate.execute(text("LOCK TABLE login_failures IN ACCESS EXCLUSIVE MODE"))
            async with burst(http, server, scenario.usernames) as wrong:
                await wait_for_waiters(database, BURST, server, wrong)
                async with burst(http, server, ["alice"], PASSWORD) as right:
                    await wait_for_waiters(database, BURST + 1, server, wrong + right)
                    await gate.commit()  # the gate opens: every login proceeds at once
                    codes = await asyncio.gather(*wrong, *right)

    checked, right = codes[:BURST].count("INVALID_CREDENTIALS"), codes[BURST]
    assert (checked, right) == (LIMIT, "TOO_MANY_ATTEMPTS"), "(passwords checked, right password)"
    assert codes[:BURST].count("TOO_MANY_ATTEMPTS") == BURST - LIMIT
    assert await recorded_failures(database, scenario) == LIMIT
