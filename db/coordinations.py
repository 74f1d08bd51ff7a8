"""Services that change coordination requests. Each runs inside the caller's transaction, checks
everything first, and raises ``DomainError`` (rolling back) rather than changing part of a request.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db import certificates, reference, status, validation
from db.attachments import require_attachments
from db.changes import announce, guarded_update, load_for_change
from db.errors import DomainError, ErrorCode, FieldPath, Problem
from db.events import EventKind
from db.identity import Viewer
from db.models import CERTIFICATE_KIND_FOR_TYPE, Coordination, CoordinationType, StatusChange
from db.numbering import next_coordination_no
from db.status import Action


@dataclass(frozen=True)
class CoordinationForm:
    """The whole 暂存 form as the client sent it; every field may be missing."""

    type: CoordinationType | None = None
    certificate_no: str | None = None
    agreement_code: str | None = None
    export_declaration_no: str | None = None
    import_declaration_no: str | None = None
    import_country_code: str | None = None
    import_port_code: str | None = None
    approved_exporter_no: str | None = None
    ruling_no: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    reason: str | None = None


PLACE_FIELDS = ("import_country_code", "import_port_code")
TYPE_FIELDS: dict[CoordinationType, tuple[str, ...]] = {
    CoordinationType.CUSTOMS_CERTIFICATE: PLACE_FIELDS,
    CoordinationType.APPROVED_EXPORTER_DECLARATION: ("approved_exporter_no", *PLACE_FIELDS),
    CoordinationType.RULING_DECLARATION: ("ruling_no", *PLACE_FIELDS),
    CoordinationType.CCPIT_CERTIFICATE: (),
}
"""The fields only some types have; any other type must leave them out."""
TYPE_SPECIFIC_FIELDS = ("approved_exporter_no", "ruling_no", *PLACE_FIELDS)

Validator = Callable[[str | None, FieldPath], str]


class _Checker:
    """Runs validators field by field, keeping every problem so the client sees them all at once."""

    def __init__(self, form: CoordinationForm) -> None:
        self.form = form
        self.values: dict[str, str | None] = {}
        self.problems: list[Problem] = []

    def check(self, name: str, validator: Validator) -> str | None:
        try:
            self.values[name] = validator(getattr(self.form, name), (name,))
        except DomainError as error:
            self.problems.extend(error.problems)
            return None
        return self.values[name]

    def refuse(self, code: ErrorCode, name: str) -> None:
        self.problems.append(Problem(code, (name,)))


def _text(max_length: int, *, multiline: bool = False) -> Validator:
    return lambda value, field: validation.text(
        value, field, max_length=max_length, multiline=multiline
    )


async def _validated_values(
    session: AsyncSession, viewer: Viewer, kind: CoordinationType | None, form: CoordinationForm
) -> tuple[dict[str, str | None], list[Problem]]:
    checker = _Checker(form)
    certificate_no = checker.check("certificate_no", validation.certificate_no)
    checker.check("export_declaration_no", validation.export_declaration_no)
    checker.check("import_declaration_no", validation.import_declaration_no)
    checker.check("contact_name", _text(validation.CONTACT_NAME_MAX))
    checker.check("contact_phone", validation.phone)
    checker.check("reason", _text(validation.REASON_MAX, multiline=True))

    registered = (
        await certificates.find_owned(session, certificate_no, viewer.enterprise_uscc)
        if certificate_no
        else None
    )
    agreement = _check_agreement(checker, registered.agreement_code if registered else None)
    if kind is None:
        return checker.values, checker.problems

    wanted = TYPE_FIELDS[kind]
    for name in TYPE_SPECIFIC_FIELDS:
        if name not in wanted:
            checker.values[name] = None
            if not validation.is_blank(getattr(form, name)):  # blank counts as absent
                checker.refuse(ErrorCode.INVALID_FORMAT, name)
    for name in ("approved_exporter_no", "ruling_no"):
        if name in wanted:
            checker.check(name, validation.certificate_no)
    if "import_country_code" in wanted:
        _check_place(checker, agreement)
    return checker.values, checker.problems


def _check_agreement(checker: _Checker, registered_code: str | None) -> reference.Agreement | None:
    """From the registry when the certificate is known there; otherwise required and known."""
    if registered_code is not None and validation.is_blank(checker.form.agreement_code):
        checker.values["agreement_code"] = registered_code
        return reference.agreement(registered_code)
    code = checker.check("agreement_code", validation.required)
    if code is None:
        return None
    if registered_code is not None:
        if code != registered_code:
            checker.refuse(ErrorCode.AGREEMENT_MISMATCH, "agreement_code")
            return None
        return reference.agreement(registered_code)
    found = reference.agreement(code)
    if found is None:
        checker.refuse(ErrorCode.UNKNOWN_AGREEMENT, "agreement_code")
    return found


def _check_place(checker: _Checker, agreement: reference.Agreement | None) -> None:
    country_code = checker.check(
        "import_country_code", lambda v, f: validation.required(v, f).upper()
    )
    port_code = checker.check("import_port_code", lambda v, f: validation.required(v, f).upper())
    country = reference.country(country_code) if country_code else None
    if country_code and country is None:
        checker.refuse(ErrorCode.UNKNOWN_COUNTRY, "import_country_code")
    elif country and agreement and not agreement.has_partner(country.code):
        checker.refuse(ErrorCode.COUNTRY_NOT_IN_AGREEMENT, "import_country_code")
    if port_code:
        port = reference.port(port_code)
        if port is None or (country is not None and port.country_code != country.code):
            checker.refuse(ErrorCode.UNKNOWN_PORT, "import_port_code")


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
    version = await guarded_update(
        session,
        row,
        {"status": target, "updated_at": now, **(values or {})},
        version=row.version,
    )
    await announce(session, kind, row, status=target, version=version, at=now)
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
    status.authorize(Action.EDIT, viewer.role)
    if coordination_id is None:
        return await _create(session=session, viewer=viewer, form=form, now=now)
    row = await load_for_change(
        session, viewer, Coordination.id == coordination_id, expected_version
    )
    status.apply(Action.EDIT, row.status)
    values, problems = await _validated_values(session, viewer, row.type, form)
    if form.type is not None and form.type is not row.type:
        problems.insert(0, Problem(ErrorCode.INVALID_FORMAT, ("type",)))
    if problems:
        raise DomainError(problems)
    version = await guarded_update(session, row, {**values, "updated_at": now}, version=row.version)
    await announce(session, EventKind.SAVED, row, status=row.status, version=version, at=now)
    return row.id


async def _create(
    *, session: AsyncSession, viewer: Viewer, form: CoordinationForm, now: dt.datetime
) -> int:
    if viewer.enterprise_id is None:
        raise DomainError.of(ErrorCode.FORBIDDEN)
    values, problems = await _validated_values(session, viewer, form.type, form)
    if form.type is None:
        raise DomainError([Problem(ErrorCode.REQUIRED, ("type",)), *problems])
    if problems:
        raise DomainError(problems)
    row = Coordination(
        **values,
        type=form.type,
        status=status.INITIAL_STATUS,
        coordination_no=await next_coordination_no(session, now),
        enterprise_id=viewer.enterprise_id,
        version=1,
        created_by_id=viewer.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    session.add(
        StatusChange(
            coordination_id=row.id,
            from_status=None,
            to_status=status.INITIAL_STATUS,
            at=now,
            actor_username=viewer.username,
            actor_role=viewer.role,
        )
    )
    await announce(session, EventKind.CREATED, row, status=row.status, version=1, at=now)
    return row.id


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
    _, problems = await _validated_values(session, viewer, row.type, _stored_form(row))
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
    if await _active_duplicate_exists(session, row):
        raise DomainError.of(ErrorCode.DUPLICATE_ACTIVE_REQUEST)
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
        # Another request for the same certificate and declaration won a race to PENDING.
        raise DomainError.of(ErrorCode.DUPLICATE_ACTIVE_REQUEST) from None
    return row.id


async def _active_duplicate_exists(session: AsyncSession, row: Coordination) -> bool:
    """Another PENDING or ACCEPTED request for the same certificate and export declaration."""
    found = await session.scalar(
        select(Coordination.id)
        .where(
            Coordination.certificate_no == row.certificate_no,
            Coordination.export_declaration_no == row.export_declaration_no,
            Coordination.status.in_(status.ACTIVE_STATES),
            Coordination.id != row.id,
        )
        .limit(1)
    )
    return found is not None


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
