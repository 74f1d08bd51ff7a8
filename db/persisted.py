"""Stored GraphQL documents of automatic persisted queries, by their SHA-256 (hexadecimal).

A document is stored once, whoever registers it first; registering it again changes nothing, so
two workers registering the same query at the same moment both succeed.
"""

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import PersistedQuery


async def find(session: AsyncSession, sha256: str) -> str | None:
    """The document registered under ``sha256``, if any."""
    found: str | None = await session.scalar(
        select(PersistedQuery.document).where(PersistedQuery.sha256 == sha256)
    )
    return found


async def register(session: AsyncSession, sha256: str, document: str, now: dt.datetime) -> None:
    """Store ``document`` under ``sha256`` (the caller checked that it is its digest)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(PersistedQuery)
        .values(sha256=sha256, document=document, created_at=now)
        .on_conflict_do_nothing(index_elements=[PersistedQuery.sha256])
    )
