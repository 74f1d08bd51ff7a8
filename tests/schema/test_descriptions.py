"""The contract documents itself: every type, field, argument, input field and enum value of the
schema has a description with the Chinese term and an English explanation (SPEC §9), and an enum
value that retires is deprecated with a reason, never removed."""

import enum
import re
from collections.abc import Iterator

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    specified_scalar_types,
)

from schema import build_schema
from schema.enums import described_enum

CJK = re.compile(r"[\u3400-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def described_elements(schema: GraphQLSchema) -> Iterator[tuple[str, str | None]]:
    """(coordinate, description) of every type, field, argument, input field and enum value we
    define (introspection types and GraphQL's own scalars are the spec's)."""
    for name, type_ in sorted(schema.type_map.items()):
        if name.startswith("__") or name in specified_scalar_types:
            continue
        yield name, type_.description
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                yield f"{name}.{field_name}", field.description
                for arg_name, arg in field.args.items():
                    yield f"{name}.{field_name}({arg_name}:)", arg.description
        elif isinstance(type_, GraphQLInputObjectType):
            for field_name, input_field in type_.fields.items():
                yield f"{name}.{field_name}", input_field.description
        elif isinstance(type_, GraphQLEnumType):
            for value_name, value in type_.values.items():
                yield f"{name}.{value_name}", value.description


def undocumented(schema: GraphQLSchema) -> list[str]:
    problems = []
    for coordinate, description in described_elements(schema):
        text = (description or "").strip()
        if not text:
            problems.append(f"{coordinate}: no description")
        elif not CJK.search(text):
            problems.append(f"{coordinate}: no Chinese term in {text!r}")
        elif not LATIN_WORD.search(text):
            problems.append(f"{coordinate}: no English explanation in {text!r}")
    return problems


def test_every_element_of_the_schema_is_described_in_chinese_and_english() -> None:
    schema = build_schema()._schema
    elements = list(described_elements(schema))
    # The walk reaches every kind of element (it would pass vacuously otherwise).
    assert any("(" in coordinate for coordinate, _ in elements)  # arguments
    assert any(c.startswith("ErrorCode.") for c, _ in elements)  # enum values
    assert any(c.startswith("SaveCoordinationInput.") for c, _ in elements)  # input fields
    assert {"Query", "Mutation", "CoordinationRequest", "DateTime", "Upload"} <= {
        c for c, _ in elements
    }
    assert undocumented(schema) == []


def test_the_walk_reports_what_is_missing() -> None:
    @strawberry.type
    class Bare:
        plain: str
        english: str = strawberry.field(description="Only English here.")
        chinese: str = strawberry.field(description="只有中文")

    @strawberry.type(description="查询: the root.")
    class Root:
        @strawberry.field(description="裸: a bare object.")
        def bare(self, size: int = 1) -> Bare:
            return Bare(plain="", english="", chinese="")

    assert undocumented(strawberry.Schema(query=Root)._schema) == [
        "Bare: no description",
        "Bare.plain: no description",
        "Bare.english: no Chinese term in 'Only English here.'",
        "Bare.chinese: no English explanation in '只有中文'",
        "Root.bare(size:): no description",
    ]


def test_a_retired_enum_value_is_deprecated_with_its_reason() -> None:
    class Colour(enum.Enum):
        RED = "RED"
        MAUVE = "MAUVE"

    described_enum(
        Colour,
        name="Colour",
        description="颜色: a colour.",
        values={Colour.RED: "红: red.", Colour.MAUVE: "紫红: mauve."},
        deprecated={Colour.MAUVE: "不再使用: use RED."},
    )

    @strawberry.type(description="查询: the root.")
    class Root:
        colour: Colour = strawberry.field(default=Colour.RED, description="颜色: a colour.")

    sdl = strawberry.Schema(query=Root).as_str()
    assert '"""紫红: mauve."""\n  MAUVE @deprecated(reason: "不再使用: use RED.")' in sdl
    assert '"""红: red."""\n  RED\n' in sdl


def test_an_enum_member_without_a_description_is_refused() -> None:
    class Shape(enum.Enum):
        ROUND = "ROUND"
        SQUARE = "SQUARE"

    with pytest.raises(ValueError, match=r"^Shape: no description for ROUND, SQUARE$"):
        described_enum(Shape, name="Shape", description="形状: a shape.", values={})
