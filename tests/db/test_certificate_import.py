"""The registry import against the real database: bad rows by line, idempotence, updates."""

from pathlib import Path

import pytest
from sqlalchemy import select

from db.certificate_import import HEADER, ImportFileError, import_csv
from db.database import Database
from db.models import Certificate, CertificateExportDeclaration, CertificateKind
from tests.support import count_rows

USCC = "91350100M000100Y43"
GOOD = [
    f"K1,CUSTOMS_CO,19,{USCC},KOR,2026-03-01,350120260000000001;350120260000000002",
    f"RC2,approved_exporter_declaration,22,{USCC},jpn,2026-03-02,35012026E000000003",
    f"C3,CCPIT_CO,02,{USCC},VNM,2026-03-03,",
]
BAD = [
    (f"BAD#1,CUSTOMS_CO,19,{USCC},KOR,2026-03-01,", "certificate_no must be"),
    (f"K4,NOT_A_KIND,19,{USCC},KOR,2026-03-01,", "unknown kind 'NOT_A_KIND'"),
    (f"K5,CUSTOMS_CO,99,{USCC},KOR,2026-03-01,", "unknown agreement_code '99'"),
    ("K6,CUSTOMS_CO,19,91350100M000100Y44,KOR,2026-03-01,", "is not a valid USCC"),
    (f"K7,CUSTOMS_CO,19,{USCC},XXX,2026-03-01,", "unknown import_country 'XXX'"),
    (f"K8,CUSTOMS_CO,19,{USCC},JPN,2026-03-01,", "is not a partner of agreement 19"),
    (f"K9,CUSTOMS_CO,19,{USCC},KOR,01/03/2026,", "is not a date"),
    (f"K10,CUSTOMS_CO,19,{USCC},KOR,2026-03-01,350120261000000001", "is not valid"),
    (f"K11,CUSTOMS_CO,19,{USCC},KOR,2026-03-01", "expected 7 columns"),
]


def write(tmp_path: Path, rows: list[str], name: str = "registry.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([",".join(HEADER), *rows]) + "\n", encoding="utf-8")
    return path


async def registry(database: Database) -> dict[str, tuple[object, ...]]:
    async with database.reader() as session:
        certificates = (await session.scalars(select(Certificate))).all()
        links = (await session.scalars(select(CertificateExportDeclaration))).all()
    linked: dict[str, list[str]] = {}
    for link in links:
        linked.setdefault(link.certificate_no, []).append(link.export_declaration_no)
    return {
        c.certificate_no: (
            c.kind,
            c.agreement_code,
            c.enterprise_uscc,
            c.import_country_code,
            c.issued_on.isoformat(),
            sorted(linked.get(c.certificate_no, [])),
        )
        for c in certificates
    }


async def test_good_rows_land_and_bad_rows_are_reported_by_line(
    database: Database, tmp_path: Path
) -> None:
    rows = [GOOD[0], *(row for row, _ in BAD[:4]), GOOD[1], *(row for row, _ in BAD[4:]), GOOD[2]]
    reported = []
    summary = await import_csv(
        database=database, path=write(tmp_path, rows), rejected=reported.append, batch_size=2
    )

    assert (summary.rows, summary.created, summary.updated, summary.unchanged) == (12, 3, 0, 0)
    lines = [rows.index(row) + 2 for row, _ in BAD]  # line 1 is the header
    assert [r.line for r in reported] == lines
    for rejection, (_, reason) in zip(reported, BAD, strict=True):
        assert reason in rejection.reason
    assert summary.rejected == reported
    assert await registry(database) == {
        "K1": (
            CertificateKind.CUSTOMS_CO,
            "19",
            USCC,
            "KOR",
            "2026-03-01",
            ["350120260000000001", "350120260000000002"],
        ),
        "RC2": (
            CertificateKind.APPROVED_EXPORTER_DECLARATION,
            "22",
            USCC,
            "JPN",
            "2026-03-02",
            ["35012026E000000003"],
        ),
        "C3": (CertificateKind.CCPIT_CO, "02", USCC, "VNM", "2026-03-03", []),
    }


async def test_importing_the_same_file_again_changes_nothing(
    database: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, GOOD)
    await import_csv(database=database, path=path)
    before = await registry(database)
    again = await import_csv(database=database, path=path, batch_size=2)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert await registry(database) == before
    assert await count_rows(database, Certificate) == 3


async def test_reimport_updates_fields_and_replaces_the_linked_declarations(
    database: Database, tmp_path: Path
) -> None:
    await import_csv(database=database, path=write(tmp_path, GOOD))
    changed = [
        f"K1,CUSTOMS_CO,22,{USCC},KOR,2026-03-01,350120260000000002;350120260000000009",
        GOOD[1],
        f"C3,CCPIT_CO,02,{USCC},VNM,2026-03-03,350120260000000005",
    ]
    summary = await import_csv(database=database, path=write(tmp_path, changed, "v2.csv"))
    assert (summary.created, summary.updated, summary.unchanged) == (0, 2, 1)
    now = await registry(database)
    assert now["K1"][1] == "22"
    assert now["K1"][5] == ["350120260000000002", "350120260000000009"]
    assert now["C3"][5] == ["350120260000000005"]


async def test_a_certificate_repeated_in_the_file_takes_its_last_row(
    database: Database, tmp_path: Path
) -> None:
    rows = [GOOD[0], f"K1,CUSTOMS_CO,19,{USCC},KOR,2026-04-01,350120260000000007"]
    summary = await import_csv(database=database, path=write(tmp_path, rows))
    assert summary.created == 1
    assert (await registry(database))["K1"][4:] == ("2026-04-01", ["350120260000000007"])


async def test_a_file_with_the_wrong_header_is_refused_whole(
    database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("certificate,kind\nK1,CUSTOMS_CO\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="header"):
        await import_csv(database=database, path=path)
    assert await count_rows(database, Certificate) == 0


async def test_a_byte_order_mark_is_accepted(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_text("\ufeff" + ",".join(HEADER) + "\n" + GOOD[0] + "\n", encoding="utf-8")
    summary = await import_csv(database=database, path=path)
    assert summary.created == 1
