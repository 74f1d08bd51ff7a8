"""Import of the certificate registry (证书申请系统) from CSV: streaming, batched, idempotent.

Rows are parsed one at a time; every bad row is reported with its line number and reason and
skipped, good rows land. Each batch is loaded into temporary staging tables (``COPY`` on
PostgreSQL, ``executemany`` on SQLite) and merged with set-based SQL in its own transaction:
certificates are upserted only where something differs, and each certificate's linked export
declarations become exactly the set in the file. Importing the same file twice changes nothing.
"""

import asyncio
import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import (
    Column,
    Date,
    MetaData,
    String,
    Table,
    delete,
    func,
    or_,
    select,
    true,
    tuple_,
    union,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from db import reference, validation
from db.certificates import CertificateRecord
from db.database import Database
from db.errors import DomainError
from db.models import Certificate, CertificateExportDeclaration, CertificateKind

HEADER = (
    "certificate_no",
    "kind",
    "agreement_code",
    "enterprise_uscc",
    "import_country",
    "issued_on",
    "export_declaration_nos",
)
BATCH_SIZE = 10_000


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (e.g. a wrong header); nothing was written."""


def parse_record(row: dict[str, str | None]) -> CertificateRecord:
    """One CSV row as a record; ``ValueError`` with the reason when it is not valid."""
    values = {name: (row.get(name) or "").strip() for name in HEADER}
    if None in row or any(value is None for value in row.values()):
        raise ValueError(f"expected {len(HEADER)} columns")
    try:
        certificate_no = validation.certificate_no(values["certificate_no"], ("certificate_no",))
    except DomainError:
        raise ValueError("certificate_no must be 1–40 of A-Z 0-9 - /") from None
    try:
        kind = CertificateKind(values["kind"].upper())
    except ValueError:
        raise ValueError(f"unknown kind {values['kind']!r}") from None
    agreement = reference.agreement(values["agreement_code"])
    if agreement is None:
        raise ValueError(f"unknown agreement_code {values['agreement_code']!r}")
    uscc = values["enterprise_uscc"].upper()
    if not validation.is_valid_uscc(uscc):
        raise ValueError(f"enterprise_uscc {uscc!r} is not a valid USCC")
    country = values["import_country"].upper()
    if reference.country(country) is None:
        raise ValueError(f"unknown import_country {country!r}")
    if not agreement.has_partner(country):
        raise ValueError(f"import_country {country} is not a partner of agreement {agreement.code}")
    try:
        issued_on = dt.date.fromisoformat(values["issued_on"])
    except ValueError:
        raise ValueError(f"issued_on {values['issued_on']!r} is not a date (YYYY-MM-DD)") from None
    declarations = []
    for raw in values["export_declaration_nos"].split(";"):
        if raw.strip():
            try:
                declarations.append(
                    validation.export_declaration_no(raw, ("export_declaration_nos",))
                )
            except DomainError:
                raise ValueError(f"export declaration {raw.strip()!r} is not valid") from None
    return CertificateRecord(
        certificate_no=certificate_no,
        kind=kind,
        agreement_code=agreement.code,
        enterprise_uscc=uscc,
        import_country_code=country,
        issued_on=issued_on,
        export_declaration_nos=tuple(dict.fromkeys(declarations)),
    )


def read_records(
    handle: TextIO, rejected: Callable[[Rejection], None]
) -> Iterator[tuple[int, CertificateRecord]]:
    """Stream (line number, record) pairs, reporting each bad row to ``rejected``."""
    reader = csv.DictReader(handle)
    if tuple(reader.fieldnames or ()) != HEADER:
        raise ImportFileError(f"the header must be: {','.join(HEADER)}")
    for row in reader:
        try:
            yield reader.line_num, parse_record(row)
        except ValueError as error:
            rejected(Rejection(reader.line_num, str(error)))


_staging = MetaData()
STAGED_CERTIFICATES = Table(
    "import_certificates",
    _staging,
    Column("certificate_no", String(40), primary_key=True),
    Column("kind", String(32)),
    Column("agreement_code", String(4)),
    Column("enterprise_uscc", String(18)),
    Column("import_country_code", String(3)),
    Column("issued_on", Date),
    prefixes=["TEMPORARY"],
)
STAGED_LINKS = Table(
    "import_links",
    _staging,
    Column("certificate_no", String(40), primary_key=True),
    Column("export_declaration_no", String(18), primary_key=True),
    prefixes=["TEMPORARY"],
)


async def _stage(connection: AsyncConnection, records: list[CertificateRecord]) -> None:
    certificates = [
        (
            r.certificate_no,
            r.kind.value,
            r.agreement_code,
            r.enterprise_uscc,
            r.import_country_code,
            r.issued_on,
        )
        for r in records
    ]
    links = [(r.certificate_no, no) for r in records for no in r.export_declaration_nos]
    if connection.dialect.name == "postgresql":
        raw: Any = (await connection.get_raw_connection()).driver_connection
        await raw.copy_records_to_table(STAGED_CERTIFICATES.name, records=certificates)
        await raw.copy_records_to_table(STAGED_LINKS.name, records=links)
        # Temporary tables are never auto-analysed; without statistics the merge plans badly.
        await connection.exec_driver_sql(f"ANALYZE {STAGED_CERTIFICATES.name}, {STAGED_LINKS.name}")
        return
    names = [c.name for c in STAGED_CERTIFICATES.columns]
    await connection.execute(
        STAGED_CERTIFICATES.insert(), [dict(zip(names, c, strict=True)) for c in certificates]
    )
    if links:
        await connection.execute(
            STAGED_LINKS.insert(),
            [{"certificate_no": c, "export_declaration_no": d} for c, d in links],
        )


MERGED_COLUMNS = ("kind", "agreement_code", "enterprise_uscc", "import_country_code", "issued_on")


async def _clear_staging(connection: AsyncConnection) -> None:
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(
            f"TRUNCATE {STAGED_CERTIFICATES.name}, {STAGED_LINKS.name}"
        )
    else:
        await connection.execute(delete(STAGED_LINKS))
        await connection.execute(delete(STAGED_CERTIFICATES))


async def _merge(connection: AsyncConnection, summary: ImportSummary) -> None:
    """Merge the staged batch into the registry and count what it changed.

    Set operations throughout (joins and EXCEPT, no per-row subqueries), and the link statements
    run only when the batch has new or changed certificates: a re-import of unchanged data
    reads and writes no link.
    """
    staged, link = STAGED_CERTIFICATES.c, CertificateExportDeclaration
    registered = staged.certificate_no == Certificate.certificate_no
    staged_count = int(
        await connection.scalar(select(func.count()).select_from(STAGED_CERTIFICATES)) or 0
    )
    existing = int(
        await connection.scalar(
            select(func.count()).select_from(STAGED_CERTIFICATES).join(Certificate, registered)
        )
        or 0
    )
    # The links of this batch's certificates as stored, and as the file has them.
    stored_links = select(link.certificate_no, link.export_declaration_no).join(
        STAGED_CERTIFICATES, staged.certificate_no == link.certificate_no
    )
    file_links = select(STAGED_LINKS.c.certificate_no, STAGED_LINKS.c.export_declaration_no)
    stale_links = stored_links.except_(file_links).subquery()
    changed = 0
    if existing:
        fields_differ = (
            select(staged.certificate_no)
            .join(Certificate, registered)
            .where(
                or_(*(getattr(Certificate, c).is_distinct_from(staged[c]) for c in MERGED_COLUMNS))
            )
        )
        added_links = (
            file_links.join(
                Certificate, STAGED_LINKS.c.certificate_no == Certificate.certificate_no
            )
            .except_(stored_links)
            .subquery()
        )
        touched = union(
            fields_differ,
            select(stale_links.c.certificate_no),
            select(added_links.c.certificate_no),
        ).subquery()
        changed = int(await connection.scalar(select(func.count()).select_from(touched)) or 0)

    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    # "WHERE true" lets SQLite tell the SELECT's end from the ON CONFLICT clause.
    upsert = dialect.insert(Certificate).from_select(
        ["certificate_no", *MERGED_COLUMNS], select(STAGED_CERTIFICATES).where(true())
    )
    await connection.execute(
        upsert.on_conflict_do_update(
            index_elements=[Certificate.certificate_no],
            set_={name: upsert.excluded[name] for name in MERGED_COLUMNS},
            where=or_(
                *(
                    getattr(Certificate, name).is_distinct_from(upsert.excluded[name])
                    for name in MERGED_COLUMNS
                )
            ),
        )
    )
    if changed:
        await connection.execute(
            delete(link).where(
                tuple_(link.certificate_no, link.export_declaration_no).in_(select(stale_links))
            )
        )
    if changed or staged_count > existing:
        await connection.execute(
            dialect.insert(link)
            .from_select(["certificate_no", "export_declaration_no"], file_links.where(true()))
            .on_conflict_do_nothing()
        )
    summary.created += staged_count - existing
    summary.updated += changed
    summary.unchanged += existing - changed


def _batches(
    records: Iterable[tuple[int, CertificateRecord]], size: int
) -> Iterator[list[CertificateRecord]]:
    """Batches of records; a certificate repeated in the file counts once, the last row wins."""
    batch: dict[str, CertificateRecord] = {}
    for _line, record in records:
        batch.pop(record.certificate_no, None)
        batch[record.certificate_no] = record
        if len(batch) >= size:
            yield list(batch.values())
            batch = {}
    if batch:
        yield list(batch.values())


async def import_csv(
    *,
    database: Database,
    path: Path,
    rejected: Callable[[Rejection], None] = lambda _r: None,
    progress: Callable[[int], None] = lambda _position: None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Import ``path`` into the registry; ``progress`` gets the byte offset after each batch."""
    summary = ImportSummary()

    def reject(rejection: Rejection) -> None:
        summary.rejected.append(rejection)
        rejected(rejection)

    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
        records = read_records(handle, reject)

        def counted() -> Iterator[tuple[int, CertificateRecord]]:
            for item in records:
                summary.rows += 1
                yield item

        def parsed() -> Iterator[tuple[list[CertificateRecord], int]]:
            for batch in _batches(counted(), batch_size):
                yield batch, raw.tell()

        batches = parsed()

        def parse_next() -> tuple[list[CertificateRecord], int] | None:
            return next(batches, None)

        async with database.write_engine.connect() as connection:
            await connection.run_sync(lambda sync: _staging.create_all(sync))
            if connection.dialect.name == "postgresql":
                # Plans for each batch need the registry's size as it is now (a bulk load can
                # outrun autovacuum's statistics); JIT would compile every small batch anew.
                await connection.exec_driver_sql(
                    "ANALYZE certificates, certificate_export_declarations"
                )
                await connection.exec_driver_sql("SET jit = off")
            await connection.commit()
            # Parsing is CPU work in Python, merging is waiting on the database: parse the next
            # batch in a thread while this one merges. At most two batches are in memory.
            pending = asyncio.create_task(asyncio.to_thread(parse_next))
            try:
                while (item := await pending) is not None:
                    batch, position = item
                    pending = asyncio.create_task(asyncio.to_thread(parse_next))
                    async with connection.begin():
                        await _clear_staging(connection)
                        await _stage(connection, batch)
                        await _merge(connection, summary)
                    progress(position)
            finally:
                await asyncio.gather(pending, return_exceptions=True)
            await connection.run_sync(lambda sync: _staging.drop_all(sync))
            await connection.commit()
    summary.rows += len(summary.rejected)
    return summary
