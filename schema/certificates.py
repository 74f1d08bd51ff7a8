"""``certificate(certificateNo)``: registry data for autofill, only of the viewer's enterprise."""

import datetime as dt

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from db import certificates, models
from db.models import CertificateKind
from schema import types
from schema.context import Context


@strawberry.type(description="A certificate or declaration from the certificate registry.")
class Certificate:
    certificate_no: str
    kind: CertificateKind
    agreement: types.TradeAgreement
    import_country: types.Country
    issued_on: dt.date
    export_declaration_nos: list[str] = strawberry.field(
        description="The export declarations linked to it in the certificate system."
    )

    @classmethod
    def of(cls, row: models.Certificate) -> "Certificate":
        return cls(
            certificate_no=row.certificate_no,
            kind=row.kind,
            agreement=types.trade_agreement(row.agreement_code),
            import_country=types.country(row.import_country_code),
            issued_on=row.issued_on,
            export_declaration_nos=row.linked_declarations,
        )


@strawberry.type
class CertificateQuery:
    @strawberry.field(
        description="A registry certificate of your enterprise, for autofill; null for any other "
        "(unknown or another enterprise's, alike)."
    )
    async def certificate(
        self, info: Info[Context, None], certificate_no: str
    ) -> Certificate | None:
        viewer = await info.context.require_viewer()

        async def read(session: AsyncSession) -> Certificate | None:
            found = await certificates.find_owned(session, certificate_no, viewer.enterprise_uscc)
            return Certificate.of(found) if found else None

        return await info.context.query(read)
