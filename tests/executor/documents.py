"""Hypothesis strategy for GraphQL documents over the app's real schema, below the three roots the
compiled executor serves: ``coordinations``, ``node`` and ``coordination``.

A document draws, recursively from the schema's own types: fields (some aliased, some repeated),
``__typename``, inline fragments (with and without a type condition) and named fragments on every
type a value may have (the union's members, the ``Node`` and ``Coordination`` interfaces),
``@skip``/``@include`` with literals and with variables, and nested lists. Every document drawn is
valid (fragments only where their type can apply, aliases only ever name one field): the test
checks that none is refused.
"""

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLCompositeType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_abstract_type,
    is_composite_type,
    is_object_type,
)
from hypothesis import strategies as st

from schema import build_schema

SCHEMA: GraphQLSchema = build_schema()._schema
MAX_DEPTH = 4
VARIABLES = ("a", "b", "c")
# Type conditions a fragment may name: every composite type below the roots.
CONDITIONS = (
    "CoordinationRequest",
    "Coordination",
    "Node",
    "CustomsCertificateRequest",
    "ApprovedExporterDeclarationRequest",
    "RulingDeclarationRequest",
    "CcpitCertificateRequest",
    "Attachment",
)


@dataclass(frozen=True)
class Case:
    query: str
    variables: dict[str, bool]


@dataclass
class _Writer:
    draw: Any
    values: dict[str, bool]
    used: set[str] = field(default_factory=set)
    fragments: list[str] = field(default_factory=list)

    def directives(self) -> str:
        name = self.draw(st.sampled_from(("", "", "", "skip", "include")))
        if not name:
            return ""
        condition = self.draw(st.sampled_from(("true", "false", *VARIABLES)))
        if condition in VARIABLES:
            self.used.add(condition)
            condition = f"${condition}"
        return f" @{name}(if: {condition})"

    def selection_set(self, type_: GraphQLCompositeType, depth: int) -> str:
        count = self.draw(st.integers(1, 3))
        return "{ " + " ".join(self.selection(type_, depth) for _ in range(count)) + " }"

    def selection(self, type_: GraphQLCompositeType, depth: int) -> str:
        kinds = ["typename", "inline", "spread"]
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            kinds += ["field"] * 4
        kind = self.draw(st.sampled_from(kinds)) if depth < MAX_DEPTH else "typename"
        if kind == "typename":
            alias = self.draw(st.sampled_from(("", "", "kind: ")))
            return f"{alias}__typename{self.directives()}"
        if kind == "field":
            return self.field(type_, depth)
        condition = self.draw(st.sampled_from([None, *self.conditions(type_)]))
        on = SCHEMA.type_map[condition] if condition else type_
        assert is_composite_type(on)
        body = self.selection_set(on, depth + 1)
        if kind == "inline" or condition is None:
            prefix = f"... on {condition}" if condition else "..."
            return f"{prefix}{self.directives()} {body}"
        name = f"F{len(self.fragments)}"
        self.fragments.append(f"fragment {name} on {condition} {body}")
        return f"...{name}{self.directives()}"

    def field(self, type_: GraphQLCompositeType, depth: int) -> str:
        fields = getattr(type_, "fields", {})
        name = self.draw(st.sampled_from(sorted(fields)))
        alias = self.draw(st.sampled_from(("", "", "", f"{name}1: ", f"{name}2: ")))
        named = get_named_type(fields[name].type)
        text = f"{alias}{name}{self.directives()}"
        if is_composite_type(named):
            text += " " + self.selection_set(named, depth + 1)
        return text

    @staticmethod
    def conditions(type_: GraphQLCompositeType) -> list[str]:
        """The type conditions that can apply to a value of ``type_``."""
        possible = set(SCHEMA.get_possible_types(type_)) if is_abstract_type(type_) else {type_}
        found = []
        for name in CONDITIONS:
            condition = SCHEMA.type_map[name]
            if is_object_type(condition):
                if condition in possible:
                    found.append(name)
            elif possible & set(SCHEMA.get_possible_types(condition)):  # type: ignore[arg-type]
                found.append(name)
        return found


@st.composite
def documents(draw: Any, ids: list[str], numbers: list[str]) -> Case:
    """A valid query with one or two root fields, and the variables it uses."""
    writer = _Writer(draw, {name: draw(st.booleans()) for name in VARIABLES})
    roots = []
    for index in range(draw(st.integers(1, 2))):
        root = draw(st.sampled_from(("coordinations", "node", "coordination", "coordination_no")))
        if root == "coordinations":
            first = draw(st.sampled_from((1, 3, 20, 100)))
            order = draw(st.sampled_from(("", ", orderBy: {field: CREATED_AT, direction: ASC}")))
            call = f"coordinations(first: {first}{order})"
            type_name = "CoordinationConnection"
        elif root == "node":
            call, type_name = f'node(id: "{draw(st.sampled_from(ids))}")', "Node"
        elif root == "coordination":
            call, type_name = (
                f'coordination(id: "{draw(st.sampled_from(ids))}")',
                "CoordinationRequest",
            )
        else:
            number = draw(st.sampled_from(numbers))
            call, type_name = f'coordination(coordinationNo: "{number}")', "CoordinationRequest"
        type_ = SCHEMA.type_map[type_name]
        assert is_composite_type(type_)
        roots.append(f"r{index}: {call}{writer.directives()} {writer.selection_set(type_, 1)}")
    declared = ", ".join(f"${name}: Boolean!" for name in sorted(writer.used))
    query = "query" + (f"({declared})" if declared else "") + " { " + " ".join(roots) + " }"
    query = "\n".join([query, *writer.fragments])
    return Case(query, {name: writer.values[name] for name in sorted(writer.used)})
