"""Enterprises, users, passwords and logins, with the lockout of SPEC §8 kept in the database."""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from config.limits import LoginLimits
from db import validation
from db.errors import DomainError, ErrorCode, Problem
from db.models import Enterprise, LoginFailure, RevokedToken, User
from db.status import Role

USERNAME_MAX = 64
ENTERPRISE_NAME_MAX = 200


@dataclass(frozen=True)
class Viewer:
    """Who is calling: the user, their role and, for enterprise users, their enterprise."""

    user_id: int
    username: str
    role: Role
    enterprise_id: int | None = None
    enterprise_uscc: str | None = None
    enterprise_name: str | None = None

    @property
    def is_customs(self) -> bool:
        return self.role is Role.CUSTOMS


@dataclass(frozen=True)
class LoginSuccess:
    viewer: Viewer
    token_version: int


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so that both answers take as long."""
    return _hasher().hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _viewer(user: User, enterprise: Enterprise | None) -> Viewer:
    return Viewer(
        user_id=user.id,
        username=user.username,
        role=user.role,
        enterprise_id=enterprise.id if enterprise else None,
        enterprise_uscc=enterprise.uscc if enterprise else None,
        enterprise_name=enterprise.name if enterprise else None,
    )


async def ensure_enterprise(
    *, session: AsyncSession, uscc: str, name: str, now: dt.datetime
) -> int:
    """The id of the enterprise with this USCC, created (or renamed) as needed."""
    code = validation.uscc(uscc, ("uscc",))
    label = validation.text(name, ("enterpriseName",), max_length=ENTERPRISE_NAME_MAX)
    enterprise = await session.scalar(select(Enterprise).where(Enterprise.uscc == code))
    if enterprise is None:
        enterprise = Enterprise(uscc=code, name=label, created_at=now)
        session.add(enterprise)
    else:
        enterprise.name = label
    await session.flush()
    return enterprise.id


async def add_user(
    *,
    session: AsyncSession,
    username: str,
    password_hash: str,
    role: Role,
    enterprise_id: int | None,
    now: dt.datetime,
) -> int:
    """Create a user; enterprise users belong to exactly one enterprise, customs users to none."""
    name = validation.text(username, ("username",), max_length=USERNAME_MAX)
    if (role is Role.ENTERPRISE) != (enterprise_id is not None):
        raise DomainError.of(ErrorCode.INVALID_FORMAT, ("uscc",))
    if await session.scalar(select(User.id).where(User.username == name)) is not None:
        raise DomainError.of(ErrorCode.INVALID_FORMAT, ("username",))
    user = User(
        username=name,
        password_hash=password_hash,
        role=role,
        enterprise_id=enterprise_id,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return user.id


async def change_password(*, session: AsyncSession, username: str, password_hash: str) -> bool:
    """Set a new password; every token issued before stops working. False: no such user."""
    return await _update_user(session, username, password_hash=password_hash)


async def set_active(*, session: AsyncSession, username: str, active: bool) -> bool:
    """Disable (or enable again) a user; disabling revokes every token. False: no such user."""
    return await _update_user(session, username, is_active=active)


async def _update_user(session: AsyncSession, username: str, **values: object) -> bool:
    result = await session.execute(
        update(User)
        .where(User.username == username)
        .values(**values, token_version=User.token_version + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def find_login(*, session: AsyncSession, username: str) -> LoginSuccess | None:
    """The active user called ``username`` with its token version (for tokens issued by the CLI)."""
    row = (
        await session.execute(
            select(User, Enterprise)
            .outerjoin(Enterprise, User.enterprise_id == Enterprise.id)
            .where(User.username == username, User.is_active)
        )
    ).first()
    if row is None:
        return None
    user, enterprise = row[0], row[1]
    return LoginSuccess(viewer=_viewer(user, enterprise), token_version=user.token_version)


async def load_viewer(
    *, session: AsyncSession, user_id: int, token_version: int, token_id: str | None = None
) -> Viewer | None:
    """The viewer a token names, if the user is still active and the token not revoked (neither
    all of the user's tokens, by their version, nor, given its ``token_id``, this one by logout).

    Every request runs this, so it reads plain columns rather than ORM objects."""
    statement = (
        select(User.username, User.role, Enterprise.id, Enterprise.uscc, Enterprise.name)
        .outerjoin(Enterprise, User.enterprise_id == Enterprise.id)
        .where(User.id == user_id, User.is_active, User.token_version == token_version)
    )
    if token_id is not None:
        revoked = select(RevokedToken.jti).where(RevokedToken.jti == token_id)
        statement = statement.where(~revoked.exists())
    row = (await session.execute(statement)).first()
    if row is None:
        return None
    username, role, enterprise_id, uscc, name = row
    return Viewer(user_id, username, role, enterprise_id, uscc, name)


async def valid_token_versions(
    *, session: AsyncSession, user_ids: Collection[int]
) -> dict[int, int]:
    """The current token version of each of ``user_ids`` still active: a token of a user missing
    here, or of another version, is revoked (the check ``load_viewer`` makes, for many users in
    one statement; open subscriptions are checked this way)."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(User.id, User.token_version).where(User.id.in_(list(user_ids)), User.is_active)
    )
    return {row.id: row.token_version for row in rows}


async def revoked_token_ids(*, session: AsyncSession, token_ids: Collection[str]) -> set[str]:
    """Which of ``token_ids`` (``jti``) ``logout`` revoked (the other half of ``load_viewer``'s
    check, for many tokens in one statement)."""
    if not token_ids:
        return set()
    rows = await session.scalars(
        select(RevokedToken.jti).where(RevokedToken.jti.in_(list(token_ids)))
    )
    return set(rows)


async def _is_locked(
    session: AsyncSession,
    column: InstrumentedAttribute[str],
    key: str,
    *,
    limit: int,
    limits: LoginLimits,
    now: dt.datetime,
) -> bool:
    """True when ``limit`` failures fell within one window that ended less than a lockout ago."""
    recent = (
        await session.scalars(
            select(LoginFailure.at)
            .where(column == key, LoginFailure.at > now - limits.window - limits.lockout)
            .order_by(LoginFailure.at.desc())
            .limit(limit)
        )
    ).all()
    if len(recent) < limit:
        return False
    newest, oldest = recent[0], recent[-1]
    return newest - oldest <= limits.window and now < newest + limits.lockout


# The first key of PostgreSQL's two-key advisory locks: usernames and client addresses apart.
_USERNAME_LOCKS, _CLIENT_LOCKS = 1, 2


async def _take_turn(session: AsyncSession, username: str, client: str) -> None:
    """Wait until no other login of this username or from this client is between its check and
    its record, in any process; the turn lasts until this transaction ends.

    Without it, a burst of parallel logins all read "fewer than five failures" before any records
    one, and each gets its password checked. On PostgreSQL: transaction-level advisory locks,
    username first, then client, in every login, so that two logins never wait for each other.
    On SQLite, a write transaction (``Database.writer``) begins with ``BEGIN IMMEDIATE``, which
    lets one writer at a time through, across processes: that is the turn already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for namespace, key in ((_USERNAME_LOCKS, username), (_CLIENT_LOCKS, client)):
        # A hash collision only makes two names share a turn.
        await session.execute(select(func.pg_advisory_xact_lock(namespace, func.hashtext(key))))


async def login(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    client: str,
    limits: LoginLimits,
    now: dt.datetime,
) -> LoginSuccess | Problem:
    """Check a password, recording failures; the caller commits even when this refuses.

    Run it in a write transaction of its own: the check, the verification and the record are one
    turn per username and per client until that transaction ends."""
    await _take_turn(session, username, client)
    locked = await _is_locked(
        session,
        LoginFailure.username,
        username,
        limit=limits.max_failures_per_username,
        limits=limits,
        now=now,
    ) or await _is_locked(
        session,
        LoginFailure.client,
        client,
        limit=limits.max_failures_per_client,
        limits=limits,
        now=now,
    )
    if locked:
        return Problem(ErrorCode.TOO_MANY_ATTEMPTS)
    found = (
        await session.execute(
            select(User, Enterprise)
            .outerjoin(Enterprise, User.enterprise_id == Enterprise.id)
            .where(User.username == username)
        )
    ).first()
    user, enterprise = (found[0], found[1]) if found else (None, None)
    password_ok = _verify(user.password_hash if user else _dummy_hash(), password)
    if user is None or not password_ok or not user.is_active:
        session.add(LoginFailure(username=username[:USERNAME_MAX], client=client[:64], at=now))
        return Problem(ErrorCode.INVALID_CREDENTIALS)
    await session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return LoginSuccess(viewer=_viewer(user, enterprise), token_version=user.token_version)


async def prune_login_failures(
    *, session: AsyncSession, limits: LoginLimits, now: dt.datetime
) -> int:
    """Forget failures too old to matter for any lockout; returns how many."""
    cutoff = now - limits.window - limits.lockout
    result = await session.execute(delete(LoginFailure).where(LoginFailure.at <= cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]
