"""Login and bearer tokens over HTTP."""

import datetime as dt
import time
from collections.abc import Awaitable, Callable

import httpx
import jwt
import pytest
from sqlalchemy import update

from config.limits import LoginLimits
from config.settings import Settings
from db.models import User
from tests.conftest import MakeApi
from tests.servers import uvicorn_server
from tests.support import PASSWORD, Actor, Api, Factory, graphql_data
from tests.timing import assert_take_as_long, timed_pairs

LOGIN = """
mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) {
    token expiresAt message viewer { username role enterprise { uscc name } }
    errors { field code message }
  }
}
"""
VIEWER = "{ viewer { username role enterprise { uscc } } }"
LOGIN_PAIRS = 24
"""Enough that a real 2× gap fails the timing test (tests/timing.py) even on a busy machine."""


async def login(api: Api, username: str, password: str, **kwargs: object) -> dict[str, object]:
    payload: dict[str, object] = (
        await api.data(LOGIN, {"u": username, "p": password}, **kwargs)  # type: ignore[arg-type]
    )["login"]
    return payload


async def test_login_returns_a_token_that_authenticates(api: Api, factory: Factory) -> None:
    alice = await factory.enterprise_user(username="alice")
    payload = await login(api, "alice", PASSWORD)

    assert payload["errors"] == []
    assert payload["message"] == "登录成功"
    assert payload["viewer"] == {
        "username": "alice",
        "role": "ENTERPRISE",
        "enterprise": {"uscc": alice.uscc, "name": alice.enterprise_name},
    }
    expires = dt.datetime.fromisoformat(str(payload["expiresAt"]))
    assert dt.timedelta(hours=7) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=8)
    me = await api.data(VIEWER, headers={"Authorization": f"Bearer {payload['token']}"})
    assert me["viewer"]["username"] == "alice"


async def test_customs_viewer_has_no_enterprise(api: Api, factory: Factory) -> None:
    officer = await factory.customs_user()
    me = await api.data(VIEWER, actor=officer)
    assert me["viewer"] == {"username": officer.username, "role": "CUSTOMS", "enterprise": None}


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    api: Api, factory: Factory
) -> None:
    await factory.enterprise_user(username="alice")
    wrong = await login(api, "alice", "not the password")
    unknown = await login(api, "nobody", "not the password")

    assert wrong == unknown
    assert wrong["token"] is None
    assert wrong["message"] == "登录失败"
    assert wrong["errors"] == [
        {"field": None, "code": "INVALID_CREDENTIALS", "message": "用户名或密码错误"}
    ]


async def test_wrong_password_and_unknown_user_take_as_long(
    factory: Factory, make_api: MakeApi
) -> None:
    """Both verify an argon2 hash; a missing user must not answer in a fraction of the time."""
    await factory.enterprise_user(username="alice")
    # limits high enough that every attempt is checked (a locked-out answer is quick for both)
    unlimited = LoginLimits(max_failures_per_username=10_000, max_failures_per_client=10_000)
    api = await make_api(login_limits=unlimited)

    def wrong_login(username: str) -> Callable[[], Awaitable[object]]:
        async def attempt() -> object:
            payload = await login(api, username, "wrong")
            assert payload["errors"] != [], payload
            return payload

        return attempt

    pairs = await timed_pairs(wrong_login("alice"), wrong_login("nobody"), LOGIN_PAIRS)
    assert_take_as_long(pairs)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
    ],
)
async def test_missing_or_malformed_token_is_unauthenticated(
    api: Api, factory: Factory, header: str | None
) -> None:
    await factory.enterprise_user()
    body = await api.post(VIEWER, headers={"Authorization": header} if header else {})
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["path"] == ["viewer"]
    assert "Traceback" not in str(body)


def _forged(settings: Settings, actor: Actor, **changes: object) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(actor.user_id),
        "ver": 1,
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "iat": now,
        "exp": now + 600,
    }
    secret = str(changes.pop("secret", settings.secret_key))
    algorithm = str(changes.pop("algorithm", "HS256"))
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}  # None: left out
    return jwt.encode(claims, secret, algorithm=algorithm)


@pytest.mark.parametrize(
    "changes",
    [
        {"secret": "another secret of at least thirty-two characters"},
        {"exp": int(time.time()) - 10},
        {"iss": "someone-else"},
        {"aud": "another-api"},
        {"ver": 2},
        {"sub": "999999"},
        {"algorithm": "HS512"},
        {"iat": int(time.time()) + 3600},
        {"exp": None},
        {"iat": None},
        {"aud": None},
    ],
    ids=[
        "signature",
        "expired",
        "issuer",
        "audience",
        "version",
        "user",
        "algorithm",
        "issued-in-the-future",
        "no-expiry",
        "no-issue-time",
        "no-audience",
    ],
)
async def test_a_token_that_is_not_ours_or_no_longer_valid_is_refused(
    api: Api, factory: Factory, settings: Settings, changes: dict[str, object]
) -> None:
    alice = await factory.enterprise_user()
    assert await api.data(VIEWER, headers={"Authorization": f"Bearer {_forged(settings, alice)}"})
    body = await api.post(
        VIEWER, headers={"Authorization": f"Bearer {_forged(settings, alice, **changes)}"}
    )
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_unsigned_token_is_refused(api: Api, factory: Factory, settings: Settings) -> None:
    alice = await factory.enterprise_user()
    unsigned = jwt.encode(
        {"sub": str(alice.user_id), "ver": 1, "iss": settings.token_issuer}, None, algorithm="none"
    )
    body = await api.post(VIEWER, headers={"Authorization": f"Bearer {unsigned}"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_disabling_a_user_or_bumping_the_token_version_revokes_tokens(
    api: Api, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    bob = await factory.enterprise_user()
    async with factory.database.writer() as session, session.begin():
        await session.execute(update(User).where(User.id == alice.user_id).values(is_active=False))
        await session.execute(update(User).where(User.id == bob.user_id).values(token_version=2))
    for actor in (alice, bob):
        body = await api.post(VIEWER, actor=actor)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_disabled_user_cannot_log_in(api: Api, factory: Factory) -> None:
    alice = await factory.enterprise_user(username="alice")
    async with factory.database.writer() as session, session.begin():
        await session.execute(update(User).where(User.id == alice.user_id).values(is_active=False))
    payload = await login(api, "alice", PASSWORD)
    assert payload["token"] is None
    assert payload["errors"][0]["code"] == "INVALID_CREDENTIALS"  # type: ignore[index]


async def test_every_query_and_mutation_but_login_needs_a_token(api: Api) -> None:
    for document in (
        "{ viewer { username } }",
        '{ node(id: "x") { id } }',
        '{ coordination(coordinationNo: "XT1") { __typename } }',
        "{ tradeAgreements { code } }",
        "{ countries { code } }",
        '{ ports(countryCode: "KOR") { code } }',
        "mutation { saveCoordination(input: {type: CCPIT_CERTIFICATE}) { message } }",
    ):
        body = await api.post(document)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", document


async def test_five_failures_lock_the_username_even_for_the_right_password(
    api: Api, factory: Factory
) -> None:
    await factory.enterprise_user(username="alice")
    codes = [
        (await login(api, "alice", f"wrong {attempt}"))["errors"][0]["code"]  # type: ignore[index]
        for attempt in range(7)
    ]
    assert codes == ["INVALID_CREDENTIALS"] * 5 + ["TOO_MANY_ATTEMPTS"] * 2
    locked = await login(api, "alice", PASSWORD)
    assert locked["token"] is None
    assert locked["errors"] == [
        {"field": None, "code": "TOO_MANY_ATTEMPTS", "message": "登录失败次数过多，请15分钟后再试"}
    ]
    other = await factory.enterprise_user(username="bob")
    assert other.username == "bob"
    assert (await login(api, "bob", PASSWORD))["errors"] == []


async def test_twenty_wrong_passwords_are_refused_after_the_threshold_and_so_is_the_right_one(
    api: Api, factory: Factory
) -> None:
    await factory.enterprise_user(username="alice")
    codes = [
        (await login(api, "alice", f"guess {attempt}"))["errors"][0]["code"]  # type: ignore[index]
        for attempt in range(20)
    ]
    assert codes == ["INVALID_CREDENTIALS"] * 5 + ["TOO_MANY_ATTEMPTS"] * 15

    during_lockout = await login(api, "alice", PASSWORD)
    assert during_lockout["token"] is None
    assert during_lockout["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"  # type: ignore[index]


async def test_an_unknown_username_is_locked_out_like_a_known_one(api: Api) -> None:
    codes = [
        (await login(api, "nobody", f"guess {attempt}"))["errors"][0]["code"]  # type: ignore[index]
        for attempt in range(6)
    ]
    assert codes == ["INVALID_CREDENTIALS"] * 5 + ["TOO_MANY_ATTEMPTS"]


async def test_failures_from_one_client_over_its_limit_lock_that_client_out(
    factory: Factory, make_api: MakeApi
) -> None:
    """The per-client limit (20 by default, 4 here to keep the test fast) counts failures for
    any username, so guessing across many usernames from one address stops too."""
    await factory.enterprise_user(username="alice")
    limits = LoginLimits(max_failures_per_client=4)
    attacker = await make_api(login_limits=limits)
    for attempt in range(4):  # one try each for four usernames: no username limit is hit
        payload = await login(attacker, f"user{attempt}", "guess")
        assert payload["errors"][0]["code"] == "INVALID_CREDENTIALS"  # type: ignore[index]

    refused = await login(attacker, "alice", PASSWORD)
    assert refused["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"  # type: ignore[index]

    elsewhere = await make_api(login_limits=limits, address="198.51.100.9")
    assert (await login(elsewhere, "alice", PASSWORD))["errors"] == []


async def test_a_lockout_holds_for_every_worker(
    api: Api, factory: Factory, make_api: MakeApi
) -> None:
    """Two apps with their own engines stand for two worker processes: the count is shared."""
    await factory.enterprise_user(username="alice")
    other_worker = await make_api()
    for attempt in range(5):
        await login((api, other_worker)[attempt % 2], "alice", "guess")
    for worker in (api, other_worker):
        payload = await login(worker, "alice", PASSWORD)
        assert payload["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"  # type: ignore[index]


async def test_behind_a_proxy_the_forwarded_client_address_is_the_one_limited(
    factory: Factory, settings: Settings
) -> None:
    """uvicorn takes the client from X-Forwarded-For when the proxy is trusted (127.0.0.1 by
    default, FORWARDED_ALLOW_IPS otherwise); the per-client limit then applies per real client."""
    await factory.enterprise_user(username="alice")
    environment = {
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
        "XHSZ_LOGIN_MAX_FAILURES_PER_CLIENT": "3",
    }
    with uvicorn_server(environment) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:

            async def code(username: str, password: str, client: str) -> str | None:
                response = await http.post(
                    "/graphql",
                    json={"query": LOGIN, "variables": {"u": username, "p": password}},
                    headers={"X-Forwarded-For": client},
                )
                errors = graphql_data(response)["login"]["errors"]
                return str(errors[0]["code"]) if errors else None

            for attempt in range(3):
                assert await code(f"user{attempt}", "guess", "198.51.100.1") == (
                    "INVALID_CREDENTIALS"
                )
            assert await code("alice", PASSWORD, "198.51.100.1") == "TOO_MANY_ATTEMPTS"
            assert await code("alice", PASSWORD, "198.51.100.2") is None
