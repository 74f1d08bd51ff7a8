"""The login lockout of SPEC §8 over time: it lasts the lockout period, then counting restarts."""

import datetime as dt

from config.limits import LoginLimits
from db import identity
from db.database import Database
from db.errors import ErrorCode, Problem
from db.identity import LoginSuccess
from tests.support import PASSWORD, Factory

LIMITS = LoginLimits()  # 5 failures within 15 minutes lock the username for 15 minutes
T0 = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)


async def attempt(
    database: Database, password: str, at: dt.datetime, *, client: str = "203.0.113.7"
) -> ErrorCode | None:
    async with database.writer() as session, session.begin():
        result = await identity.login(
            session=session,
            username="alice",
            password=password,
            client=client,
            limits=LIMITS,
            now=at,
        )
    if isinstance(result, Problem):
        return result.code
    assert isinstance(result, LoginSuccess)
    return None


async def test_the_lockout_ends_after_the_lockout_period(
    database: Database, factory: Factory
) -> None:
    await factory.enterprise_user(username="alice")
    for minute in range(5):
        assert await attempt(database, "guess", T0 + dt.timedelta(minutes=minute)) is (
            ErrorCode.INVALID_CREDENTIALS
        )
    last_failure = T0 + dt.timedelta(minutes=4)

    almost = last_failure + LIMITS.lockout - dt.timedelta(seconds=1)
    assert await attempt(database, PASSWORD, almost) is ErrorCode.TOO_MANY_ATTEMPTS
    assert await attempt(database, PASSWORD, last_failure + LIMITS.lockout) is None


async def test_refused_attempts_during_a_lockout_do_not_extend_it(
    database: Database, factory: Factory
) -> None:
    await factory.enterprise_user(username="alice")
    for second in range(5):
        await attempt(database, "guess", T0 + dt.timedelta(seconds=second))
    for minute in range(1, 15):
        assert await attempt(database, "guess", T0 + dt.timedelta(minutes=minute)) is (
            ErrorCode.TOO_MANY_ATTEMPTS
        )
    assert await attempt(database, PASSWORD, T0 + dt.timedelta(minutes=15, seconds=5)) is None


async def test_failures_spread_wider_than_the_window_do_not_lock(
    database: Database, factory: Factory
) -> None:
    await factory.enterprise_user(username="alice")
    spacing = LIMITS.window / 4 + dt.timedelta(seconds=1)  # five failures span more than a window
    for index in range(5):
        await attempt(database, "guess", T0 + index * spacing)
    assert await attempt(database, PASSWORD, T0 + 5 * spacing) is None


async def test_a_success_clears_the_failures_of_the_username(
    database: Database, factory: Factory
) -> None:
    await factory.enterprise_user(username="alice")
    for minute in range(4):
        await attempt(database, "guess", T0 + dt.timedelta(minutes=minute))
    assert await attempt(database, PASSWORD, T0 + dt.timedelta(minutes=5)) is None
    for minute in range(6, 10):
        assert await attempt(database, "guess", T0 + dt.timedelta(minutes=minute)) is (
            ErrorCode.INVALID_CREDENTIALS
        )
