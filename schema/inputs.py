"""Mutation inputs. Form fields are nullable so that a missing one comes back as a typed
``REQUIRED`` error on its field (like the seed's red hints), never as a GraphQL validation error.
"""

from dataclasses import fields

import strawberry

from db.form import CoordinationForm
from db.models import CoordinationType
from db.status import ReceiptOutcome


@strawberry.input(
    description="暂存表单: the whole 暂存 form: a save replaces it, it does not patch it. Form "
    "fields are nullable so that a missing one comes back as a REQUIRED error on its field; "
    "text is trimmed, and an empty or blank value counts as missing."
)
class SaveCoordinationInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="协调申请ID: omit to create a request; give it to update one."
    )
    expected_version: int | None = strawberry.field(
        default=None,
        description="预期版本: the version you read; a stale one is VERSION_CONFLICT (omit: no "
        "check).",
    )
    type: CoordinationType | None = strawberry.field(
        default=None,
        description="协调单类型: required to create; on update omit it or repeat the stored one.",
    )
    certificate_no: str | None = strawberry.field(
        default=None,
        description="原产地证书号 / 原产地声明编号: required; upper-cased, 1–40 of A-Z 0-9 - /.",
    )
    agreement_code: str | None = strawberry.field(
        default=None,
        description="优惠贸易协定代码: a known agreement code (tradeAgreements); taken from the "
        "registry when the certificate is known there, else required.",
    )
    export_declaration_no: str | None = strawberry.field(
        default=None,
        description="出口报关单号: required; exactly 18 characters: 4-digit customs code, "
        "4-digit year, 0 or E (export), 9-digit sequence.",
    )
    import_declaration_no: str | None = strawberry.field(
        default=None,
        description="进口报关单号: required; the foreign declaration number, 1–64 printable "
        "characters.",
    )
    import_country_code: str | None = strawberry.field(
        default=None,
        description="进口国家/地区: ISO 3166-1 alpha-3 code of a partner of the agreement; "
        "required except for CCPIT_CERTIFICATE, where it must be absent.",
    )
    import_port_code: str | None = strawberry.field(
        default=None,
        description="进口国家/地区口岸: UN/LOCODE of a port in importCountryCode (ports); "
        "required except for CCPIT_CERTIFICATE, where it must be absent.",
    )
    approved_exporter_no: str | None = strawberry.field(
        default=None,
        description="经核准出口商编号: required for APPROVED_EXPORTER_DECLARATION only (absent "
        "otherwise); upper-cased, 1–40 of A-Z 0-9 - /.",
    )
    ruling_no: str | None = strawberry.field(
        default=None,
        description="行政裁定/预裁定编号: required for RULING_DECLARATION only (absent "
        "otherwise); upper-cased, 1–40 of A-Z 0-9 - /.",
    )
    contact_name: str | None = strawberry.field(
        default=None, description="联系人: required, 1–50 characters."
    )
    contact_phone: str | None = strawberry.field(
        default=None,
        description="联系电话: required; a mainland mobile number, a landline with area code "
        "(extension allowed), a 95xxx/400/800 service number, or +international form.",
    )
    reason: str | None = strawberry.field(
        default=None,
        description="申请事由: required, 1–1000 characters (line breaks allowed).",
    )

    def form(self) -> CoordinationForm:
        return CoordinationForm(**{f.name: getattr(self, f.name) for f in fields(CoordinationForm)})


@strawberry.input(description="海关处理: a customs receipt or decision on a request.")
class RecordCustomsReceiptInput:
    coordination_no: str = strawberry.field(
        description="协调单号: the request's coordination number, e.g. XT2026112300000042."
    )
    outcome: ReceiptOutcome = strawberry.field(
        description="处理结果: what customs records; must be allowed from the current status."
    )
    remark: str | None = strawberry.field(
        default=None,
        description="意见: 退回原因 / 办结意见, up to 1000 characters; required to return or "
        "conclude.",
    )
    expected_version: int | None = strawberry.field(
        default=None,
        description="预期版本: the version you read; a stale one is VERSION_CONFLICT (omit: no "
        "check).",
    )
