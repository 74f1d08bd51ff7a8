"""Who is calling: ``viewer``, and ``login`` for a bearer token."""

import datetime as dt

import strawberry
from strawberry.types import Info

from db import identity
from db.errors import Problem
from schema.context import Context
from schema.messages import Outcome
from schema.payloads import UserError, user_errors
from schema.types import Viewer


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: dt.datetime | None
    viewer: Viewer | None
    message: str
    errors: list[UserError]


async def _login(info: Info[Context, None], username: str, password: str) -> LoginPayload:
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
    @strawberry.field(description="The logged-in user.")
    async def viewer(self, info: Info[Context, None]) -> Viewer:
        return Viewer.of(await info.context.require_viewer())


@strawberry.type
class IdentityMutation:
    login = strawberry.mutation(resolver=_login, description="Log in; returns a bearer token.")
