"""``schema.graphql`` is the committed contract: the code's schema must match it. Breaking changes
are checked against the schema as last *released*, not against ``schema.graphql`` (regenerated in
the same commit as the code, that comparison could never fire):

- ``schema.released.graphql``, the release's schema, bumped deliberately when a release ships (or
  when a breaking change is decided on, with the clients told);
- the committed ``schema.graphql`` of the merge base with ``origin/main`` (else ``main``), when git
  and that branch are there, as CI has them: a branch may not break what main publishes.

Additions, descriptions and deprecations are not breaking; removing or renaming a type, field,
argument or enum value, or making an argument or input field required, is.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
from graphql import GraphQLSchema, find_breaking_changes
from graphql import build_schema as parse_sdl

from schema import build_schema

ROOT = Path(__file__).parents[2]
SNAPSHOT = ROOT / "schema.graphql"
RELEASED = ROOT / "schema.released.graphql"
HINT = "run `xhsz export-schema > schema.graphql` and commit it"
BREAKING_HINT = (
    "breaking changes against the released schema: deprecate instead of removing, or make the "
    "break deliberate by copying schema.graphql to schema.released.graphql"
)


def breaking_changes(released_sdl: str, live: GraphQLSchema) -> list[str]:
    changes = find_breaking_changes(parse_sdl(released_sdl), live)
    return [f"{change.type.name}: {change.description}" for change in changes]


def test_schema_graphql_matches_the_code() -> None:
    assert build_schema().as_str() + "\n" == SNAPSHOT.read_text(encoding="utf-8"), HINT


def test_the_code_makes_no_breaking_change_against_the_released_schema() -> None:
    released = RELEASED.read_text(encoding="utf-8")
    assert breaking_changes(released, build_schema()._schema) == [], BREAKING_HINT


def test_the_code_makes_no_breaking_change_against_main() -> None:
    base_sdl = _schema_at_merge_base()
    if base_sdl is None:
        pytest.skip("no git, or no origin/main or main to compare with")
    assert breaking_changes(base_sdl, build_schema()._schema) == [], BREAKING_HINT


def test_the_check_reports_a_removed_field_and_enum_value() -> None:
    live = build_schema()._schema
    released = RELEASED.read_text(encoding="utf-8")
    # A release that had one field and one enum value more than the code has now.
    released = released.replace(
        "type Enterprise {", "type Enterprise {\n  legacyCode: String!\n", 1
    ).replace("enum Role {", "enum Role {\n  AUDITOR\n", 1)
    assert breaking_changes(released, live) == [
        "FIELD_REMOVED: Field Enterprise.legacyCode was removed.",
        "VALUE_REMOVED_FROM_ENUM: Enum value Role.AUDITOR was removed.",
    ]


def _git(*args: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    done = subprocess.run(
        [git, "-C", str(ROOT), *args], capture_output=True, text=True, timeout=30, check=False
    )
    return done.stdout if done.returncode == 0 else None


def _schema_at_merge_base() -> str | None:
    for branch in ("origin/main", "main"):
        base = _git("merge-base", "HEAD", branch)
        if base:
            return _git("show", f"{base.strip()}:schema.graphql")
    return None
