"""Sessions (SPEC §9): ``logout`` revokes the token it is called with and no other,
``logoutEverywhere`` all of the user's; at once in the worker that handled it, within
``XHSZ_PRINCIPAL_CACHE_SECONDS`` in every other (the bound the README states)."""

import asyncio
import datetime as dt
import time

from sqlalchemy import select

from db.clock import utcnow
from db.models import RevokedToken
from tests.conftest import MakeApi
from tests.support import Actor, Api, Factory, count_rows

VIEWER = "{ viewer { username } }"
LOGOUT = "mutation { logout { message errors { code } } }"
EVERYWHERE = "mutation { logoutEverywhere { message errors { code } } }"


def second_token(factory: Factory, actor: Actor) -> Actor:
    token, _ = factory.tokens.issue(user_id=actor.user_id, token_version=1, now=utcnow())
    assert token != actor.token
    return Actor(actor.username, actor.role, token, actor.user_id, actor.uscc)


async def works(api: Api, actor: Actor) -> bool:
    body = await api.post(VIEWER, actor=actor)
    if body.get("errors"):
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
        return False
    return bool(body["data"]["viewer"]["username"] == actor.username)


async def test_logout_revokes_only_the_token_it_is_called_with(api: Api, factory: Factory) -> None:
    alice = await factory.enterprise_user()
    phone = second_token(factory, alice)
    bob = await factory.enterprise_user()
    assert await works(api, alice)
    assert await works(api, phone)
    payload = (await api.data(LOGOUT, actor=alice))["logout"]
    assert payload == {"message": "退出成功", "errors": []}
    assert not await works(api, alice)
    assert await works(api, phone)
    assert await works(api, bob)
    again = await api.post(LOGOUT, actor=alice)
    assert again["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    english = await api.data(LOGOUT, actor=phone, language="en")
    assert english["logout"]["message"] == "Logged out"


async def test_logout_everywhere_revokes_every_token_of_the_user_and_no_one_elses(
    api: Api, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    phone = second_token(factory, alice)
    bob = await factory.enterprise_user()
    assert await works(api, phone)
    payload = (await api.data(EVERYWHERE, actor=alice))["logoutEverywhere"]
    assert payload == {"message": "已退出全部登录", "errors": []}
    assert not await works(api, alice)
    assert not await works(api, phone)
    assert await works(api, bob)


async def test_other_workers_refuse_a_revoked_token_within_the_cache_bound(
    make_api: MakeApi, factory: Factory
) -> None:
    ttl = 1
    here = await make_api(principal_cache_seconds=ttl)
    there = await make_api(principal_cache_seconds=ttl)
    alice = await factory.enterprise_user()
    carol = await factory.enterprise_user()
    for actor in (alice, carol):  # remembered as valid by the other worker
        assert await works(there, actor)
    await here.data(LOGOUT, actor=alice)
    await here.data(EVERYWHERE, actor=carol)
    revoked_at = time.monotonic()
    assert not await works(here, alice), "at once where it was revoked"
    assert not await works(here, carol)
    await asyncio.sleep(ttl - (time.monotonic() - revoked_at) + 0.05)
    assert not await works(there, alice), "elsewhere within the bound"
    assert not await works(there, carol)


async def test_revoked_tokens_are_kept_until_they_expire_then_purged(
    api: Api, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    bob = await factory.enterprise_user()
    await api.data(LOGOUT, actor=alice)
    async with factory.database.reader() as session:
        [row] = (await session.execute(select(RevokedToken))).scalars().all()
    claims = factory.tokens.read(alice.token)
    assert claims is not None
    assert row.jti == claims.token_id
    assert row.user_id == alice.user_id
    assert row.expires_at == dt.datetime.fromtimestamp(claims.expires, dt.UTC)
    # Once past its expiry the row is dropped by the next logout (the token is refused anyway).
    async with factory.database.writer() as session, session.begin():
        row = await session.get(RevokedToken, claims.token_id)
        assert row is not None
        row.expires_at = utcnow() - dt.timedelta(seconds=1)
    await api.data(LOGOUT, actor=bob)
    assert await count_rows(factory.database, RevokedToken) == 1


async def test_a_token_without_an_id_is_revoked_by_its_digest(api: Api, factory: Factory) -> None:
    import jwt

    alice = await factory.enterprise_user()
    now = int(time.time())
    settings = api.client._transport.app.state.settings  # type: ignore[attr-defined]
    claims = {
        "sub": str(alice.user_id),
        "ver": 1,
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "iat": now,
        "exp": now + 600,
    }
    old = Actor(alice.username, alice.role, jwt.encode(claims, settings.secret_key), alice.user_id)
    assert await works(api, old)
    await api.data(LOGOUT, actor=old)
    assert not await works(api, old)
    assert await works(api, alice)
