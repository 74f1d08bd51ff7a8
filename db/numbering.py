"""Coordination numbers: ``XT`` + China-Standard-Time date + 8-digit sequence, restarting daily.

The counter row is incremented with one atomic upsert in the caller's transaction, so numbers are
unique across every worker and process; a rolled-back save gives its number back.
"""

import datetime as dt

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.clock import china_date
from db.models import CoordinationCounter

PREFIX = "XT"
SEQUENCE_DIGITS = 8


async def next_coordination_no(session: AsyncSession, now: dt.datetime) -> str:
    day = china_date(now).strftime("%Y%m%d")
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(CoordinationCounter)
        .values(day=day, last_value=1)
        .on_conflict_do_update(
            index_elements=[CoordinationCounter.day],
            set_={"last_value": CoordinationCounter.last_value + 1},
        )
        .returning(CoordinationCounter.last_value)
    )
    sequence = (await session.execute(statement)).scalar_one()
    return f"{PREFIX}{day}{sequence:0{SEQUENCE_DIGITS}d}"
