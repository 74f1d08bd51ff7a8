"""Reads, always scoped to what the viewer may see (the only place tenant scoping is written)."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, raiseload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from db.identity import Viewer
from db.models import Attachment, Coordination, Enterprise
from db.status import Role

VIEWER_ENTERPRISE = "viewer_enterprise_id"


def _scope(viewer: Viewer, enterprise: BindParameter[int]) -> ColumnElement[bool]:
    listed = Coordination.deleted_at.is_(None)
    return listed if viewer.is_customs else listed & (Coordination.enterprise_id == enterprise)


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """Customs see every request; an enterprise user only their enterprise's. Deleted: nobody."""
    enterprise = bindparam(
        VIEWER_ENTERPRISE, viewer.enterprise_id, type_=Coordination.enterprise_id.type, unique=True
    )
    return _scope(viewer, enterprise)


def may_see(viewer: Viewer, row: Coordination, *, deleted_too: bool = False) -> bool:
    """``visible_to`` for one loaded request (the subscriptions' check at delivery); with
    ``deleted_too``, whether the viewer could see it before it was deleted."""
    if row.deleted_at is not None and not deleted_too:
        return False
    return viewer.is_customs or row.enterprise_id == viewer.enterprise_id


def visibility(viewer: Viewer) -> tuple[ColumnElement[bool], dict[str, object]]:
    """``visible_to`` as a template that depends only on the viewer's role, and the values that
    fill it, for statements built once and cached (the list's). The enterprise is a required
    parameter: a cached statement run without this viewer's values fails, it never falls back on
    another viewer's."""
    template = _scope(viewer, bindparam(VIEWER_ENTERPRISE, type_=Coordination.enterprise_id.type))
    return template, visibility_values(viewer)


def visibility_values(viewer: Viewer) -> dict[str, object]:
    """The values of ``visibility``'s template for this viewer (without building the template)."""
    return {} if viewer.is_customs else {VIEWER_ENTERPRISE: viewer.enterprise_id}


@dataclass(frozen=True)
class Details:
    """Which related rows to read with a request (what the query selects): each costs a
    statement, and a round trip, more."""

    attachments: bool = True
    history: bool = True


EVERY_DETAIL = Details()


def with_details(
    statement: Select[Coordination], details: Details = Details()
) -> Select[Coordination]:
    """Load what a coordination node shows in a constant number of statements (fresh from the
    database even when the session holds an older copy, e.g. after a guarded UPDATE); the
    relations not asked for are left empty."""
    related = [
        selectinload(relation)
        for relation, wanted in (
            (Coordination.attachments, details.attachments),
            (Coordination.history, details.history),
        )
        if wanted
    ]
    return statement.options(
        joinedload(Coordination.enterprise), *related, raiseload("*")
    ).execution_options(populate_existing=True)


def _leave_empty(row: Coordination, details: Details) -> Coordination:
    """The relations ``with_details`` did not load, as empty lists (what the query sees)."""
    if not details.attachments:
        set_committed_value(row, "attachments", [])
    if not details.history:
        set_committed_value(row, "history", [])
    return row


async def get_coordination(
    session: AsyncSession,
    viewer: Viewer,
    *,
    coordination_id: int | None = None,
    coordination_no: str | None = None,
    details: Details = Details(),
) -> Coordination | None:
    """One request with its details, or None when it is missing or not the viewer's to see."""
    values = visibility_values(viewer)
    if coordination_id is not None:
        values["coordination_id"] = coordination_id
    if coordination_no is not None:
        values["coordination_no"] = coordination_no.strip().upper()
    statement = _one(viewer.role, coordination_id is not None, coordination_no is not None, details)
    row = await session.scalar(statement, values)
    return None if row is None else _leave_empty(row, details)


@lru_cache(maxsize=64)
def _one(role: Role, by_id: bool, by_no: bool, details: Details) -> Select[Coordination]:
    """``get_coordination``'s statement, built once per shape (building and keying it for
    SQLAlchemy's statement cache cost more than running it: a tenth of a save's CPU)."""
    scope, _values = visibility(Viewer(user_id=0, username="", role=role))
    statement = select(Coordination).where(scope)
    if by_id:
        statement = statement.where(Coordination.id == bindparam("coordination_id"))
    if by_no:
        statement = statement.where(Coordination.coordination_no == bindparam("coordination_no"))
    return with_details(statement, details)


async def get_for_delivery(session: AsyncSession, coordination_id: int) -> Coordination | None:
    """A request with every detail, deleted or not, whoever may see it: loaded once for all the
    subscribers of a worker, each of whom ``may_see`` then decides for. Detached from the
    session, so that it can be read after the session has ended."""
    row = await session.scalar(
        with_details(select(Coordination).where(Coordination.id == coordination_id), EVERY_DETAIL)
    )
    session.expunge_all()
    return row


async def citing(
    session: AsyncSession,
    viewer: Viewer,
    certificate_nos: Sequence[str],
    details: Details = Details(),
) -> dict[str, list[Coordination]]:
    """The requests the viewer may see that cite each certificate, newest first: one statement
    for all of them (and one per detail), however many certificates a page shows."""
    cited: dict[str, list[Coordination]] = {no: [] for no in certificate_nos}
    if not cited:
        return cited
    statement = (
        select(Coordination)
        .where(visible_to(viewer), Coordination.certificate_no.in_(list(cited)))
        .order_by(Coordination.created_at.desc(), Coordination.id.desc())
    )
    for row in (await session.scalars(with_details(statement, details))).all():
        cited[row.certificate_no].append(_leave_empty(row, details))
    return cited


async def get_attachment(
    session: AsyncSession, viewer: Viewer, attachment_id: int
) -> Attachment | None:
    """An attachment of a request the viewer may see."""
    return await session.scalar(
        select(Attachment)
        .join(Coordination, Attachment.coordination_id == Coordination.id)
        .where(Attachment.id == attachment_id, visible_to(viewer))
    )


async def get_enterprise(session: AsyncSession, enterprise_id: int) -> Enterprise | None:
    return await session.get(Enterprise, enterprise_id)
