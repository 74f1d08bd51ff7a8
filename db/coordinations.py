"""Services that change coordination requests. Each runs inside the caller's transaction, checks
everything first, and raises ``DomainError`` (rolling back) rather than changing part of a request.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import certificates, reference, status, validation
from db.errors import DomainError, ErrorCode, FieldPath, Problem
from db.identity import Viewer
from db.models import Coordination, CoordinationType, StatusChange
from db.numbering import next_coordination_no
from db.queries import visible_to
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


def _text(max_length: int) -> Validator:
    return lambda value, field: validation.text(value, field, max_length=max_length)


async def _validated_values(
    session: AsyncSession, viewer: Viewer, kind: CoordinationType | None, form: CoordinationForm
) -> tuple[dict[str, str | None], list[Problem]]:
    checker = _Checker(form)
    certificate_no = checker.check("certificate_no", validation.certificate_no)
    checker.check("export_declaration_no", validation.export_declaration_no)
    checker.check("import_declaration_no", validation.import_declaration_no)
    checker.check("contact_name", _text(validation.CONTACT_NAME_MAX))
    checker.check("contact_phone", validation.phone)
    checker.check("reason", _text(validation.REASON_MAX))

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
            if getattr(form, name) is not None:
                checker.refuse(ErrorCode.INVALID_FORMAT, name)
    for name in ("approved_exporter_no", "ruling_no"):
        if name in wanted:
            checker.check(name, validation.certificate_no)
    if "import_country_code" in wanted:
        _check_place(checker, agreement)
    return checker.values, checker.problems


def _check_agreement(checker: _Checker, registered_code: str | None) -> reference.Agreement | None:
    """From the registry when the certificate is known there; otherwise required and known."""
    given = (checker.form.agreement_code or "").strip() or None
    if registered_code is not None:
        if given is not None and given != registered_code:
            checker.refuse(ErrorCode.AGREEMENT_MISMATCH, "agreement_code")
            return None
        checker.values["agreement_code"] = registered_code
        return reference.agreement(registered_code)
    code = checker.check("agreement_code", validation.required)
    if code is None:
        return None
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


async def _load_for_change(
    session: AsyncSession, viewer: Viewer, coordination_id: int, expected_version: int | None
) -> Coordination:
    """The request to change: ``NOT_FOUND`` when missing or another enterprise's, alike."""
    row = await session.scalar(
        select(Coordination).where(Coordination.id == coordination_id, visible_to(viewer))
    )
    if row is None:
        raise DomainError.of(ErrorCode.NOT_FOUND, ("id",))
    if expected_version is not None and expected_version != row.version:
        raise DomainError.of(ErrorCode.VERSION_CONFLICT, ("expectedVersion",))
    return row


async def _guarded_update(
    session: AsyncSession, row: Coordination, values: dict[str, object]
) -> None:
    """Write only if nobody changed the request since we read it (status and version unchanged)."""
    result = await session.execute(
        update(Coordination)
        .where(
            Coordination.id == row.id,
            Coordination.version == row.version,
            Coordination.status == row.status,
        )
        .values(**values, version=row.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise DomainError.of(ErrorCode.VERSION_CONFLICT, ("expectedVersion",))


def _history(
    coordination_id: int,
    viewer: Viewer,
    from_status: status.Status | None,
    to_status: status.Status,
    now: dt.datetime,
    remark: str | None = None,
) -> StatusChange:
    return StatusChange(
        coordination_id=coordination_id,
        from_status=from_status,
        to_status=to_status,
        at=now,
        actor_username=viewer.username,
        actor_role=viewer.role,
        remark=remark,
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
    if viewer.enterprise_id is None:
        raise DomainError.of(ErrorCode.FORBIDDEN)
    if coordination_id is None:
        return await _create(session=session, viewer=viewer, form=form, now=now)
    row = await _load_for_change(session, viewer, coordination_id, expected_version)
    status.apply(Action.EDIT, row.status)
    values, problems = await _validated_values(session, viewer, row.type, form)
    if form.type is not None and form.type is not row.type:
        problems.insert(0, Problem(ErrorCode.INVALID_FORMAT, ("type",)))
    if problems:
        raise DomainError(problems)
    await _guarded_update(session, row, {**values, "updated_at": now})
    return row.id


async def _create(
    *, session: AsyncSession, viewer: Viewer, form: CoordinationForm, now: dt.datetime
) -> int:
    values, problems = await _validated_values(session, viewer, form.type, form)
    if form.type is None:
        problems.insert(0, Problem(ErrorCode.REQUIRED, ("type",)))
    if problems or form.type is None or viewer.enterprise_id is None:
        raise DomainError(problems or [Problem(ErrorCode.FORBIDDEN)])
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
    session.add(_history(row.id, viewer, None, status.INITIAL_STATUS, now))
    return row.id
