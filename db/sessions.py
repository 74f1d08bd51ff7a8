"""Ending sessions: revoking one bearer token (``logout``) or all of a user's tokens.

One token is revoked by its ``jti``, remembered until the token would have expired anyway; rows
past that are purged whenever a token is revoked, so the table holds at most the tokens revoked
within one token lifetime. All of a user's tokens are revoked by bumping ``users.token_version``,
as a password change does.
"""

import datetime as dt

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RevokedToken, User


async def revoke_token(
    session: AsyncSession, *, jti: str, user_id: int, expires_at: dt.datetime, now: dt.datetime
) -> None:
    """Revoke the token ``jti`` (idempotent) and forget revoked tokens that have expired."""
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(RevokedToken)
        .values(jti=jti, user_id=user_id, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=[RevokedToken.jti])
    )


async def revoke_all(session: AsyncSession, *, user_id: int, token_version: int) -> bool:
    """Revoke every token of the user (the version they were issued with moves on). False when
    the version is no longer current (revoked meanwhile: nothing left to do)."""
    result = await session.execute(
        update(User)
        .where(User.id == user_id, User.token_version == token_version)
        .values(token_version=User.token_version + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
