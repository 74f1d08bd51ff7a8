"""The request types: a coordination request (the four union members), and the one place where
stored records become them (its attachments and history: ``schema.details``).

An object is a view of one immutable record (``db.listed``) for one viewer (``Presentation``):
building it stores the two, and each field is read from the record when, and only when, the query
selects it. So a page of twenty costs twenty small objects, whatever the type has, and nothing a
query does not ask for is computed (labels, global IDs, download signatures, allowed actions). The
fields' resolvers take only ``self`` and never await: the compiled executor reads them as plain
data, and the union member is simply the Python class of the object.
"""

import datetime as dt
from typing import Annotated

import strawberry

from db.listed import Listed, snapshot
from db.models import AttachmentSlot, CoordinationType
from db.records import CoordinationRecord
from db.status import Action, Status, allowed_actions
from schema import enums  # noqa: F401 (registers the domain's enums)
from schema.basics import Country, Enterprise, Node, Port, TradeAgreement, country, port
from schema.basics import trade_agreement as agreement_of
from schema.details import (
    NODE_ID,
    Attachment,
    StatusChange,
    global_id,
    recorded,
    slot_order,
)
from schema.messages import STATUS_LABELS, TYPE_LABELS, pick
from schema.presentation import Presentation


def _type_label(self: "Coordination") -> str:
    return pick(TYPE_LABELS[self.record.type], self.shown.language)


def _status_label(self: "Coordination") -> str:
    return pick(STATUS_LABELS[self.record.status], self.shown.language)


def _enterprise(self: "Coordination") -> Enterprise:
    found = self.record.enterprise
    return Enterprise(uscc=found.uscc, name=found.name)


def _agreement(self: "Coordination") -> TradeAgreement:
    return agreement_of(self.record.agreement_code)


def _attachments(self: "Coordination") -> list[Attachment]:
    shown = self.shown
    return [Attachment(record=row, shown=shown) for row in slot_order(self.record.attachments)]


def _history(self: "Coordination") -> list[StatusChange]:
    return [StatusChange(record=change) for change in self.record.history]


def _allowed_actions(self: "Coordination") -> list[Action]:
    return allowed_actions(self.record.status, self.shown.role)


@strawberry.interface(
    description="协调申请: the fields every coordination request (享惠受阻协调申请) has; select "
    "them once with `... on Coordination`."
)
class Coordination(Node):
    record: strawberry.Private[CoordinationRecord]
    shown: strawberry.Private[Presentation]
    id: strawberry.ID = strawberry.field(resolver=global_id, description=NODE_ID)
    coordination_no: str = strawberry.field(
        resolver=recorded("coordination_no"),
        description="协调单号: assigned at the first save: XT + 8-digit date (China Standard "
        "Time) + 8-digit daily sequence, 18 characters, e.g. XT2026112300000042.",
    )
    type: CoordinationType = strawberry.field(
        resolver=recorded("type"), description="协调单类型: the request's type, fixed at creation."
    )
    type_label: str = strawberry.field(
        resolver=_type_label,
        description="协调单类型名称: the type's name in the viewer's language (海关原产地证书享惠"
        "受阻协调申请 / Customs certificate of origin coordination request).",
    )
    status: Status = strawberry.field(
        resolver=recorded("status"), description="处理状态: the request's status."
    )
    status_label: str = strawberry.field(
        resolver=_status_label,
        description="处理状态名称: the status's name in the viewer's language (暂存 / Draft).",
    )
    enterprise: Enterprise = strawberry.field(
        resolver=_enterprise,
        description="企业: the enterprise that filed it (from its user's login; read-only).",
    )
    certificate_no: str = strawberry.field(
        resolver=recorded("certificate_no"),
        description="原产地证书号 / 原产地声明编号: the certificate or declaration number; "
        "upper-cased, 1–40 of A-Z 0-9 - /.",
    )
    agreement: TradeAgreement = strawberry.field(
        resolver=_agreement,
        description="优惠贸易协定: the agreement the preference was claimed under (from the "
        "certificate registry when the certificate is known there).",
    )
    export_declaration_no: str = strawberry.field(
        resolver=recorded("export_declaration_no"),
        description="出口报关单号: export declaration number, 18 characters: 4-digit customs "
        "code, 4-digit year, 0 or E (export), 9-digit sequence.",
    )
    import_declaration_no: str = strawberry.field(
        resolver=recorded("import_declaration_no"),
        description="进口报关单号: the importing country's declaration number, 1–64 printable "
        "characters.",
    )
    contact_name: str = strawberry.field(
        resolver=recorded("contact_name"), description="联系人: contact name, 1–50 characters."
    )
    contact_phone: str = strawberry.field(
        resolver=recorded("contact_phone"),
        description="联系电话: contact phone: a mainland mobile number, a landline with area "
        "code (extension allowed), a 95xxx/400/800 service number, or +international form.",
    )
    reason: str = strawberry.field(
        resolver=recorded("reason"),
        description="申请事由: why coordination is requested, 1–1000 characters (line breaks "
        "allowed).",
    )
    attachments: list[Attachment] = strawberry.field(
        resolver=_attachments,
        description="附件信息: the files attached, in slot order (at most one per slot).",
    )
    history: list[StatusChange] = strawberry.field(
        resolver=_history,
        description="处理记录: every status change, oldest first (the first save: null → DRAFT).",
    )
    allowed_actions: list[Action] = strawberry.field(
        resolver=_allowed_actions,
        description="可执行操作: what the viewer may do now, from the status table (a front end "
        "greys out the other buttons).",
    )
    customs_remark: str | None = strawberry.field(
        resolver=recorded("customs_remark"),
        description="海关意见: the latest reason or opinion customs gave (退回原因, 办结意见).",
    )
    version: int = strawberry.field(
        resolver=recorded("version"),
        description="版本: starts at 1 and increments on every change; send it as "
        "expectedVersion to detect concurrent edits (VERSION_CONFLICT).",
    )
    created_at: dt.datetime = strawberry.field(
        resolver=recorded("created_at"),
        description="创建时间: the first save (ISO 8601 with UTC offset).",
    )
    updated_at: dt.datetime = strawberry.field(
        resolver=recorded("updated_at"),
        description="更新时间: the latest change (ISO 8601 with UTC offset).",
    )
    submitted_at: dt.datetime | None = strawberry.field(
        resolver=recorded("submitted_at"),
        description="提交日期: the latest submit (kept through a withdrawal); null if never "
        "submitted.",
    )


def _stored(value: str | None) -> str:
    """A column that save() guarantees for this type."""
    if value is None:
        raise LookupError("a required column of this type is empty")
    return value


def _import_country(self: Coordination) -> Country:
    return country(_stored(self.record.import_country_code))


def _import_port(self: Coordination) -> Port:
    return port(_stored(self.record.import_port_code))


def _approved_exporter_no(self: Coordination) -> str:
    return _stored(self.record.approved_exporter_no)


def _ruling_no(self: Coordination) -> str:
    return _stored(self.record.ruling_no)


IMPORT_COUNTRY = (
    "进口国家/地区: the importing country, a party to the agreement on the partner side."
)
IMPORT_PORT = "进口国家/地区口岸: the port of importation, in importCountry."


@strawberry.type(
    description="海关原产地证书享惠受阻协调申请: a request on a certificate of origin issued by "
    "China Customs."
)
class CustomsCertificateRequest(Coordination):
    import_country: Country = strawberry.field(resolver=_import_country, description=IMPORT_COUNTRY)
    import_port: Port = strawberry.field(resolver=_import_port, description=IMPORT_PORT)


@strawberry.type(
    description="经核准出口商原产地声明享惠受阻协调申请: a request on an origin declaration made "
    "by an approved exporter."
)
class ApprovedExporterDeclarationRequest(Coordination):
    approved_exporter_no: str = strawberry.field(
        resolver=_approved_exporter_no,
        description="经核准出口商编号: the approved exporter's number; upper-cased, 1–40 of "
        "A-Z 0-9 - /.",
    )
    import_country: Country = strawberry.field(resolver=_import_country, description=IMPORT_COUNTRY)
    import_port: Port = strawberry.field(resolver=_import_port, description=IMPORT_PORT)


@strawberry.type(
    description="基于海关行政裁定或预裁定的原产地声明享惠受阻协调申请: a request on an origin "
    "declaration based on a customs ruling or advance ruling."
)
class RulingDeclarationRequest(Coordination):
    ruling_no: str = strawberry.field(
        resolver=_ruling_no,
        description="行政裁定/预裁定编号: the ruling or advance ruling number; upper-cased, 1–40 "
        "of A-Z 0-9 - /.",
    )
    import_country: Country = strawberry.field(resolver=_import_country, description=IMPORT_COUNTRY)
    import_port: Port = strawberry.field(resolver=_import_port, description=IMPORT_PORT)


@strawberry.type(
    description="贸促会原产地证书享惠受阻协调申请: a request on a certificate of origin issued by "
    "CCPIT (no importing country or port on this form)."
)
class CcpitCertificateRequest(Coordination):
    pass


CoordinationMember = (
    CustomsCertificateRequest
    | ApprovedExporterDeclarationRequest
    | RulingDeclarationRequest
    | CcpitCertificateRequest
)
CoordinationRequest = Annotated[
    CoordinationMember,
    strawberry.union(
        "CoordinationRequest",
        description="协调申请: a request of any of the four types; every member implements "
        "Coordination and Node.",
    ),
]

OBJECT_TYPES: dict[CoordinationType, type[CoordinationMember]] = {
    CoordinationType.CUSTOMS_CERTIFICATE: CustomsCertificateRequest,
    CoordinationType.APPROVED_EXPORTER_DECLARATION: ApprovedExporterDeclarationRequest,
    CoordinationType.RULING_DECLARATION: RulingDeclarationRequest,
    CoordinationType.CCPIT_CERTIFICATE: CcpitCertificateRequest,
}
COORDINATION_TYPE_NAMES = frozenset(cls.__name__ for cls in OBJECT_TYPES.values())


def coordination(row: CoordinationRecord, presentation: Presentation) -> CoordinationMember:
    """The union member showing ``row`` (a list record, or an ORM row loaded with its details,
    copied first: a view must not change with the session's objects) to ``presentation``'s
    viewer."""
    record = row if isinstance(row, Listed) else snapshot(row)
    return OBJECT_TYPES[record.type](record=record, shown=presentation)


def attached(shown: Coordination, slot: AttachmentSlot) -> Attachment:
    """The attachment in ``slot`` of a request shown (there must be one)."""
    found = next(file for file in shown.record.attachments if file.slot is slot)
    return Attachment(record=found, shown=shown.shown)
