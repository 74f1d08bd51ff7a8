"""What a worker remembers of a token's user, and the bound it puts on revocation."""

import asyncio
import datetime as dt
import time

from sqlalchemy import update

from api.principals import Principals
from api.tokens import Tokens
from db.identity import Viewer
from db.models import User
from db.status import Role
from tests.conftest import MakeApi
from tests.support import Factory

VIEWER = "{ viewer { username } }"
ALICE = Viewer(user_id=1, username="alice", role=Role.ENTERPRISE, enterprise_id=1)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_viewer_is_remembered_for_the_ttl_and_no_longer() -> None:
    clock = Clock()
    principals = Principals(5, clock=clock)
    assert principals.lookup((1, 1, "t")) == (False, None)
    principals.remember((1, 1, "t"), ALICE)
    principals.remember((2, 3, "t"), None)
    clock.now += 4.99
    assert principals.lookup((1, 1, "t")) == (True, ALICE)
    assert principals.lookup((2, 3, "t")) == (True, None), "refused: remembered"
    assert principals.lookup((1, 2, "t")) == (False, None), "another version: another entry"
    clock.now += 0.01
    assert principals.lookup((1, 1, "t")) == (False, None)
    assert principals.lookup((2, 3, "t")) == (False, None)


def test_the_least_recently_used_viewers_are_dropped_beyond_the_limit() -> None:
    principals = Principals(5, max_entries=2, clock=Clock())
    principals.remember((1, 1, "t"), ALICE)
    principals.remember((2, 1, "t"), None)
    assert principals.lookup((1, 1, "t")) == (True, ALICE)
    principals.remember((3, 1, "t"), None)
    assert principals.lookup((2, 1, "t")) == (False, None)
    assert principals.lookup((1, 1, "t")) == (True, ALICE)


def test_a_ttl_of_zero_remembers_nothing() -> None:
    principals = Principals(0, clock=Clock())
    principals.remember((1, 1, "t"), ALICE)
    assert principals.lookup((1, 1, "t")) == (False, None)


async def test_a_revocation_by_another_process_takes_effect_within_the_ttl(
    make_api: MakeApi, factory: Factory
) -> None:
    ttl = 1
    api = await make_api(principal_cache_seconds=ttl)
    alice = await factory.enterprise_user()
    bob = await factory.enterprise_user()
    for actor in (alice, bob):
        assert (await api.data(VIEWER, actor=actor))["viewer"] == {"username": actor.username}
    # As `xhsz user disable` and `xhsz user password` do, from outside this worker.
    async with factory.database.writer() as session, session.begin():
        await session.execute(update(User).where(User.id == alice.user_id).values(is_active=False))
        await session.execute(update(User).where(User.id == bob.user_id).values(token_version=2))
    revoked_at = time.monotonic()
    await asyncio.sleep(ttl - (time.monotonic() - revoked_at) + 0.05)
    for actor in (alice, bob):
        body = await api.post(VIEWER, actor=actor)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body


async def test_a_remembered_viewer_costs_no_statement(
    make_api: MakeApi, factory: Factory, statements: list[str]
) -> None:
    api = await make_api(principal_cache_seconds=60)
    alice = await factory.enterprise_user()
    await api.data(VIEWER, actor=alice)
    assert any("FROM users" in statement for statement in statements)
    statements.clear()
    assert (await api.data(VIEWER, actor=alice))["viewer"] == {"username": alice.username}
    assert statements == []


def test_a_tokens_claims_are_read_once_and_trusted_only_until_it_expires() -> None:
    tokens = Tokens(secret="s" * 48, issuer="xhsz", audience="xhsz-api", ttl=dt.timedelta(hours=1))
    now = dt.datetime.now(dt.UTC)
    token, _ = tokens.issue(user_id=7, token_version=2, now=now)
    wall = Clock()
    wall.now = now.timestamp()
    principals = Principals(5, clock=Clock(), wall_clock=wall)
    read = principals.claims(tokens, token)
    assert read is not None
    assert (read.user_id, read.token_version) == (7, 2)
    # Remembered: the same object again without verifying anew.
    assert principals.claims(tokens, token) is read
    wall.now = read.expires - 0.001
    assert principals.claims(tokens, token) is read
    # Past its expiry by this clock it is no longer trusted from memory: verified anew.
    wall.now = read.expires
    again = principals.claims(tokens, token)
    assert again is not read
    assert again == read
    assert principals.claims(tokens, token + "x") is None
