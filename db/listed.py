"""What the list reads of a request (``Listed``: a ``CoordinationRecord``, like an ORM row), and
how: the page's rows, then its attachments and history when the query selects them, each in one
statement whatever the page size. On PostgreSQL the statements run straight on asyncpg
(``db.driver``); the page's own statement comes from ``db.listing``.

``Listed`` is also the immutable record every GraphQL view of a request reads (``schema.types``):
a request read another way (an ORM row) is copied into one (``snapshot``).
"""

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Select, any_, bindparam, func, select, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

from db import driver
from db.models import (
    Attachment,
    AttachmentSlot,
    Coordination,
    CoordinationType,
    Enterprise,
    StatusChange,
)
from db.queries import Details
from db.records import AttachmentRecord, CoordinationRecord, StatusChangeRecord
from db.status import Role, Status

# Named tuples: a page builds some sixty of these, and a tuple is made in one call where a frozen
# dataclass sets each field through ``object.__setattr__``.


class ListedEnterprise(NamedTuple):
    uscc: str
    name: str


class ListedAttachment(NamedTuple):
    id: int
    slot: AttachmentSlot
    file_name: str
    content_type: str
    size: int
    sha256: str
    created_at: dt.datetime

    @classmethod
    def of(cls, row: AttachmentRecord) -> "ListedAttachment":
        return cls(
            row.id, row.slot, row.file_name, row.content_type, row.size, row.sha256, row.created_at
        )


class ListedChange(NamedTuple):
    from_status: Status | None
    to_status: Status
    at: dt.datetime
    actor_username: str
    actor_role: Role
    remark: str | None

    @classmethod
    def of(cls, row: StatusChangeRecord) -> "ListedChange":
        return cls(
            row.from_status, row.to_status, row.at, row.actor_username, row.actor_role, row.remark
        )


class Listed(NamedTuple):
    """A request as the list reads it (a ``CoordinationRecord``, like an ORM row)."""

    id: int
    coordination_no: str
    type: CoordinationType
    status: Status
    certificate_no: str
    agreement_code: str
    export_declaration_no: str
    import_declaration_no: str
    import_country_code: str | None
    import_port_code: str | None
    approved_exporter_no: str | None
    ruling_no: str | None
    contact_name: str
    contact_phone: str
    reason: str
    customs_remark: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    enterprise: ListedEnterprise
    attachments: list[ListedAttachment]
    history: list[ListedChange]


def snapshot(row: CoordinationRecord) -> Listed:
    """An immutable copy of a request read another way (an ORM row with its details)."""
    return Listed._make(
        (
            *(getattr(row, name) for name in Listed._fields[:-3]),
            ListedEnterprise(row.enterprise.uscc, row.enterprise.name),
            [ListedAttachment.of(file) for file in row.attachments],
            [ListedChange.of(change) for change in row.history],
        )
    )


@dataclass(frozen=True, slots=True)
class Rows:
    """The page's rows (``ROW_COLUMNS``), each with its attachments in one more column when
    ``attached`` (on the driver: the page and its files in one statement)."""

    found: Sequence[Sequence[Any]]
    attached: bool

    def first(self, limit: int) -> "Rows":
        return Rows(self.found[:limit], self.attached)


async def rows(
    session: AsyncSession, statement: Select[Any], values: Mapping[str, Any], details: Details
) -> Rows:
    """The page's rows, on the driver where there is one, with their attachments if wanted (in
    the page's own statement on PostgreSQL)."""
    if details.attachments and session.get_bind().dialect.name == "postgresql":
        found = await driver.run(session, _attached(statement), values)
        if found is not None:
            return Rows(found, attached=True)
    found = await driver.run(session, statement, values)
    if found is None:
        connection = await session.connection()
        found = list((await connection.execute(statement, dict(values))).all())
    return Rows(found, attached=False)


async def with_details(session: AsyncSession, found: Rows, details: Details) -> list[Listed]:
    """The rows as records, with their attachments and history if ``details`` asks for them."""
    ids = [row[0] for row in found.found]
    attachments: dict[int, list[ListedAttachment]] = {pk: [] for pk in ids}
    history: dict[int, list[ListedChange]] = {pk: [] for pk in ids}
    if found.attached:
        attachment = _attachment_of(session.get_bind().dialect)
        for row in found.found:
            attachments[row[0]] = [attachment(file) for file in row[-1] or ()]
    elif ids and details.attachments:
        for file in await _related(session, ATTACHMENTS, ids):
            attachments[file[0]].append(ListedAttachment._make(file[1:]))
    if ids and details.history:
        for change in await _related(session, HISTORY, ids):
            history[change[0]].append(ListedChange._make(change[1:]))
    return [_listed(row, attachments[row[0]], history[row[0]]) for row in found.found]


@lru_cache(maxsize=256)
def _attached(page: Select[Any]) -> Select[Any]:
    """``page`` with each row's attachments, in id order, as an array of records (PostgreSQL
    builds them from the attachments' index; asyncpg reads them as tuples): one statement, one
    round trip, where two were (once per page statement: the driver compiles it once)."""
    files = (
        select(func.array_agg(aggregate_order_by(func.row(*ATTACHMENT_COLUMNS), Attachment.id)))
        .where(Attachment.coordination_id == Coordination.id)
        .scalar_subquery()
    )
    # (Typeless: the records are converted here, and an ARRAY's processor would copy each list.)
    return page.add_columns(type_coerce(files, NullType()).label("attachments"))


@lru_cache(maxsize=8)
def _attachment_of(dialect: Dialect) -> Callable[[Sequence[Any]], ListedAttachment]:
    """An attachment's record from the page's array (``ATTACHMENT_COLUMNS``' values) as the
    separate statement's rows give it: the slot and the time through their columns' own
    converters (both columns are NOT NULL)."""
    slot = driver.result_converter(Attachment.slot.type, dialect) or _same
    when = driver.result_converter(Attachment.created_at.type, dialect) or _same
    new = tuple.__new__

    def attachment(file: Sequence[Any]) -> ListedAttachment:
        id, stored_slot, file_name, content_type, size, sha256, created_at = file
        values = (id, slot(stored_slot), file_name, content_type, size, sha256, when(created_at))
        return new(ListedAttachment, values)

    return attachment


def _same(value: Any) -> Any:
    return value


async def _related(session: AsyncSession, related: "_Related", ids: list[int]) -> Sequence[Any]:
    # On the driver one array parameter (``= ANY($1)``), not an IN list expanded to the page's
    # size: one statement for every page, prepared once per connection.
    found = await driver.run(session, related.on_driver, {"ids": ids})
    if found is not None:
        return found
    connection = await session.connection()
    return list((await connection.execute(related.portable, {"ids": ids})).all())


def _listed(
    row: Sequence[Any], attachments: list[ListedAttachment], history: list[ListedChange]
) -> Listed:
    # ROW_COLUMNS are Listed's fields in order, then the enterprise's two (then, it may be, the
    # attachments' array).
    enterprise = ListedEnterprise(row[_USCC], row[_NAME])
    return _new(Listed, (*row[:_USCC], enterprise, attachments, history))


@dataclass(frozen=True)
class _Related:
    """One kind of related row, read for a page's ids: with an array parameter on the driver, as
    an expanded IN list elsewhere."""

    on_driver: Select[Any]
    portable: Select[Any]


def _related_statements(columns: Sequence[Any], request: Any, order: Any) -> _Related:
    statement = select(*columns).order_by(order)
    return _Related(
        on_driver=statement.where(request == any_(bindparam("ids", type_=ARRAY(BigInteger)))),
        portable=statement.where(request.in_(bindparam("ids", expanding=True))),
    )


ATTACHMENT_COLUMNS = (
    Attachment.id,
    Attachment.slot,
    Attachment.file_name,
    Attachment.content_type,
    Attachment.size,
    Attachment.sha256,
    Attachment.created_at,
)
"""``ListedAttachment``'s fields, in order."""
ATTACHMENTS = _related_statements(
    (Attachment.coordination_id, *ATTACHMENT_COLUMNS), Attachment.coordination_id, Attachment.id
)
HISTORY = _related_statements(
    (
        StatusChange.coordination_id,
        StatusChange.from_status,
        StatusChange.to_status,
        StatusChange.at,
        StatusChange.actor_username,
        StatusChange.actor_role,
        StatusChange.remark,
    ),
    StatusChange.coordination_id,
    StatusChange.id,
)
ROW_COLUMNS = (
    Coordination.id,
    Coordination.coordination_no,
    Coordination.type,
    Coordination.status,
    Coordination.certificate_no,
    Coordination.agreement_code,
    Coordination.export_declaration_no,
    Coordination.import_declaration_no,
    Coordination.import_country_code,
    Coordination.import_port_code,
    Coordination.approved_exporter_no,
    Coordination.ruling_no,
    Coordination.contact_name,
    Coordination.contact_phone,
    Coordination.reason,
    Coordination.customs_remark,
    Coordination.version,
    Coordination.created_at,
    Coordination.updated_at,
    Coordination.submitted_at,
    Enterprise.uscc,
    Enterprise.name.label("enterprise_name"),
)
_USCC, _NAME = len(ROW_COLUMNS) - 2, len(ROW_COLUMNS) - 1
_new = tuple.__new__
