"""The certificate registry as this service reads it.

A certificate of another enterprise is treated exactly like an unknown one: every lookup filters by
the owner in the same indexed statement, so neither the answer nor its timing tells them apart.
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import Certificate


async def find_owned(
    session: AsyncSession, certificate_no: str, enterprise_uscc: str | None
) -> Certificate | None:
    """The registry entry for ``certificate_no`` if it belongs to the enterprise, else None."""
    if enterprise_uscc is None:
        return None
    return await session.scalar(
        select(Certificate)
        .where(
            Certificate.certificate_no == certificate_no.strip().upper(),
            Certificate.enterprise_uscc == enterprise_uscc,
        )
        .options(selectinload(Certificate.export_declarations))
    )
