"""``certificate(certificateNo)``: registry data for autofill, only of the viewer's enterprise."""

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from db import certificates, models
from db.models import CertificateKind
from schema import types
from schema.context import Context
from schema.messages import CERTIFICATE_KIND_LABELS, Language, label


def _kind_label(self: "Certificate") -> str:
    # Computed only when selected.
    return label(CERTIFICATE_KIND_LABELS[self.kind], self.language)


@strawberry.type(
    description="证书: a certificate or declaration from the certificate registry (证书申请系统)."
)
class Certificate:
    certificate_no: str = strawberry.field(
        description="原产地证书号 / 原产地声明编号: the number, upper-cased, 1–40 of A-Z 0-9 - /."
    )
    kind: CertificateKind = strawberry.field(description="证书类型: what kind it is.")
    kind_label: str = strawberry.field(
        resolver=_kind_label,
        description="证书类型名称: the kind's name in the viewer's language (海关原产地证书 / "
        "Customs certificate of origin).",
    )
    agreement: types.TradeAgreement = strawberry.field(
        description="优惠贸易协定: the agreement it was issued under."
    )
    import_country: types.Country = strawberry.field(
        description="进口国家/地区: the importing country it was issued for."
    )
    issued_on: dt.date = strawberry.field(description="签发日期: the day it was issued.")
    export_declaration_nos: list[str] = strawberry.field(
        description="关联出口报关单号: the export declarations (18 characters each) linked to it "
        "in the certificate system."
    )
    language: strawberry.Private[Language]

    @classmethod
    def of(cls, row: models.Certificate, language: Language) -> "Certificate":
        return cls(
            certificate_no=row.certificate_no,
            kind=row.kind,
            agreement=types.trade_agreement(row.agreement_code),
            import_country=types.country(row.import_country_code),
            issued_on=row.issued_on,
            export_declaration_nos=row.linked_declarations,
            language=language,
        )


@strawberry.type
class CertificateQuery:
    @strawberry.field(
        description="证书查询: a registry certificate of your enterprise, for autofill; null for "
        "any other (unknown or another enterprise's, alike)."
    )
    async def certificate(
        self,
        info: Info[Context, None],
        certificate_no: Annotated[
            str,
            strawberry.argument(
                description="原产地证书号 / 原产地声明编号: the exact number (trimmed, "
                "case-insensitive)."
            ),
        ],
    ) -> Certificate | None:
        viewer = await info.context.require_viewer()
        async with info.context.reading() as session:
            found = await certificates.find_owned(session, certificate_no, viewer.enterprise_uscc)
            return Certificate.of(found, info.context.language) if found else None
