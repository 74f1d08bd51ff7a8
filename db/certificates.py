"""The certificate registry as this service reads it.

A certificate of another enterprise is treated exactly like an unknown one: every lookup filters by
the owner in the same indexed statement, so neither the answer nor its timing tells them apart.
"""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from db.models import Certificate, CertificateExportDeclaration, CertificateKind


@dataclass(frozen=True)
class CertificateRecord:
    """One registry entry as the certificate system describes it."""

    certificate_no: str
    kind: CertificateKind
    agreement_code: str
    enterprise_uscc: str
    import_country_code: str
    issued_on: dt.date
    export_declaration_nos: tuple[str, ...]


async def find_owned(
    session: AsyncSession, certificate_no: str, enterprise_uscc: str | None
) -> Certificate | None:
    """The registry entry for ``certificate_no`` if it belongs to the enterprise, else None."""
    if enterprise_uscc is None:
        return None
    found = await session.execute(
        select(Certificate)
        .where(
            Certificate.certificate_no == certificate_no.strip().upper(),
            Certificate.enterprise_uscc == enterprise_uscc,
        )
        # One statement (a join), not two: the certificate's few declarations come with it.
        .options(joinedload(Certificate.export_declarations))
    )
    return found.unique().scalar_one_or_none()


async def register(*, session: AsyncSession, record: CertificateRecord) -> None:
    """Add or replace one registry entry (the demo seed and tests; files use the importer)."""
    await session.execute(
        delete(CertificateExportDeclaration).where(
            CertificateExportDeclaration.certificate_no == record.certificate_no
        )
    )
    await session.merge(
        Certificate(
            certificate_no=record.certificate_no,
            kind=record.kind,
            agreement_code=record.agreement_code,
            enterprise_uscc=record.enterprise_uscc,
            import_country_code=record.import_country_code,
            issued_on=record.issued_on,
        )
    )
    session.add_all(
        CertificateExportDeclaration(certificate_no=record.certificate_no, export_declaration_no=no)
        for no in record.export_declaration_nos
    )
    await session.flush()
