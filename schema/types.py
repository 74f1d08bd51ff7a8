"""GraphQL object types, and the one place where stored rows become them.

Objects are built whole from rows that were loaded with their details (``db.queries.with_details``):
every field is plain data, so a list of requests resolves without a single await per item, and the
union member is simply the Python class of the object.
"""

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import Annotated, TypedDict

import strawberry

from db import reference
from db.identity import Viewer as ViewerData
from db.models import AttachmentSlot, CertificateKind, CoordinationType
from db.records import AttachmentRecord, CoordinationRecord, StatusChangeRecord
from db.status import Action, ReceiptOutcome, Role, Status, allowed_actions
from schema import ids
from schema.messages import STATUS_LABELS, pick
from schema.presentation import Presentation

# The domain's enums are the GraphQL enums; registering them here gives them their GraphQL names.
strawberry.enum(Status, name="CoordinationStatus")
strawberry.enum(Action, name="CoordinationAction")
strawberry.enum(Role, name="Role")
strawberry.enum(CoordinationType, name="CoordinationType")
strawberry.enum(AttachmentSlot, name="AttachmentSlot")
strawberry.enum(CertificateKind, name="CertificateKind")
strawberry.enum(ReceiptOutcome, name="ReceiptOutcome")


@strawberry.interface(description="An object with a globally unique ID (Relay).")
class Node:
    id: strawberry.ID


@strawberry.type(description="An enterprise, identified by its unified social credit code.")
class Enterprise:
    uscc: str = strawberry.field(description="统一社会信用代码")
    name: str = strawberry.field(description="企业中文名称")


@strawberry.type(description="A country or region (ISO 3166-1 alpha-3).")
class Country:
    code: str
    name_zh: str
    name_en: str

    @classmethod
    def of(cls, country: reference.Country) -> "Country":
        return cls(code=country.code, name_zh=country.name_zh, name_en=country.name_en)


@strawberry.type(description="A port or airport (UN/LOCODE).")
class Port:
    code: str
    name: str
    country_code: str
    is_seaport: bool
    is_airport: bool

    @classmethod
    def of(cls, port: reference.Port) -> "Port":
        return cls(
            code=port.code,
            name=port.name,
            country_code=port.country_code,
            is_seaport=port.is_seaport,
            is_airport=port.is_airport,
        )


@strawberry.type(description="A preferential trade agreement (优惠贸易协定).")
class TradeAgreement:
    code: str
    name_zh: str
    name_en: str
    partners: list[Country]

    @classmethod
    def of(cls, agreement: reference.Agreement) -> "TradeAgreement":
        return cls(
            code=agreement.code,
            name_zh=agreement.name_zh,
            name_en=agreement.name_en,
            partners=[Country.of(c) for c in reference.partners(agreement)],
        )


@strawberry.type(description="The logged-in user.")
class Viewer:
    username: str
    role: Role
    enterprise: Enterprise | None

    @classmethod
    def of(cls, viewer: ViewerData) -> "Viewer":
        enterprise = (
            Enterprise(uscc=viewer.enterprise_uscc, name=viewer.enterprise_name)
            if viewer.enterprise_uscc and viewer.enterprise_name
            else None
        )
        return cls(username=viewer.username, role=viewer.role, enterprise=enterprise)


@strawberry.type(description="A file attached to a request (附件).")
class Attachment(Node):
    slot: AttachmentSlot
    file_name: str = strawberry.field(description="The original file name, for display.")
    content_type: str = strawberry.field(
        description="application/pdf, image/jpeg or image/png, as the bytes showed."
    )
    size: int = strawberry.field(description="In bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the stored bytes, hexadecimal.")
    uploaded_at: dt.datetime
    pk: strawberry.Private[int]
    links: strawberry.Private[Presentation]

    @strawberry.field(
        description="A link to the file for the viewer, valid for a few minutes (no token "
        "needed): an absolute URL when the service has a public URL configured, otherwise a path "
        "(/attachments/…) on the host that serves /graphql."
    )
    def download_url(self) -> str:
        # Signed only when selected: an HMAC per file is most of what building a page costs.
        return self.links.download_url(self.pk)

    @strawberry.field(
        description="预览链接 (preview link): like downloadUrl, but the file is served "
        "`Content-Disposition: inline` under a sandboxing Content-Security-Policy, so that a PDF "
        "or image opens in the browser without running anything; valid for a few minutes."
    )
    def preview_url(self) -> str:
        return self.links.preview_url(self.pk)


@strawberry.type(description="One status change in a request's history.")
class StatusChange:
    from_: Status | None = strawberry.field(name="from")
    to: Status
    at: dt.datetime
    actor: str = strawberry.field(description="The username of who made the change.")
    actor_role: Role
    remark: str | None


def _allowed_actions(self: "Coordination") -> list[Action]:
    # Computed only when selected.
    return allowed_actions(self.status, self.viewer_role)


@strawberry.interface(description="The fields every coordination request (享惠受阻协调申请) has.")
class Coordination(Node):
    coordination_no: str = strawberry.field(description="协调单号")
    type: CoordinationType
    status: Status
    status_label: str
    enterprise: Enterprise
    certificate_no: str = strawberry.field(description="原产地证书号 / 原产地声明编号")
    agreement: TradeAgreement
    export_declaration_no: str = strawberry.field(description="出口报关单号")
    import_declaration_no: str = strawberry.field(description="进口报关单号")
    contact_name: str
    contact_phone: str
    reason: str = strawberry.field(description="申请事由")
    attachments: list[Attachment]
    history: list[StatusChange]
    allowed_actions: list[Action] = strawberry.field(
        resolver=_allowed_actions, description="What the viewer may do now, from the status table."
    )
    viewer_role: strawberry.Private[Role]
    customs_remark: str | None = strawberry.field(
        description="The latest reason or opinion customs gave (退回原因, 办结意见)."
    )
    version: int = strawberry.field(description="Increments on every change.")
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None = strawberry.field(description="提交日期: the latest submit.")


@strawberry.type(description="海关原产地证书享惠受阻协调申请")
class CustomsCertificateRequest(Coordination):
    import_country: Country
    import_port: Port


@strawberry.type(description="经核准出口商原产地声明享惠受阻协调申请")
class ApprovedExporterDeclarationRequest(Coordination):
    approved_exporter_no: str
    import_country: Country
    import_port: Port


@strawberry.type(description="基于海关行政裁定或预裁定的原产地声明享惠受阻协调申请")
class RulingDeclarationRequest(Coordination):
    ruling_no: str
    import_country: Country
    import_port: Port


@strawberry.type(description="贸促会原产地证书享惠受阻协调申请")
class CcpitCertificateRequest(Coordination):
    pass


CoordinationMember = (
    CustomsCertificateRequest
    | ApprovedExporterDeclarationRequest
    | RulingDeclarationRequest
    | CcpitCertificateRequest
)
CoordinationRequest = Annotated[CoordinationMember, strawberry.union("CoordinationRequest")]

OBJECT_TYPES: dict[CoordinationType, type[Coordination]] = {
    CoordinationType.CUSTOMS_CERTIFICATE: CustomsCertificateRequest,
    CoordinationType.APPROVED_EXPORTER_DECLARATION: ApprovedExporterDeclarationRequest,
    CoordinationType.RULING_DECLARATION: RulingDeclarationRequest,
    CoordinationType.CCPIT_CERTIFICATE: CcpitCertificateRequest,
}
COORDINATION_TYPE_NAMES = frozenset(cls.__name__ for cls in OBJECT_TYPES.values())


# Reference objects are immutable, so each is built once per process and shared by every request.
@cache
def trade_agreement(code: str) -> TradeAgreement:
    found = reference.agreement(code)
    if found is None:
        raise LookupError(f"unknown agreement {code!r} in stored data")
    return TradeAgreement.of(found)


@cache
def country(code: str) -> Country:
    found = reference.country(code)
    if found is None:
        raise LookupError(f"unknown country {code!r} in stored data")
    return Country.of(found)


@cache
def port(code: str) -> Port:
    found = reference.port(code)
    if found is None:
        raise LookupError(f"unknown port {code!r} in stored data")
    return Port.of(found)


def attachment(row: AttachmentRecord, presentation: Presentation) -> Attachment:
    return Attachment(
        id=strawberry.ID(ids.encode(Attachment.__name__, row.id)),
        slot=row.slot,
        file_name=row.file_name,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        uploaded_at=row.created_at,
        pk=row.id,
        links=presentation,
    )


def status_change(row: StatusChangeRecord) -> StatusChange:
    return StatusChange(
        from_=row.from_status,
        to=row.to_status,
        at=row.at,
        actor=row.actor_username,
        actor_role=row.actor_role,
        remark=row.remark,
    )


class _CommonFields(TypedDict):
    id: strawberry.ID
    coordination_no: str
    type: CoordinationType
    status: Status
    status_label: str
    enterprise: Enterprise
    certificate_no: str
    agreement: TradeAgreement
    export_declaration_no: str
    import_declaration_no: str
    contact_name: str
    contact_phone: str
    reason: str
    attachments: list[Attachment]
    history: list[StatusChange]
    viewer_role: Role
    customs_remark: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None


def coordination(row: CoordinationRecord, presentation: Presentation) -> CoordinationMember:
    """The union member for a row loaded with its details (an ORM row or a list record)."""
    common = _CommonFields(
        id=strawberry.ID(ids.encode(OBJECT_TYPES[row.type].__name__, row.id)),
        coordination_no=row.coordination_no,
        type=row.type,
        status=row.status,
        status_label=pick(STATUS_LABELS[row.status], presentation.language),
        enterprise=Enterprise(uscc=row.enterprise.uscc, name=row.enterprise.name),
        certificate_no=row.certificate_no,
        agreement=trade_agreement(row.agreement_code),
        export_declaration_no=row.export_declaration_no,
        import_declaration_no=row.import_declaration_no,
        contact_name=row.contact_name,
        contact_phone=row.contact_phone,
        reason=row.reason,
        attachments=[attachment(a, presentation) for a in _slot_order(row.attachments)],
        history=[status_change(change) for change in row.history],
        viewer_role=presentation.role,
        customs_remark=row.customs_remark,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
    )
    if row.type is CoordinationType.CCPIT_CERTIFICATE:
        return CcpitCertificateRequest(**common)
    import_country = country(_stored(row.import_country_code))
    import_port = port(_stored(row.import_port_code))
    if row.type is CoordinationType.APPROVED_EXPORTER_DECLARATION:
        return ApprovedExporterDeclarationRequest(
            **common,
            approved_exporter_no=_stored(row.approved_exporter_no),
            import_country=import_country,
            import_port=import_port,
        )
    if row.type is CoordinationType.RULING_DECLARATION:
        return RulingDeclarationRequest(
            **common,
            ruling_no=_stored(row.ruling_no),
            import_country=import_country,
            import_port=import_port,
        )
    return CustomsCertificateRequest(
        **common, import_country=import_country, import_port=import_port
    )


def _stored(value: str | None) -> str:
    """A column that save() guarantees for this type."""
    if value is None:
        raise LookupError("a required column of this type is empty")
    return value


# By the members' identity: an Enum member hashes in Python code (its name), which made this sort
# a tenth of building a page's objects.
SLOT_ORDER = {id(slot): index for index, slot in enumerate(AttachmentSlot)}


def _slot_order(rows: Sequence[AttachmentRecord]) -> list[AttachmentRecord]:
    if len(rows) < 2:
        return list(rows)
    return sorted(rows, key=lambda row: SLOT_ORDER[id(row.slot)])
