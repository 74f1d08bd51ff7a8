"""Real front-end clients against a live ``xhsz serve --demo`` (the Node project in clients/):
GraphQL Codegen types the shipped operations from the live schema and ``tsc --strict`` compiles
them (and refuses a file that misuses them); Apollo Client 4 (automatic persisted queries over POST
and GET, uploads with apollo-upload-client), urql's relayPagination and GraphQL Inspector run with
``node --test``; then the server restarts with the manifest codegen wrote as its only trusted
documents, and the shipped operations run while anything else is refused.

A failing step shows the Node output; the conftest adds the tail of each server's log. A new
client test is one more ``clients/tests/*.test.mjs`` file (``tests/lib.mjs`` holds the shared
helpers); it runs here without any change to this file.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from config.settings import Settings
from tests.servers import ROOT, xhsz_serve
from tests.support import Factory, sample

CLIENTS = ROOT / "clients"
BIN = CLIENTS / "node_modules" / ".bin"
NODE = shutil.which("node")
STEP_TIMEOUT = 300
MIN_TESTS = 7
"""Node tests in clients/tests/ as of this file (4 Apollo, 1 urql, 2 Inspector); more may come."""
TRUSTED_TESTS = 2

pytestmark = pytest.mark.skipif(
    (NODE is None or not BIN.exists()) and not os.environ.get("XHSZ_REQUIRE_CLIENTS"),
    reason="node or clients/node_modules missing (./scripts/setup runs npm ci in clients/)",
)


def counts(output: str) -> tuple[int, int]:
    """(passed, failed) from ``node --test``'s summary."""
    found = dict(re.findall(r"^ℹ (pass|fail) (\d+)$", output, re.MULTILINE))
    return int(found.get("pass", -1)), int(found.get("fail", -1))


def run(command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a step in clients/; the test fails with its output unless it succeeded."""
    done = subprocess.run(
        command,
        cwd=CLIENTS,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {done.returncode}\n--- stdout\n{done.stdout[-8000:]}"
            f"\n--- stderr\n{done.stderr[-4000:]}",
            pytrace=False,
        )
    return done


def test_real_clients_against_a_live_server(
    factory: Factory, settings: Settings, tmp_path: Path
) -> None:
    assert NODE is not None, "node is required"
    environment = {
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
    }
    png = tmp_path / "sample.png"
    png.write_bytes(sample("png", 3000))
    manifest = CLIENTS / "generated" / "persisted-documents.json"
    manifest.unlink(missing_ok=True)

    with xhsz_serve(environment, options=("--demo",)) as server:
        node = {"XHSZ_URL": server.url, "XHSZ_SAMPLE_PNG": str(png)}
        run([str(BIN / "graphql-codegen"), "--config", "codegen.ts"], node)
        run([str(BIN / "tsc"), "-p", "tsconfig.json"], node)
        wrong = subprocess.run(
            [str(BIN / "tsc"), "-p", "tsconfig.negative.json"],
            cwd=CLIENTS,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        assert wrong.returncode != 0, "tsc must refuse a field the operation did not select"
        assert "TS2339" in wrong.stdout, wrong.stdout
        assert "passwordHash" in wrong.stdout, wrong.stdout
        tested = run([NODE, "--test", "--test-reporter=spec", "tests/"], node)
        passed, failed = counts(tested.stdout)
        assert failed == 0, tested.stdout
        assert passed >= MIN_TESTS, tested.stdout

    assert manifest.exists(), "the client preset writes the persisted-documents manifest"
    trusted = {
        **environment,
        "XHSZ_TRUSTED_DOCUMENTS": str(manifest),
        "XHSZ_TRUSTED_DOCUMENTS_ONLY": "true",
    }
    with xhsz_serve(trusted) as server:
        tested = run([NODE, "--test", "--test-reporter=spec", "trusted/"], {"XHSZ_URL": server.url})
        assert counts(tested.stdout) == (TRUSTED_TESTS, 0), tested.stdout
