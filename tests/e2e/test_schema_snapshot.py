"""``schema.graphql`` is the committed contract: the code's schema must match it, and a breaking
change against it is reported by name so that it is made on purpose."""

from pathlib import Path

from graphql import build_schema as parse_sdl
from graphql import find_breaking_changes

from schema import build_schema

SNAPSHOT = Path(__file__).parents[2] / "schema.graphql"
HINT = "run `xhsz export-schema > schema.graphql` and commit it"


def test_schema_graphql_matches_the_code() -> None:
    assert build_schema().as_str() + "\n" == SNAPSHOT.read_text(encoding="utf-8"), HINT


def test_the_code_makes_no_breaking_change_against_schema_graphql() -> None:
    committed = parse_sdl(SNAPSHOT.read_text(encoding="utf-8"))
    changes = find_breaking_changes(committed, build_schema()._schema)
    assert [f"{c.type.name}: {c.description}" for c in changes] == [], HINT
