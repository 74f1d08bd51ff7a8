"""Who is calling: ``viewer``, and ``login`` for a bearer token."""

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from db import identity
from db.errors import Problem
from schema.basics import Viewer
from schema.context import Context
from schema.messages import Outcome
from schema.payloads import UserError, user_errors


@strawberry.type(description="登录结果: what login returns: a bearer token, or why not.")
class LoginPayload:
    token: str | None = strawberry.field(
        description="令牌: the bearer token; send it as `Authorization: Bearer <token>`. Null "
        "when refused."
    )
    expires_at: dt.datetime | None = strawberry.field(
        description="过期时间: when the token stops working (8 hours after login by default; "
        "ISO 8601 with UTC offset)."
    )
    viewer: Viewer | None = strawberry.field(description="当前用户: who logged in.")
    message: str = strawberry.field(
        description="提示信息: 登录成功 or 登录失败, in the viewer's language."
    )
    errors: list[UserError] = strawberry.field(
        description="错误列表: INVALID_CREDENTIALS or TOO_MANY_ATTEMPTS; empty on success."
    )


async def _login(
    info: Info[Context, None],
    username: Annotated[str, strawberry.argument(description="用户名: the login name.")],
    password: Annotated[str, strawberry.argument(description="密码: the password.")],
) -> LoginPayload:
    context = info.context
    limits = context.settings.login_limits
    async with context.transaction() as session:
        result = await identity.login(
            session=session,
            username=username.strip(),
            password=password,
            client=context.client,
            limits=limits,
            now=context.now,
        )
    if isinstance(result, Problem):
        minutes = int(limits.lockout.total_seconds() // 60)
        problem = Problem(result.code, None, {"minutes": minutes})
        return LoginPayload(
            token=None,
            expires_at=None,
            viewer=None,
            message=Outcome.LOGIN.message(context.language, success=False),
            errors=user_errors((problem,), (), context),
        )
    context.observe_viewer(result.viewer)
    token, expires_at = context.tokens.issue(
        user_id=result.viewer.user_id, token_version=result.token_version, now=context.now
    )
    return LoginPayload(
        token=token,
        expires_at=expires_at,
        viewer=Viewer.of(result.viewer),
        message=Outcome.LOGIN.message(context.language, success=True),
        errors=[],
    )


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="当前用户: the logged-in user (UNAUTHENTICATED without a token).")
    async def viewer(self, info: Info[Context, None]) -> Viewer:
        return Viewer.of(await info.context.require_viewer())


@strawberry.type
class IdentityMutation:
    login = strawberry.mutation(
        resolver=_login,
        description="登录: log in with username and password; returns a bearer token. Five "
        "failures for a username (twenty for a client) within 15 minutes lock it out for 15 "
        "minutes (TOO_MANY_ATTEMPTS).",
    )
