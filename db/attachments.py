"""Attachment rows of a request."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import REQUIRED_SLOTS, Attachment, AttachmentSlot


async def missing_required_slots(
    *, session: AsyncSession, coordination_id: int
) -> list[AttachmentSlot]:
    """The slots a request must fill before it can be submitted but has not."""
    filled = set(
        await session.scalars(
            select(Attachment.slot).where(Attachment.coordination_id == coordination_id)
        )
    )
    return [slot for slot in REQUIRED_SLOTS if slot not in filled]
