"""The coordination list (SPEC §6): filters, orders and keyset pages of the requests a viewer sees.

A page is the rows strictly after (or before) a ``Position`` in a total order that ends with the
unique id, so page 10,000 costs what page 1 costs. Each order is ``(rank, value, id)``:

    SUBMITTED_AT    rank 0: submitted requests by ``submitted_at``;
                    rank 1: never-submitted drafts after them, by ``created_at``
    CREATED_AT      rank 0, ``created_at``
    COORDINATION_NO rank 0, ``coordination_no``

``value`` and ``id`` follow the direction asked for; ``rank`` is always ascending, so drafts come
after submitted requests both ways (they have no submission date to sort by). A request is a
DRAFT exactly when it was never submitted (SPEC §3: every other status is reached by a submit, and
``submitted_at`` stays), so the rank is the status.

The query has one arm per status: a range of an index ``(scope, status, value, id)`` (see the
models) read in order and cut at ``limit + 1`` rows. The page is the first ``limit + 1`` of the
arms' union (at most 7 × 21 small rows to sort for a default page), joined to the rows themselves.
So a page reads about ``limit`` index entries per status whatever its depth, and a status filter
only removes arms. (PostgreSQL 15 does not turn a UNION ALL under ORDER BY … LIMIT into a Merge
Append of ordered index scans; it reads every arm whole and sorts. Hence the limit in each arm.)
"""

import datetime as dt
import enum
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Subquery,
    and_,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import UnaryExpression

from db.clock import CHINA_STANDARD_TIME
from db.identity import Viewer
from db.models import Coordination, CoordinationType, Enterprise
from db.queries import visible_to, with_details
from db.status import Status


class OrderField(enum.Enum):
    SUBMITTED_AT = "SUBMITTED_AT"
    """Newest submission first (descending); never-submitted drafts after, by creation time."""
    CREATED_AT = "CREATED_AT"
    COORDINATION_NO = "COORDINATION_NO"


class Direction(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True)
class Order:
    field: OrderField = OrderField.SUBMITTED_AT
    direction: Direction = Direction.DESC


@dataclass(frozen=True)
class Filter:
    """What to list; every condition given must hold. Prefixes are case-insensitive, dates are
    China Standard Time days, both ends inclusive; empty status/type sets mean all."""

    coordination_no: str | None = None
    certificate_no: str | None = None
    export_declaration_no: str | None = None
    statuses: frozenset[Status] = field(default_factory=frozenset)
    types: frozenset[CoordinationType] = field(default_factory=frozenset)
    agreement_code: str | None = None
    submitted_from: dt.date | None = None
    submitted_to: dt.date | None = None
    enterprise_uscc: str | None = None


@dataclass(frozen=True)
class Position:
    """Where a row stands in an order: the cursor of a page edge, without its encoding."""

    rank: int
    value: dt.datetime | str
    id: int


@dataclass(frozen=True)
class Page:
    rows: list[Coordination]
    """In the order asked for, whichever way the page was read."""
    has_more: bool
    """More rows lie beyond the page in the direction it was read."""


DRAFT_RANK = 1
Column = ColumnElement[Any] | InstrumentedAttribute[Any]


def position(row: Coordination, order: Order) -> Position:
    """The position of a loaded row in ``order`` (what its cursor encodes)."""
    if order.field is OrderField.COORDINATION_NO:
        return Position(0, row.coordination_no, row.id)
    if order.field is OrderField.SUBMITTED_AT and row.submitted_at is not None:
        return Position(0, row.submitted_at, row.id)
    rank = DRAFT_RANK if order.field is OrderField.SUBMITTED_AT else 0
    return Position(rank, row.created_at, row.id)


async def page(
    session: AsyncSession,
    viewer: Viewer,
    *,
    filter: Filter,
    order: Order,
    limit: int,
    after: Position | None = None,
    before: Position | None = None,
    backward: bool = False,
) -> Page:
    """Up to ``limit`` rows strictly between ``after`` and ``before``: the first ones, or the last
    ones when ``backward``; loaded with their details in a constant number of statements."""
    scan = _Scan(order, backward)
    keys = _keyset(viewer, filter, scan, limit + 1, after=after, before=before)
    if keys is None:
        return Page([], has_more=False)
    statement = (
        select(Coordination)
        .join(keys, Coordination.id == keys.c.id)
        .order_by(*scan.sort(keys.c.rank, keys.c.value, keys.c.id))
    )
    rows = list((await session.scalars(with_details(statement))).unique())
    has_more = len(rows) > limit
    rows = rows[:limit]
    if backward:
        rows.reverse()
    return Page(rows, has_more)


async def exists_beyond(
    session: AsyncSession,
    viewer: Viewer,
    *,
    filter: Filter,
    order: Order,
    position: Position,
    backward: bool,
) -> bool:
    """Whether any row lies after ``position`` (before it, when ``backward``)."""
    scan = _Scan(order, backward)
    bounds = {"before": position} if backward else {"after": position}
    keys = _keyset(viewer, filter, scan, 1, **bounds)
    return keys is not None and await session.scalar(select(keys.c.id)) is not None


async def count(session: AsyncSession, viewer: Viewer, *, filter: Filter) -> int:
    """How many rows the filter selects, whatever the page."""
    statement = select(func.count()).select_from(Coordination).where(*_conditions(viewer, filter))
    if statuses := _statuses(filter):
        statement = statement.where(Coordination.status.in_(sorted(s.value for s in statuses)))
    return int(await session.scalar(statement) or 0)


@dataclass(frozen=True)
class _Scan:
    """The order rows are read in: the order asked for, or its reverse for a backward page."""

    order: Order
    backward: bool

    @property
    def value_descending(self) -> bool:
        return (self.order.direction is Direction.DESC) != self.backward

    def sort(self, rank: Column, value: Column, id: Column) -> list[UnaryExpression[Any]]:
        """ORDER BY for (rank, value, id): ranks ascending (descending when backward)."""
        return [rank.desc() if self.backward else rank.asc(), *self.within_rank(value, id)]

    def within_rank(self, value: Column, id: Column) -> list[UnaryExpression[Any]]:
        if self.value_descending:
            return [value.desc(), id.desc()]
        return [value.asc(), id.asc()]

    def reverse(self) -> "_Scan":
        return _Scan(self.order, not self.backward)


@dataclass(frozen=True)
class _Arm:
    """One status: rows of one rank, read from one index range by ``value`` then id."""

    status: Status
    rank: int
    value: (
        InstrumentedAttribute[dt.datetime]
        | InstrumentedAttribute[dt.datetime | None]
        | InstrumentedAttribute[str]
    )


def _arms(order: Order, statuses: Sequence[Status]) -> list[_Arm]:
    arms = []
    for status in statuses:
        if order.field is OrderField.COORDINATION_NO:
            arms.append(_Arm(status, 0, Coordination.coordination_no))
        elif order.field is OrderField.CREATED_AT:
            arms.append(_Arm(status, 0, Coordination.created_at))
        elif status is Status.DRAFT:
            arms.append(_Arm(status, DRAFT_RANK, Coordination.created_at))
        else:
            arms.append(_Arm(status, 0, Coordination.submitted_at))
    return arms


def _beyond(arm: _Arm, position: Position, scan: _Scan) -> ColumnElement[bool] | bool:
    """The arm's rows that come after ``position`` in the scan: all (True), none (False), or a
    range condition on the arm's index."""
    if arm.rank != position.rank:
        return (arm.rank > position.rank) != scan.backward
    keys = tuple_(arm.value, Coordination.id)
    bound = tuple_(
        literal(position.value, arm.value.type), literal(position.id, Coordination.id.type)
    )
    return keys < bound if scan.value_descending else keys > bound


def _keyset(
    viewer: Viewer,
    filter: Filter,
    scan: _Scan,
    limit: int,
    *,
    after: Position | None = None,
    before: Position | None = None,
) -> Subquery | None:
    """``(id, rank, value)`` of the first ``limit`` rows of the scan within the bounds; None when
    no arm can hold a row."""
    start, end = (before, after) if scan.backward else (after, before)
    common = _conditions(viewer, filter)
    arms = []
    for arm in _arms(scan.order, sorted(_statuses(filter), key=list(Status).index)):
        bounds = [
            (_beyond(arm, start, scan) if start else True),
            (_beyond(arm, end, scan.reverse()) if end else True),
        ]
        if any(bound is False for bound in bounds):
            continue
        rows = (
            select(
                Coordination.id.label("id"),
                literal_column(str(arm.rank), Integer).label("rank"),
                arm.value.label("value"),
            )
            .where(*common, Coordination.status == arm.status)
            .where(*(bound for bound in bounds if not isinstance(bound, bool)))
            .order_by(*scan.within_rank(arm.value, Coordination.id))
            .limit(limit)
            .subquery(f"arm_{arm.status.value.lower()}")
        )
        arms.append(select(rows))
    if not arms:
        return None
    # Each arm is one index range read in order and cut at ``limit``; the page is the first
    # ``limit`` of their union (at most 7 × limit small rows to sort).
    keys = (arms[0] if len(arms) == 1 else union_all(*arms)).subquery("arms")
    return (
        select(keys)
        .order_by(*scan.sort(keys.c.rank, keys.c.value, keys.c.id))
        .limit(limit)
        .subquery("keys")
    )


def _statuses(filter: Filter) -> frozenset[Status]:
    statuses = filter.statuses or frozenset(Status)
    if filter.submitted_from or filter.submitted_to:
        statuses -= {Status.DRAFT}  # never submitted: outside any submission date range
    return statuses


def _conditions(viewer: Viewer, filter: Filter) -> list[ColumnElement[bool]]:
    conditions = [visible_to(viewer)]
    for column, prefix in (
        (Coordination.coordination_no, filter.coordination_no),
        (Coordination.certificate_no, filter.certificate_no),
        (Coordination.export_declaration_no, filter.export_declaration_no),
    ):
        if prefix and (text := prefix.strip().upper()):
            conditions.append(_prefix(column, text))
    if filter.types:
        conditions.append(Coordination.type.in_(sorted(t.value for t in filter.types)))
    if filter.agreement_code:
        conditions.append(Coordination.agreement_code == filter.agreement_code.strip())
    if filter.submitted_from:
        conditions.append(Coordination.submitted_at >= _start_of_day(filter.submitted_from))
    if filter.submitted_to:
        next_day = filter.submitted_to + dt.timedelta(days=1)
        conditions.append(Coordination.submitted_at < _start_of_day(next_day))
    if filter.enterprise_uscc is not None:
        enterprise = select(Enterprise.id).where(
            Enterprise.uscc == filter.enterprise_uscc.strip().upper()
        )
        conditions.append(Coordination.enterprise_id == enterprise.scalar_subquery())
    return conditions


def _prefix(column: InstrumentedAttribute[str], prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, as an index range: codes are stored upper-case and
    compared in byte order, so [prefix, prefix with its last character incremented) is exact."""
    if ord(prefix[-1]) == sys.maxunicode:
        return column >= prefix
    return and_(column >= prefix, column < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def _start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), CHINA_STANDARD_TIME)
