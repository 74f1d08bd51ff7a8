"""The compiled executor gives graphql-core's answers, errors included, on a small schema.

Each document runs on two schemas of the same types, one with the compiled executor and one with
Strawberry's own, and the results must be the same JSON, key order, error messages, locations and
paths included. The types hold the awkward cases: nulls in non-null places, scalars and enums
that cannot be serialized, a self-only resolver that raises, objects of the wrong type, values
that only graphql-core can complete (an async field, an awaitable attribute).
"""

import asyncio
import datetime as dt
import enum
import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any, NewType

import pytest
import strawberry
from graphql import GraphQLError
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionResult

from schema.executor import plan_counts
from schema.executor.strawberry import StrawberryCompiledExecutor


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Shade(enum.Enum):
    DARK = "dark"


strawberry.enum(Color)


def refuse(_value: object) -> str:
    raise ValueError("this value cannot be shown")


Fragile = NewType("Fragile", str)
CONFIG = StrawberryConfig(
    scalar_map={Fragile: strawberry.scalar(name="Fragile", serialize=refuse, parse_value=str)}
)


class Never(BasePermission):
    message = "Not for you."

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Tag:
    label: str
    weight: int | None = None


@strawberry.type
class Item(Named):
    code: str | None = None
    count: int = 0
    color: Color = Color.RED
    colors: list[Color] = strawberry.field(default_factory=list)
    made: dt.datetime = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    fragile: Fragile | None = None
    tag: Tag | None = None
    strict_tag: Tag = strawberry.field(default_factory=lambda: Tag(label="t"))
    tags: list[Tag] = strawberry.field(default_factory=list)
    strict_tags: list[Tag] | None = None
    maybe_tags: list[Tag | None] | None = None
    labels: list[str] | None = None
    secret: str = strawberry.field(default="s", permission_classes=[Never])
    awaited: str = "plain"

    @strawberry.field
    def shout(self) -> str | None:
        if self.name == "boom":
            raise RuntimeError("shout failed")
        return self.name.upper()

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return f"later {self.name}"

    @strawberry.field
    def greet(self, greeting: str = "hi") -> str:
        return f"{greeting} {self.name}"


@strawberry.type
class Box(Named):
    size: int


Thing = Annotated[Item | Box, strawberry.union("Thing")]


@strawberry.type
class Stranger:
    name: str


async def pending(value: str) -> str:
    await asyncio.sleep(0)
    return value


def items() -> list[Item]:
    return [
        Item(name="a", code="A1", count=3, colors=[Color.GREEN, Color.RED], tags=[Tag(label="x")]),
        Item(name="b", tag=Tag(label="y", weight=2), maybe_tags=[Tag(label="z"), None]),
        Item(name="boom", labels=["p", "q"]),
    ]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return items()

    @strawberry.field
    async def later_items(self) -> list[Item]:
        return items()

    @strawberry.field
    def things(self) -> list[Thing]:
        return [*items()[:2], Box(name="box", size=2)]

    @strawberry.field
    def named(self) -> list[Named]:
        return [Box(name="box", size=1), *items()[:1]]

    @strawberry.field
    def broken(self, case: str) -> Item | None:
        item = Item(name="broken")
        changes: dict[str, Callable[[], dict[str, Any]]] = {
            "null_name": lambda: {"name": None},
            "null_strict_tag": lambda: {"strict_tag": None},
            "null_tag_label": lambda: {"tag": Tag(label=None)},  # type: ignore[arg-type]
            "null_in_tags": lambda: {"tags": [Tag(label="ok"), None]},
            "null_in_strict_tags": lambda: {"strict_tags": [None]},
            "huge_count": lambda: {"count": 2**40},
            "float_count": lambda: {"count": 1.5},
            "bad_color": lambda: {"color": "purple"},
            "other_enum": lambda: {"color": Shade.DARK},
            "bad_colors": lambda: {"colors": [Color.RED, "blue"]},
            "fragile": lambda: {"fragile": "glass"},
            "error_value": lambda: {"code": ValueError("an exception as a value")},
            "not_a_list": lambda: {"tags": 42},
            "string_as_list": lambda: {"labels": "pq"},
            "generator": lambda: {"labels": (label for label in ("g", "h"))},
            "stranger_tag": lambda: {"tag": Stranger(name="s")},
            "awaitable": lambda: {"awaited": pending("awaited")},
            "missing_attribute": lambda: {},
            "errors_in_items": lambda: {"maybe_tags": [Tag(label=None), None, Tag(label=None)]},  # type: ignore[arg-type]
            "error_then_null": lambda: {"tag": Tag(label=None), "strict_tag": None},  # type: ignore[arg-type]
        }
        for name, value in changes[case]().items():
            setattr(item, name, value)
        if case == "missing_attribute":
            del item.name
        return item

    @strawberry.field
    def wrong_thing(self) -> Thing | None:
        return Stranger(name="s")  # type: ignore[return-value]

    @strawberry.field
    def wrong_named(self) -> Named | None:
        return Stranger(name="s")  # type: ignore[return-value]

    @strawberry.field
    def required(self) -> Item:
        return Item(name=None)  # type: ignore[arg-type]


TYPES = [Item, Box]
COMPILED = strawberry.Schema(
    Query, types=TYPES, config=CONFIG, execution_context_class=StrawberryCompiledExecutor
)
PLAIN = strawberry.Schema(Query, types=TYPES, config=CONFIG)


def as_json(result: ExecutionResult) -> str:
    errors = [error.formatted for error in result.errors or []]
    return json.dumps({"data": result.data, "errors": errors}, ensure_ascii=False)


async def both(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The result (as JSON) after checking that both executors give the same."""
    compiled = await COMPILED.execute(query, variable_values=variables)
    plain = await PLAIN.execute(query, variable_values=variables)
    assert as_json(compiled) == as_json(plain)
    found: dict[str, Any] = json.loads(as_json(compiled))
    return found


@pytest.fixture(autouse=True)
def quiet_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Strawberry logs every field error; these tests make them on purpose."""
    with caplog.at_level("CRITICAL", logger="strawberry.execution"):
        yield


ITEM_FIELDS = """
fragment F on Item {
  __typename name code count color colors made tag { label weight } strictTag { label }
  tags { label } strictTags { label } maybeTags { label } labels shout awaited
}
"""


async def test_plain_fields_aliases_fragments_and_typename_are_graphql_cores() -> None:
    found = await both(
        """
        query($skip: Boolean!, $keep: Boolean!) {
          items {
            ...F
            renamed: name
            count @skip(if: $skip)
            code @include(if: $keep)
            ... on Named { name n2: name }
            ... @include(if: $skip) { tags { label } }
            tags { weight }
          }
          things { __typename ... on Box { size name } ...F ... on Named { name } }
          named { name ... on Item { colors } __typename }
        }
        """
        + ITEM_FIELDS,
        {"skip": False, "keep": True},
    )
    assert found["errors"][0]["message"] == "shout failed"
    assert found["errors"][0]["path"] == ["items", 2, "shout"]
    assert list(found["data"]["items"][0])[:4] == ["__typename", "name", "code", "count"]
    assert found["data"]["things"][2] == {"__typename": "Box", "size": 2, "name": "box"}


async def test_skip_and_include_outcomes_each_have_their_plan() -> None:
    query = "query($a: Boolean!) { items { name @skip(if: $a) count @include(if: $a) } }"
    assert (await both(query, {"a": True}))["data"]["items"][0] == {"count": 3}
    assert (await both(query, {"a": False}))["data"]["items"][0] == {"name": "a"}


CASES: dict[str, str | list[str] | None] = {
    "null_name": "Cannot return null for non-nullable field Item.name.",
    "null_strict_tag": "Cannot return null for non-nullable field Item.strictTag.",
    "null_tag_label": "Cannot return null for non-nullable field Tag.label.",
    "null_in_tags": "Cannot return null for non-nullable field Item.tags.",
    "null_in_strict_tags": "Cannot return null for non-nullable field Item.strictTags.",
    "huge_count": "Int cannot represent non 32-bit signed integer value: 1099511627776",
    "float_count": "Int cannot represent non-integer value: 1.5",
    "bad_color": "Enum 'Color' cannot represent value: 'purple'",
    "other_enum": "Enum 'Color' cannot represent value: <Shade instance>",
    "bad_colors": "Enum 'Color' cannot represent value: 'blue'",
    "fragile": "this value cannot be shown",
    "error_value": "an exception as a value",
    "not_a_list": "Expected Iterable, but did not find one for field 'Item.tags'.",
    "string_as_list": "Expected Iterable, but did not find one for field 'Item.labels'.",
    "generator": None,
    "stranger_tag": "'Stranger' object has no attribute 'label'",
    "awaitable": None,
    "missing_attribute": "'Item' object has no attribute 'name'",
    "errors_in_items": ["Cannot return null for non-nullable field Tag.label."] * 2,
    "error_then_null": [
        "Cannot return null for non-nullable field Tag.label.",
        "Cannot return null for non-nullable field Item.strictTag.",
    ],
}


@pytest.mark.parametrize("case", CASES)
async def test_errors_nulls_and_paths_are_graphql_cores(case: str) -> None:
    query = "query($case: String!) { broken(case: $case) { ...F fragile } }" + ITEM_FIELDS
    found = await both(query, {"case": case})
    expected = CASES[case]
    messages = [error["message"] for error in found["errors"]]
    assert messages == (expected if isinstance(expected, list) else [expected] if expected else [])


async def test_null_in_a_non_null_root_nulls_the_data() -> None:
    found = await both("{ required { name } items { name } }")
    assert found["data"] is None
    assert found["errors"][0]["path"] == ["required", "name"]


async def test_objects_of_no_member_type_fail_as_strawberry_says() -> None:
    found = await both("{ wrongThing { __typename } wrongNamed { name } items { name } }")
    assert [error["path"] for error in found["errors"]] == [["wrongThing"], ["wrongNamed"]]


async def test_fields_that_are_not_plain_data_are_left_to_graphql_core() -> None:
    found = await both('{ laterItems { later secret greet(greeting: "yo") name } }')
    assert found["data"] is None
    assert found["errors"][0]["message"] == "Not for you."


async def test_plain_subtrees_get_plans_and_the_others_none() -> None:
    await both("{ items { name tags { label } } }")
    await both("{ laterItems { name later } }")
    planned, left = plan_counts(COMPILED._schema)
    assert planned >= 1
    assert left >= 1
    assert plan_counts(PLAIN._schema) == (0, 0)


def test_an_error_raised_by_a_plan_is_located_as_graphql_core_locates_it() -> None:
    query = '{ broken(case: "null_tag_label") { tag { label } } }'
    error = (COMPILED.execute_sync(query).errors or [])[0]
    assert isinstance(error, GraphQLError)
    assert error.path == ["broken", "tag", "label"]
    assert error.locations is not None
    assert [(at.line, at.column) for at in error.locations] == [(1, query.rindex("label") + 1)]
