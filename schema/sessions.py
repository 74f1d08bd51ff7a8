"""Ending sessions: ``logout`` revokes the token it is called with, ``logoutEverywhere`` every
token of the user (``db.sessions``).

The worker that handles either refuses the revoked tokens from its next request on; the other
workers within ``XHSZ_PRINCIPAL_CACHE_SECONDS`` (``api.principals``), the bound the README states.
Download and preview links already handed out keep working until they expire (minutes) after a
``logout``; ``logoutEverywhere`` revokes them too (they are signed with the token version).
"""

import datetime as dt

import strawberry
from strawberry.types import Info

from db import sessions
from schema.context import Context
from schema.messages import Outcome
from schema.payloads import UserError


@strawberry.type(
    description="退出登录的结果 (logout result): the outcome of `logout` or `logoutEverywhere`."
)
class LogoutPayload:
    message: str = strawberry.field(
        description="提示信息 (message): the outcome in the user's language, e.g. 退出成功."
    )
    errors: list[UserError] = strawberry.field(
        description="错误 (errors): always empty; a call without a valid token is refused with a "
        "GraphQL error `UNAUTHENTICATED` instead."
    )


async def _logout(info: Info[Context, None]) -> LogoutPayload:
    context = info.context
    viewer = await context.require_viewer()
    claims = await context.token_claims()
    assert claims is not None, "a viewer comes from a valid token"
    async with context.transaction() as session:
        await sessions.revoke_token(
            session,
            jti=claims.token_id,
            user_id=viewer.user_id,
            expires_at=dt.datetime.fromtimestamp(claims.expires, dt.UTC),
            now=context.now,
        )
    context.principals.revoke_token((claims.user_id, claims.token_version, claims.token_id))
    return LogoutPayload(message=Outcome.LOGOUT.message(context.language, success=True), errors=[])


async def _logout_everywhere(info: Info[Context, None]) -> LogoutPayload:
    context = info.context
    viewer = await context.require_viewer()
    claims = await context.token_claims()
    assert claims is not None, "a viewer comes from a valid token"
    async with context.transaction() as session:
        await sessions.revoke_all(
            session, user_id=viewer.user_id, token_version=claims.token_version
        )
    context.principals.revoke_user(claims.user_id, claims.token_version)
    message = Outcome.LOGOUT_EVERYWHERE.message(context.language, success=True)
    return LogoutPayload(message=message, errors=[])


@strawberry.type
class SessionMutation:
    logout = strawberry.mutation(
        resolver=_logout,
        description="退出登录 (log out): revokes the bearer token this request carries; the "
        "user's other tokens keep working.",
    )
    logout_everywhere = strawberry.mutation(
        resolver=_logout_everywhere,
        description="退出全部登录 (log out everywhere): revokes every bearer token of the user, "
        "on every device, and the download and preview links issued with them.",
    )
