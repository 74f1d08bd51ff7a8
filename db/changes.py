"""The two steps every change to a request takes, whichever service makes it.

1. ``load_for_change``: the request as the viewer may see it (``NOT_FOUND`` when missing or
   another enterprise's, alike), at the version the client expects (``VERSION_CONFLICT``).
2. ``guarded_update``: an ``UPDATE`` whose ``WHERE`` repeats what was checked (status, and the
   version), so a concurrent change in between makes it touch no row: ``VERSION_CONFLICT``, and
   the transaction rolls back. Every successful change increments ``version``.
3. ``announce``: the change's event, delivered to subscribers once the transaction commits.
"""

import datetime as dt
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Update, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import events
from db.errors import DomainError, ErrorCode
from db.events import Event, EventKind
from db.identity import Viewer
from db.models import Coordination
from db.queries import visible_to
from db.status import Status


async def load_for_change(
    session: AsyncSession,
    viewer: Viewer,
    which: ColumnElement[bool],
    expected_version: int | None,
    field: str = "id",
) -> Coordination:
    """The request ``which`` names, if the viewer may see it and it is at ``expected_version``."""
    row = await session.scalar(select(Coordination).where(which, visible_to(viewer)))
    if row is None:
        raise DomainError.of(ErrorCode.NOT_FOUND, (field,))
    check_version(row, expected_version)
    return row


def check_version(row: Coordination, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != row.version:
        raise DomainError.of(ErrorCode.VERSION_CONFLICT, ("expectedVersion",))


async def guarded_update(
    session: AsyncSession,
    row: Coordination,
    values: dict[str, object],
    *,
    version: int | None,
    announcing: Event | None = None,
) -> int:
    """Write ``values`` if the request still has the status we read and, unless ``version`` is
    None (changes that commute, such as files in different slots), that version; returns the
    version the change produced.

    ``announcing``: the change's event, whose version the guard fixes (``version`` + 1). On
    PostgreSQL its ``NOTIFY`` rides in the statement itself (``RETURNING`` runs only for the row
    changed): a round trip less than announcing it after."""
    riding = announcing is not None and events.rides_along(session)
    if announcing is not None:
        assert version is not None, "an announced change's version is fixed by its guard"
        assert announcing.version == version + 1, "the event carries the version it produces"
    statement = _guarded(tuple(values), version is not None, riding)
    parameters = {f"new_{name}": value for name, value in values.items()}
    parameters.update(guard_id=row.id, guard_status=row.status)
    if version is not None:
        parameters["guard_version"] = version
    if riding:
        assert announcing is not None
        parameters[events.NOTIFICATION] = announcing.encode()
    produced = await session.scalar(statement, parameters)
    if produced is None:
        raise DomainError.of(ErrorCode.VERSION_CONFLICT, ("expectedVersion",))
    if announcing is not None and not riding:
        await events.announce(session, announcing)
    return int(produced)


@lru_cache(maxsize=256)
def _guarded(columns: tuple[str, ...], versioned: bool, riding: bool) -> Update:
    """``guarded_update``'s statement, built once per shape (building and keying it for
    SQLAlchemy's statement cache cost more than running it); the values are parameters:
    ``new_<column>``, ``guard_id``, ``guard_status``, ``guard_version`` and, when riding, the
    event's notification."""
    table = Coordination.__table__.c
    guards = [
        Coordination.id == bindparam("guard_id"),
        Coordination.status == bindparam("guard_status", type_=table.status.type),
    ]
    if versioned:
        guards.append(Coordination.version == bindparam("guard_version"))
    returned: list[Any] = [Coordination.version]
    if riding:
        returned.append(events.NOTIFY)
    return (
        update(Coordination)
        .where(*guards)
        .values(
            {
                **{name: bindparam(f"new_{name}", type_=table[name].type) for name in columns},
                "version": Coordination.version + 1,
            }
        )
        .returning(*returned)
        .execution_options(synchronize_session=False)
    )


async def announce(
    session: AsyncSession,
    kind: EventKind,
    row: Coordination,
    *,
    status: Status,
    version: int,
    at: dt.datetime,
) -> None:
    """The change's event (``db.events``), sent if and when this transaction commits."""
    event = Event(kind, row.id, row.coordination_no, status, version, at)
    await events.announce(session, event)
