"""Services that change coordination requests. Each runs inside the caller's transaction, checks
everything first, and raises ``DomainError`` (rolling back) rather than changing part of a request.
"""

import datetime as dt
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db import certificates, events, status, validation
from db.attachments import require_attachments
from db.changes import announce, guarded_update, load_for_change
from db.errors import DomainError, ErrorCode, Problem
from db.events import Event, EventKind
from db.form import SAME_TYPE, CoordinationForm, check_form
from db.identity import Viewer
from db.models import CERTIFICATE_KIND_FOR_TYPE, Coordination, CoordinationType, StatusChange
from db.numbering import next_coordination_no
from db.status import Action


async def _load_by_id(
    session: AsyncSession,
    viewer: Viewer,
    action: Action,
    coordination_id: int,
    expected_version: int | None,
) -> Coordination:
    """The request an enterprise action names, once the viewer's role may take the action."""
    status.authorize(action, viewer.role)
    return await load_for_change(
        session, viewer, Coordination.id == coordination_id, expected_version
    )


async def _transition(
    session: AsyncSession,
    viewer: Viewer,
    row: Coordination,
    action: Action,
    now: dt.datetime,
    *,
    kind: EventKind,
    remark: str | None = None,
    values: dict[str, object] | None = None,
) -> None:
    """Move ``row`` along the status table, record the change in its history and announce it."""
    target = status.apply(action, row.status)
    await guarded_update(
        session,
        row,
        {"status": target, "updated_at": now, **(values or {})},
        version=row.version,
        announcing=Event(kind, row.id, row.coordination_no, target, row.version + 1, now),
    )
    session.add(
        StatusChange(
            coordination_id=row.id,
            from_status=row.status,
            to_status=target,
            at=now,
            actor_username=viewer.username,
            actor_role=viewer.role,
            remark=remark,
        )
    )


@dataclass(frozen=True)
class CheckedSave:
    """A save that passed every check: what to store, and the request it replaces (None: new)."""

    values: dict[str, str | None]
    type: CoordinationType
    enterprise_id: int
    row: Coordination | None


async def check_save(
    *,
    session: AsyncSession,
    viewer: Viewer,
    form: CoordinationForm,
    coordination_id: int | None,
    expected_version: int | None,
) -> CheckedSave:
    """Every check of 暂存, in its order, writing nothing: ``save`` runs it before it writes, and
    ``validateCoordination`` runs it alone, so the two refuse alike (codes, fields, order)."""
    status.authorize(Action.EDIT, viewer.role)
    if coordination_id is None:
        if viewer.enterprise_id is None:
            raise DomainError.of(ErrorCode.FORBIDDEN)
        values, problems = await check_form(session, viewer, form.type, form)
        if form.type is None:
            raise DomainError([Problem(ErrorCode.REQUIRED, ("type",)), *problems])
        if problems:
            raise DomainError(problems)
        return CheckedSave(values, form.type, viewer.enterprise_id, None)
    row = await load_for_change(
        session, viewer, Coordination.id == coordination_id, expected_version
    )
    status.apply(Action.EDIT, row.status)
    values, problems = await check_form(session, viewer, row.type, form)
    if form.type is not None and form.type is not row.type:
        problems.insert(0, Problem(ErrorCode.INVALID_FORMAT, ("type",), {"format": SAME_TYPE}))
    if problems:
        raise DomainError(problems)
    return CheckedSave(values, row.type, row.enterprise_id, row)


async def save(
    *,
    session: AsyncSession,
    viewer: Viewer,
    form: CoordinationForm,
    coordination_id: int | None,
    expected_version: int | None,
    now: dt.datetime,
) -> int:
    """暂存: create a request (no id) or replace the form of an editable one; returns its id."""
    checked = await check_save(
        session=session,
        viewer=viewer,
        form=form,
        coordination_id=coordination_id,
        expected_version=expected_version,
    )
    if checked.row is not None:
        row = checked.row
        version = await guarded_update(
            session, row, {**checked.values, "updated_at": now}, version=row.version
        )
        await announce(session, EventKind.SAVED, row, status=row.status, version=version, at=now)
        return row.id
    # Core inserts, not the ORM's unit of work (its flush was a sixth of a save's CPU): the
    # request is read back whole for the payload anyway.
    coordination_no = await next_coordination_no(session, now)
    values = {
        **checked.values,
        "type": checked.type,
        "status": status.INITIAL_STATUS,
        "coordination_no": coordination_no,
        "enterprise_id": checked.enterprise_id,
        "version": 1,
        "created_by_id": viewer.user_id,
        "created_at": now,
        "updated_at": now,
    }
    created: int = (await session.execute(_CREATE, values)).scalar_one()
    first_change = {
        "coordination_id": created,
        "from_status": None,
        "to_status": status.INITIAL_STATUS,
        "at": now,
        "actor_username": viewer.username,
        "actor_role": viewer.role,
        "remark": None,
    }
    await session.execute(_HISTORY, first_change)
    event = Event(EventKind.CREATED, created, coordination_no, status.INITIAL_STATUS, 1, now)
    await events.announce(session, event)
    return created


_COORDINATIONS = cast(Table, Coordination.__table__)
_CREATE = insert(_COORDINATIONS).returning(_COORDINATIONS.c.id)
_HISTORY = insert(cast(Table, StatusChange.__table__))


def _stored_form(row: Coordination) -> CoordinationForm:
    return CoordinationForm(
        type=row.type,
        certificate_no=row.certificate_no,
        agreement_code=row.agreement_code,
        export_declaration_no=row.export_declaration_no,
        import_declaration_no=row.import_declaration_no,
        import_country_code=row.import_country_code,
        import_port_code=row.import_port_code,
        approved_exporter_no=row.approved_exporter_no,
        ruling_no=row.ruling_no,
        contact_name=row.contact_name,
        contact_phone=row.contact_phone,
        reason=row.reason,
    )


async def submit(
    *,
    session: AsyncSession,
    viewer: Viewer,
    coordination_id: int,
    expected_version: int | None,
    now: dt.datetime,
) -> int:
    """申报: the checks of SPEC §6 in their order, then ``PENDING`` with ``submittedAt`` set.

    Field problems name the saved form's fields (as in ``SaveCoordinationInput``).
    """
    row = await _load_by_id(session, viewer, Action.SUBMIT, coordination_id, expected_version)
    status.apply(Action.SUBMIT, row.status)
    _, problems = await check_form(session, viewer, row.type, _stored_form(row))
    if problems:
        raise DomainError(problems)
    await require_attachments(session=session, coordination_id=row.id)
    certificate = await certificates.find_owned(session, row.certificate_no, viewer.enterprise_uscc)
    if certificate is None:
        raise DomainError.of(ErrorCode.CERTIFICATE_ENTERPRISE_MISMATCH, ("certificate_no",))
    if certificate.kind is not CERTIFICATE_KIND_FOR_TYPE[row.type]:
        raise DomainError.of(ErrorCode.CERTIFICATE_TYPE_MISMATCH, ("certificate_no",))
    if row.export_declaration_no not in certificate.linked_declarations:
        raise DomainError.of(ErrorCode.CERTIFICATE_NOT_LINKED, ("export_declaration_no",))
    try:
        await _transition(
            session,
            viewer,
            row,
            Action.SUBMIT,
            now,
            kind=EventKind.SUBMITTED,
            values={"submitted_at": now},
        )
    except IntegrityError:
        # The last check, made by the partial unique index on (certificate, declaration) of
        # PENDING and ACCEPTED requests as the request becomes PENDING: another active request
        # exists, or won a race to PENDING. No query asks first (a round trip the index saves).
        raise DomainError.of(ErrorCode.DUPLICATE_ACTIVE_REQUEST) from None
    return row.id


async def withdraw(
    *,
    session: AsyncSession,
    viewer: Viewer,
    coordination_id: int,
    expected_version: int | None,
    now: dt.datetime,
) -> int:
    """撤回: take a pending request back (``WITHDRAWN``)."""
    row = await _load_by_id(session, viewer, Action.WITHDRAW, coordination_id, expected_version)
    await _transition(session, viewer, row, Action.WITHDRAW, now, kind=EventKind.WITHDRAWN)
    return row.id


async def delete(
    *,
    session: AsyncSession,
    viewer: Viewer,
    coordination_id: int,
    expected_version: int | None,
    now: dt.datetime,
) -> int:
    """删除: hide the request from every caller; the row, history and files stay for audit."""
    row = await _load_by_id(session, viewer, Action.DELETE, coordination_id, expected_version)
    status.apply(Action.DELETE, row.status)
    version = await guarded_update(
        session,
        row,
        {"deleted_at": now, "deleted_by_id": viewer.user_id, "updated_at": now},
        version=row.version,
    )
    await announce(session, EventKind.DELETED, row, status=row.status, version=version, at=now)
    return row.id


async def record_customs_receipt(
    *,
    session: AsyncSession,
    viewer: Viewer,
    coordination_no: str,
    outcome: status.ReceiptOutcome,
    remark: str | None,
    expected_version: int | None,
    now: dt.datetime,
) -> int:
    """Customs records a receipt or decision; a reason is required to return or conclude."""
    action = status.OUTCOME_ACTIONS[outcome]
    status.authorize(action, viewer.role)
    row = await load_for_change(
        session,
        viewer,
        Coordination.coordination_no == coordination_no.strip().upper(),
        expected_version,
        field="coordinationNo",
    )
    status.apply(action, row.status)
    if action in status.REMARK_REQUIRED or not validation.is_blank(remark):
        remark = validation.text(
            remark, ("remark",), max_length=validation.REMARK_MAX, multiline=True
        )
    else:
        remark = None
    await _transition(
        session,
        viewer,
        row,
        action,
        now,
        kind=EventKind.CUSTOMS_DECISION,
        remark=remark,
        values={"customs_remark": remark} if remark else None,
    )
    return row.id
