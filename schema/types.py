"""GraphQL object types, and the one place where stored rows become them.

Objects are built whole from rows that were loaded with their details (``db.queries.with_details``):
every field is plain data, so a list of requests resolves without a single await per item, and the
union member is simply the Python class of the object. Labels are resolved only when selected.
"""

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import Annotated, TypedDict

import strawberry

from db import reference
from db.identity import Viewer as ViewerData
from db.models import AttachmentSlot, CoordinationType
from db.records import AttachmentRecord, CoordinationRecord, StatusChangeRecord
from db.status import Action, Role, Status, allowed_actions
from schema import (
    enums,  # noqa: F401 (registers the domain's enums)
    ids,
)
from schema.messages import SLOT_LABELS, STATUS_LABELS, TYPE_LABELS, Language, label, pick
from schema.presentation import Presentation


@strawberry.interface(description="节点: an object with a globally unique ID (Relay).")
class Node:
    id: strawberry.ID = strawberry.field(
        description="全局ID: the object's opaque Relay global ID, for node(id) and refetching."
    )


@strawberry.type(description="企业: an enterprise, identified by its unified social credit code.")
class Enterprise:
    uscc: str = strawberry.field(
        description="统一社会信用代码: the unified social credit code, 18 characters "
        "(GB 32100-2015, digits and capitals, with a check character)."
    )
    name: str = strawberry.field(description="企业中文名称: the enterprise's name in Chinese.")


@strawberry.type(description="国家/地区: a country or region (ISO 3166-1).")
class Country:
    code: str = strawberry.field(
        description="国家/地区代码: ISO 3166-1 alpha-3 code, 3 capital letters, e.g. KOR."
    )
    name_zh: str = strawberry.field(description="中文名称: the name in Chinese, e.g. 韩国.")
    name_en: str = strawberry.field(
        description="英文名称: the name in English, e.g. Korea, Republic of."
    )

    @classmethod
    def of(cls, country: reference.Country) -> "Country":
        return cls(code=country.code, name_zh=country.name_zh, name_en=country.name_en)


@strawberry.type(description="口岸: a port or airport of a country (UN/LOCODE).")
class Port:
    code: str = strawberry.field(
        description="口岸代码: UN/LOCODE, 5 characters (country and place), e.g. KRPUS."
    )
    name: str = strawberry.field(description="口岸名称: the port's name, e.g. Busan.")
    country_code: str = strawberry.field(
        description="国家/地区代码: the ISO 3166-1 alpha-3 code of its country, e.g. KOR."
    )
    is_seaport: bool = strawberry.field(description="是否海港: true for a seaport.")
    is_airport: bool = strawberry.field(description="是否空港: true for an airport.")

    @classmethod
    def of(cls, port: reference.Port) -> "Port":
        return cls(
            code=port.code,
            name=port.name,
            country_code=port.country_code,
            is_seaport=port.is_seaport,
            is_airport=port.is_airport,
        )


@strawberry.type(description="优惠贸易协定: one of China's preferential trade agreements.")
class TradeAgreement:
    code: str = strawberry.field(
        description="优惠贸易协定代码: the agreement's two-digit code, e.g. 19 (China–Korea) "
        "or 22 (RCEP)."
    )
    name_zh: str = strawberry.field(description="中文名称: the agreement's name in Chinese.")
    name_en: str = strawberry.field(description="英文名称: the agreement's name in English.")
    partners: list[Country] = strawberry.field(
        description="成员国家/地区: the partner parties (importing countries it applies to)."
    )

    @classmethod
    def of(cls, agreement: reference.Agreement) -> "TradeAgreement":
        return cls(
            code=agreement.code,
            name_zh=agreement.name_zh,
            name_en=agreement.name_en,
            partners=[Country.of(c) for c in reference.partners(agreement)],
        )


@strawberry.type(description="当前用户: the logged-in user.")
class Viewer:
    username: str = strawberry.field(description="用户名: the login name.")
    role: Role = strawberry.field(description="用户角色: enterprise user or customs officer.")
    enterprise: Enterprise | None = strawberry.field(
        description="所属企业: the user's enterprise; null for customs officers."
    )

    @classmethod
    def of(cls, viewer: ViewerData) -> "Viewer":
        enterprise = (
            Enterprise(uscc=viewer.enterprise_uscc, name=viewer.enterprise_name)
            if viewer.enterprise_uscc and viewer.enterprise_name
            else None
        )
        return cls(username=viewer.username, role=viewer.role, enterprise=enterprise)


def _slot_label(self: "Attachment") -> str:
    # Computed only when selected.
    return label(SLOT_LABELS[self.slot.value], self.links.language)


@strawberry.type(description="附件: a file attached to a request (附件信息).")
class Attachment(Node):
    slot: AttachmentSlot = strawberry.field(description="附件类型: the slot the file is in.")
    slot_label: str = strawberry.field(
        resolver=_slot_label,
        description="附件类型名称: the slot's name in the viewer's language (原产地证明 / Proof "
        "of origin).",
    )
    file_name: str = strawberry.field(
        description="文件名: the original file name, for display (never a path on the server)."
    )
    content_type: str = strawberry.field(
        description="文件类型: application/pdf, image/jpeg or image/png, as the bytes showed."
    )
    size: int = strawberry.field(
        description="文件大小: in bytes; at most 4,194,304 (4 MiB), a PDF at most 307,200 "
        "(300 KiB) by default."
    )
    sha256: str = strawberry.field(
        description="SHA-256摘要: of the stored bytes, 64 lowercase hexadecimal digits."
    )
    uploaded_at: dt.datetime = strawberry.field(
        description="上传时间: when it was uploaded (ISO 8601 with UTC offset)."
    )
    pk: strawberry.Private[int]
    links: strawberry.Private[Presentation]

    @strawberry.field(
        description="下载链接: a link to the file for the viewer, valid for a few minutes (5 by "
        "default; no token needed): an absolute URL when the service has a public URL "
        "configured, otherwise a path (/attachments/…) on the host that serves /graphql."
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


@strawberry.type(description="状态变更: one status change in a request's history.")
class StatusChange:
    from_: Status | None = strawberry.field(
        name="from", description="原状态: the status before; null for the first save."
    )
    to: Status = strawberry.field(description="新状态: the status after.")
    at: dt.datetime = strawberry.field(
        description="变更时间: when it happened (ISO 8601 with UTC offset)."
    )
    actor: str = strawberry.field(description="操作人: the username of who made the change.")
    actor_role: Role = strawberry.field(description="操作人角色: enterprise user or customs.")
    remark: str | None = strawberry.field(
        description="意见: the reason or opinion customs gave (退回原因, 办结意见), if any."
    )


def _allowed_actions(self: "Coordination") -> list[Action]:
    # Computed only when selected.
    return allowed_actions(self.status, self.viewer_role)


def _type_label(self: "Coordination") -> str:
    # Computed only when selected.
    return pick(TYPE_LABELS[self.type], self.language)


@strawberry.interface(
    description="协调申请: the fields every coordination request (享惠受阻协调申请) has; select "
    "them once with `... on Coordination`."
)
class Coordination(Node):
    coordination_no: str = strawberry.field(
        description="协调单号: assigned at the first save: XT + 8-digit date (China Standard "
        "Time) + 8-digit daily sequence, 18 characters, e.g. XT2026112300000042."
    )
    type: CoordinationType = strawberry.field(
        description="协调单类型: the request's type, fixed at creation."
    )
    type_label: str = strawberry.field(
        resolver=_type_label,
        description="协调单类型名称: the type's name in the viewer's language (海关原产地证书享惠"
        "受阻协调申请 / Customs certificate of origin coordination request).",
    )
    status: Status = strawberry.field(description="处理状态: the request's status.")
    status_label: str = strawberry.field(
        description="处理状态名称: the status's name in the viewer's language (暂存 / Draft)."
    )
    enterprise: Enterprise = strawberry.field(
        description="企业: the enterprise that filed it (from its user's login; read-only)."
    )
    certificate_no: str = strawberry.field(
        description="原产地证书号 / 原产地声明编号: the certificate or declaration number; "
        "upper-cased, 1–40 of A-Z 0-9 - /."
    )
    agreement: TradeAgreement = strawberry.field(
        description="优惠贸易协定: the agreement the preference was claimed under (from the "
        "certificate registry when the certificate is known there)."
    )
    export_declaration_no: str = strawberry.field(
        description="出口报关单号: export declaration number, 18 characters: 4-digit customs "
        "code, 4-digit year, 0 or E (export), 9-digit sequence."
    )
    import_declaration_no: str = strawberry.field(
        description="进口报关单号: the importing country's declaration number, 1–64 printable "
        "characters."
    )
    contact_name: str = strawberry.field(description="联系人: contact name, 1–50 characters.")
    contact_phone: str = strawberry.field(
        description="联系电话: contact phone: a mainland mobile number, a landline with area "
        "code (extension allowed), a 95xxx/400/800 service number, or +international form."
    )
    reason: str = strawberry.field(
        description="申请事由: why coordination is requested, 1–1000 characters (line breaks "
        "allowed)."
    )
    attachments: list[Attachment] = strawberry.field(
        description="附件信息: the files attached, in slot order (at most one per slot)."
    )
    history: list[StatusChange] = strawberry.field(
        description="处理记录: every status change, oldest first (the first save: null → DRAFT)."
    )
    allowed_actions: list[Action] = strawberry.field(
        resolver=_allowed_actions,
        description="可执行操作: what the viewer may do now, from the status table (a front end "
        "greys out the other buttons).",
    )
    viewer_role: strawberry.Private[Role]
    language: strawberry.Private[Language]
    customs_remark: str | None = strawberry.field(
        description="海关意见: the latest reason or opinion customs gave (退回原因, 办结意见)."
    )
    version: int = strawberry.field(
        description="版本: starts at 1 and increments on every change; send it as "
        "expectedVersion to detect concurrent edits (VERSION_CONFLICT)."
    )
    created_at: dt.datetime = strawberry.field(
        description="创建时间: the first save (ISO 8601 with UTC offset)."
    )
    updated_at: dt.datetime = strawberry.field(
        description="更新时间: the latest change (ISO 8601 with UTC offset)."
    )
    submitted_at: dt.datetime | None = strawberry.field(
        description="提交日期: the latest submit (kept through a withdrawal); null if never "
        "submitted."
    )


IMPORT_COUNTRY = (
    "进口国家/地区: the importing country, a party to the agreement on the partner side."
)
IMPORT_PORT = "进口国家/地区口岸: the port of importation, in importCountry."


@strawberry.type(
    description="海关原产地证书享惠受阻协调申请: a request on a certificate of origin issued by "
    "China Customs."
)
class CustomsCertificateRequest(Coordination):
    import_country: Country = strawberry.field(description=IMPORT_COUNTRY)
    import_port: Port = strawberry.field(description=IMPORT_PORT)


@strawberry.type(
    description="经核准出口商原产地声明享惠受阻协调申请: a request on an origin declaration made "
    "by an approved exporter."
)
class ApprovedExporterDeclarationRequest(Coordination):
    approved_exporter_no: str = strawberry.field(
        description="经核准出口商编号: the approved exporter's number; upper-cased, 1–40 of "
        "A-Z 0-9 - /."
    )
    import_country: Country = strawberry.field(description=IMPORT_COUNTRY)
    import_port: Port = strawberry.field(description=IMPORT_PORT)


@strawberry.type(
    description="基于海关行政裁定或预裁定的原产地声明享惠受阻协调申请: a request on an origin "
    "declaration based on a customs ruling or advance ruling."
)
class RulingDeclarationRequest(Coordination):
    ruling_no: str = strawberry.field(
        description="行政裁定/预裁定编号: the ruling or advance ruling number; upper-cased, 1–40 "
        "of A-Z 0-9 - /."
    )
    import_country: Country = strawberry.field(description=IMPORT_COUNTRY)
    import_port: Port = strawberry.field(description=IMPORT_PORT)


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
    language: Language
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
        language=presentation.language,
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
