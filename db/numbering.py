"""Coordination numbers: ``XT`` + China-Standard-Time date + 8-digit sequence, restarting daily.

The counter row is incremented with one atomic upsert in the caller's transaction, so numbers are
unique across every worker and process; a rolled-back save gives its number back.
"""

import datetime as dt
from functools import cache

from sqlalchemy import Insert, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.clock import china_date
from db.models import CoordinationCounter

PREFIX = "XT"
SEQUENCE_DIGITS = 8


async def next_coordination_no(session: AsyncSession, now: dt.datetime) -> str:
    day = china_date(now).strftime("%Y%m%d")
    statement = _increment(session.get_bind().dialect.name)
    sequence = (await session.execute(statement, {"day": day})).scalar_one()
    return f"{PREFIX}{day}{sequence:0{SEQUENCE_DIGITS}d}"


@cache
def _increment(dialect_name: str) -> Insert:
    """The day's counter, incremented (made at 1): built once (building and keying it for
    SQLAlchemy's statement cache cost more than running it)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement: Insert = (
        dialect.insert(CoordinationCounter)
        .values(day=bindparam("day"), last_value=1)
        .on_conflict_do_update(
            index_elements=[CoordinationCounter.day],
            set_={"last_value": CoordinationCounter.last_value + 1},
        )
        .returning(CoordinationCounter.last_value)
    )
    return statement
