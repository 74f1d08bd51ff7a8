"""The 暂存 form: which fields each type has, the rule of each field, and the check of a whole form.

The rules are data (``FIELD_RULES``): ``check_form`` applies them to a save and ``coordinationForm``
publishes them (required, length, pattern, the expected format in words), so that what a front end
draws and what the server refuses cannot drift apart. Rules that need more than one field or the
reference data (an agreement's partners, a country's ports, the registry's certificate) are the
checker's; the form names them in ``depends_on``.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db import certificates, reference, validation
from db.errors import DomainError, ErrorCode, FieldPath, Problem
from db.identity import Viewer
from db.models import CoordinationType


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


@dataclass(frozen=True)
class FieldRule:
    """What one form field must hold. Every field of a type is required (``agreement_code`` may
    be left for the registry to fill, see ``check_form``)."""

    name: str
    """The form's attribute; ``SaveCoordinationInput`` calls it by its camelCase."""
    hint: str
    """Names the expected format in words (``schema.messages.FORMAT_HINTS``)."""
    format: validation.Format | None = None
    """A fixed format (``INVALID_FORMAT`` otherwise)."""
    max_length: int | None = None
    """Free text: at most this many characters (``TOO_LONG`` otherwise)."""
    multiline: bool = False
    upper: bool = False
    """A code: stored upper-cased (looked up in the reference data by the checker)."""
    depends_on: tuple[str, ...] = ()
    """Fields whose value decides what this one may hold."""

    @property
    def pattern(self) -> str | None:
        return self.format.pattern if self.format else None

    @property
    def length_limit(self) -> int | None:
        return self.format.max_length if self.format else self.max_length

    def check(self, value: str | None, field: FieldPath) -> str:
        """The value to store, or ``DomainError`` with this field's problem."""
        if self.format is not None:
            return self.format.check(value, field)
        if self.max_length is not None:
            return validation.text(
                value, field, max_length=self.max_length, multiline=self.multiline
            )
        text = validation.required(value, field)
        return text.upper() if self.upper else text


def _rules(*rules: FieldRule) -> dict[str, FieldRule]:
    return {rule.name: rule for rule in rules}


FIELD_RULES: Mapping[str, FieldRule] = _rules(
    FieldRule("certificate_no", "CERTIFICATE_NO", format=validation.CERTIFICATE_NO),
    FieldRule("approved_exporter_no", "CERTIFICATE_NO", format=validation.CERTIFICATE_NO),
    FieldRule("ruling_no", "CERTIFICATE_NO", format=validation.CERTIFICATE_NO),
    FieldRule("agreement_code", "AGREEMENT", depends_on=("certificate_no",)),
    FieldRule(
        "export_declaration_no", "EXPORT_DECLARATION_NO", format=validation.EXPORT_DECLARATION_NO
    ),
    FieldRule(
        "import_declaration_no", "IMPORT_DECLARATION_NO", format=validation.IMPORT_DECLARATION_NO
    ),
    FieldRule("import_country_code", "COUNTRY", upper=True, depends_on=("agreement_code",)),
    FieldRule("import_port_code", "PORT", upper=True, depends_on=("import_country_code",)),
    FieldRule("contact_name", "CONTACT_NAME", max_length=validation.CONTACT_NAME_MAX),
    FieldRule("contact_phone", "PHONE", format=validation.PHONE),
    FieldRule("reason", "REASON", max_length=validation.REASON_MAX, multiline=True),
)

PLACE_FIELDS = ("import_country_code", "import_port_code")
TYPE_FIELDS: dict[CoordinationType, tuple[str, ...]] = {
    CoordinationType.CUSTOMS_CERTIFICATE: PLACE_FIELDS,
    CoordinationType.APPROVED_EXPORTER_DECLARATION: ("approved_exporter_no", *PLACE_FIELDS),
    CoordinationType.RULING_DECLARATION: ("ruling_no", *PLACE_FIELDS),
    CoordinationType.CCPIT_CERTIFICATE: (),
}
"""The fields only some types have; any other type must leave them out."""
TYPE_SPECIFIC_FIELDS = ("approved_exporter_no", "ruling_no", *PLACE_FIELDS)
NOT_FOR_TYPE = "NOT_FOR_TYPE"
"""``INVALID_FORMAT`` of a field the request's type does not have: it must be empty."""
SAME_TYPE = "SAME_TYPE"
"""``INVALID_FORMAT`` of a ``type`` that differs from the stored one on update."""


def form_fields(kind: CoordinationType) -> tuple[FieldRule, ...]:
    """The fields of a type's form, in the seed's order."""
    specific = TYPE_FIELDS[kind]
    names = (
        "certificate_no",
        *(name for name in specific if name not in PLACE_FIELDS),
        "agreement_code",
        "export_declaration_no",
        "import_declaration_no",
        *(name for name in specific if name in PLACE_FIELDS),
        "contact_name",
        "contact_phone",
        "reason",
    )
    return tuple(FIELD_RULES[name] for name in names)


class _Checker:
    """Runs the rules field by field, keeping every problem so the client sees them all at once."""

    def __init__(self, form: CoordinationForm) -> None:
        self.form = form
        self.values: dict[str, str | None] = {}
        self.problems: list[Problem] = []

    def check(self, name: str) -> str | None:
        try:
            self.values[name] = FIELD_RULES[name].check(getattr(self.form, name), (name,))
        except DomainError as error:
            self.problems.extend(error.problems)
            return None
        return self.values[name]

    def refuse(self, code: ErrorCode, name: str, **params: object) -> None:
        self.problems.append(Problem(code, (name,), params))


async def check_form(
    session: AsyncSession, viewer: Viewer, kind: CoordinationType | None, form: CoordinationForm
) -> tuple[dict[str, str | None], list[Problem]]:
    """The values to store and every problem of the form, for a request of type ``kind``
    (``None``: a new request without a type; only the common fields are checked). Reads only."""
    checker = _Checker(form)
    certificate_no = checker.check("certificate_no")
    for name in ("export_declaration_no", "import_declaration_no"):
        checker.check(name)
    for name in ("contact_name", "contact_phone", "reason"):
        checker.check(name)

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
                checker.refuse(ErrorCode.INVALID_FORMAT, name, format=NOT_FOR_TYPE)
    for name in ("approved_exporter_no", "ruling_no"):
        if name in wanted:
            checker.check(name)
    if "import_country_code" in wanted:
        _check_place(checker, agreement)
    return checker.values, checker.problems


def _check_agreement(checker: _Checker, registered_code: str | None) -> reference.Agreement | None:
    """From the registry when the certificate is known there; otherwise required and known."""
    if registered_code is not None and validation.is_blank(checker.form.agreement_code):
        checker.values["agreement_code"] = registered_code
        return reference.agreement(registered_code)
    code = checker.check("agreement_code")
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
    country_code = checker.check("import_country_code")
    port_code = checker.check("import_port_code")
    country = reference.country(country_code) if country_code else None
    if country_code and country is None:
        checker.refuse(ErrorCode.UNKNOWN_COUNTRY, "import_country_code")
    elif country and agreement and not agreement.has_partner(country.code):
        checker.refuse(ErrorCode.COUNTRY_NOT_IN_AGREEMENT, "import_country_code")
    if port_code:
        port = reference.port(port_code)
        if port is None or (country is not None and port.country_code != country.code):
            checker.refuse(ErrorCode.UNKNOWN_PORT, "import_port_code")
