"""Purging deleted requests for good (``xhsz purge``).

Deleting a request only hides it (``deleted_at``): its row, history and files stay for audit. A
purge removes the rows of requests deleted before a cut-off, a batch per transaction, and returns
the storage keys of their files; the caller removes those files after the commit, so that a
failure in between leaves orphan files (``xhsz storage check --repair``), never rows without files.
"""

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Attachment, Coordination, StatusChange

BATCH_SIZE = 500


@dataclass
class Purged:
    requests: int = 0
    history: int = 0
    attachments: int = 0
    storage_keys: list[str] = field(default_factory=list)

    def add(self, other: "Purged") -> None:
        self.requests += other.requests
        self.history += other.history
        self.attachments += other.attachments
        self.storage_keys.extend(other.storage_keys)


def _deleted_before(cutoff: dt.datetime) -> ColumnElement[bool]:
    return Coordination.deleted_at.is_not(None) & (Coordination.deleted_at <= cutoff)


async def count_deleted(*, session: AsyncSession, deleted_before: dt.datetime) -> int:
    """How many requests were deleted at or before the cut-off."""
    found = await session.scalar(
        select(func.count()).select_from(Coordination).where(_deleted_before(deleted_before))
    )
    return int(found or 0)


async def purge_deleted(
    *, session: AsyncSession, deleted_before: dt.datetime, limit: int = BATCH_SIZE
) -> Purged:
    """Remove up to ``limit`` requests deleted at or before ``deleted_before``, with their history
    and attachment rows; returns what went, with the keys of the files to remove after commit."""
    ids = list(
        await session.scalars(
            select(Coordination.id)
            .where(_deleted_before(deleted_before))
            .order_by(Coordination.id)
            .limit(limit)
        )
    )
    if not ids:
        return Purged()
    keys = list(
        await session.scalars(
            select(Attachment.storage_key).where(Attachment.coordination_id.in_(ids))
        )
    )
    attachments = await session.execute(
        delete(Attachment).where(Attachment.coordination_id.in_(ids))
    )
    history = await session.execute(
        delete(StatusChange).where(StatusChange.coordination_id.in_(ids))
    )
    requests = await session.execute(delete(Coordination).where(Coordination.id.in_(ids)))
    return Purged(
        requests=requests.rowcount,  # type: ignore[attr-defined]
        history=history.rowcount,  # type: ignore[attr-defined]
        attachments=attachments.rowcount,  # type: ignore[attr-defined]
        storage_keys=keys,
    )
