"""The certificate registry as this service reads it.

A certificate of another enterprise is treated exactly like an unknown one: every lookup filters by
the owner in the same indexed statement, so neither the answer nor its timing tells them apart.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

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
    """The registry entry for ``certificate_no`` if it belongs to the enterprise, else None.

    Read once per session: a submit checks the form (which reads the registry for the agreement)
    and then the certificate itself, in one transaction."""
    if enterprise_uscc is None:
        return None
    number = certificate_no.strip().upper()
    key = (find_owned, number, enterprise_uscc)
    if key in session.info:
        known: Certificate | None = session.info[key]
        return known
    found = await session.execute(OWNED, {"number": number, "uscc": enterprise_uscc})
    certificate = session.info[key] = found.unique().scalar_one_or_none()
    return certificate


OWNED = (
    select(Certificate)
    .where(
        Certificate.certificate_no == bindparam("number"),
        Certificate.enterprise_uscc == bindparam("uscc"),
    )
    # One statement (a join), not two: the certificate's few declarations come with it.
    .options(joinedload(Certificate.export_declarations))
)
"""Built once: building and keying it for SQLAlchemy's statement cache cost more than running it."""


@dataclass(frozen=True)
class Position:
    """Where a certificate lies in the picker's order: newest issue date first, then by number
    (descending), which is unique."""

    issued_on: dt.date
    certificate_no: str


@dataclass(frozen=True)
class Page:
    rows: Sequence[Certificate]
    has_more: bool


def position(row: Certificate) -> Position:
    return Position(row.issued_on, row.certificate_no)


def _owned(enterprise_uscc: str, prefix: str | None) -> list[ColumnElement[bool]]:
    conditions = [Certificate.enterprise_uscc == enterprise_uscc]
    if prefix:
        conditions.append(Certificate.certificate_no.startswith(prefix, autoescape=True))
    return conditions


def _key() -> ColumnElement[tuple[dt.date, str]]:
    return tuple_(Certificate.issued_on, Certificate.certificate_no)


async def page(
    session: AsyncSession,
    *,
    enterprise_uscc: str,
    prefix: str | None,
    limit: int,
    after: Position | None,
) -> Page:
    """The enterprise's certificates whose number starts with ``prefix``, newest first, strictly
    after ``after``: a range of the index ``(enterprise_uscc, issued_on, certificate_no)`` read
    backwards, so a deep page costs what the first does."""
    conditions = _owned(enterprise_uscc, prefix)
    if after is not None:
        conditions.append(_key() < tuple_(after.issued_on, after.certificate_no))
    rows = (
        await session.scalars(
            select(Certificate)
            .where(*conditions)
            .order_by(Certificate.issued_on.desc(), Certificate.certificate_no.desc())
            .limit(limit + 1)
            .options(selectinload(Certificate.export_declarations))
        )
    ).all()
    return Page(rows[:limit], len(rows) > limit)


async def exists_before(
    session: AsyncSession, *, enterprise_uscc: str, prefix: str | None, before: Position
) -> bool:
    """Whether a certificate of the list comes before ``before`` (``hasPreviousPage``)."""
    found = await session.scalar(
        select(Certificate.certificate_no)
        .where(
            *_owned(enterprise_uscc, prefix),
            _key() > tuple_(before.issued_on, before.certificate_no),
        )
        .limit(1)
    )
    return found is not None


async def count(session: AsyncSession, *, enterprise_uscc: str, prefix: str | None) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Certificate).where(*_owned(enterprise_uscc, prefix))
        )
        or 0
    )


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
