"""Benchmark: `xhsz certificates import` of a large registry file, first load and re-import.

    .venv/bin/python bench/registry_import.py --rows 1000000 --backend postgresql
    .venv/bin/python bench/registry_import.py --rows 1000000 --backend sqlite

Writes a CSV of ROWS certificates (1–3 linked export declarations each) to a temporary folder,
imports it into a throwaway database with the real CLI, then imports it again (nothing changes),
and prints wall time, rows/s and the importer's peak RSS for both runs.
"""

import argparse
import asyncio
import csv
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).parents[1]
XHSZ = str(Path(sys.executable).with_name("xhsz"))
HEADER = (
    "certificate_no,kind,agreement_code,enterprise_uscc,import_country,issued_on,"
    "export_declaration_nos"
)
KINDS = ("CUSTOMS_CO", "CCPIT_CO", "APPROVED_EXPORTER_DECLARATION", "RULING_DECLARATION")
AGREEMENTS = (("19", "KOR"), ("22", "JPN"), ("22", "VNM"), ("18", "AUS"), ("02", "THA"))
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc(rng: random.Random) -> str:
    body = "91" + "".join(rng.choice(USCC_ALPHABET) for _ in range(15))
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS, strict=True))
    return body + USCC_ALPHABET[(31 - total % 31) % 31]


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(20261123)
    enterprises = [uscc(rng) for _ in range(2000)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        handle.write(HEADER + "\n")
        for number in range(rows):
            agreement, country = AGREEMENTS[number % len(AGREEMENTS)]
            declarations = ";".join(
                f"{rng.randrange(1000, 9999)}2026{rng.choice('0E')}{rng.randrange(10**9):09d}"
                for _ in range(rng.randint(1, 3))
            )
            writer.writerow(
                (
                    f"C{number:012d}",
                    KINDS[number % 4],
                    agreement,
                    enterprises[number % len(enterprises)],
                    country,
                    f"2026-{number % 12 + 1:02d}-{number % 28 + 1:02d}",
                    declarations,
                )
            )


async def admin(server: str, statement: str) -> None:
    engine = create_async_engine(
        make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


def run_import(url: str, path: Path) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) of the import process, its summary line."""
    environment = {**os.environ, "XHSZ_DATABASE_URL": url, "XHSZ_SECRET_KEY": "b" * 40}
    start = time.perf_counter()
    # A fresh child per run, so that RUSAGE_CHILDREN's maximum is this run's.
    probe = (
        "import resource, subprocess, sys; "
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(r.stdout.strip()); "
        "sys.stderr.write(r.stderr[-2000:]); sys.exit(r.returncode)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, XHSZ, "certificates", "import", str(path)],
        env=environment,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"import failed: {result.stderr}")
    peak, summary = result.stdout.splitlines()[:2]
    return elapsed, int(peak), summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "registry.csv"
        start = time.perf_counter()
        write_csv(path, options.rows)
        size, took = path.stat().st_size / 2**20, time.perf_counter() - start
        print(f"wrote {options.rows:,} rows ({size:.0f} MiB) in {took:.1f} s")
        name = f"xhsz_bench_import_{secrets.token_hex(4)}"
        if options.backend == "postgresql":
            asyncio.run(admin(options.postgres, f'CREATE DATABASE "{name}"'))
            url = (
                make_url(options.postgres).set(database=name).render_as_string(hide_password=False)
            )
        else:
            url = f"sqlite+aiosqlite:///{folder}/bench.db"
        try:
            for label in ("first import", "re-import"):
                elapsed, peak_kib, summary = run_import(url, path)
                rate = options.rows / elapsed
                print(
                    f"{options.backend} {label}: {elapsed:.1f} s, {rate:,.0f} rows/s, "
                    f"peak RSS {peak_kib / 1024:.0f} MiB — {summary}"
                )
        finally:
            if options.backend == "postgresql":
                asyncio.run(
                    admin(options.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                )
    print("command:", " ".join(["python", "bench/registry_import.py", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
