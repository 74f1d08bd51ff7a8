"""The cost and shape rules, on a small schema around the real coordinations connection
(``schema.listing``) with a folder type that nests one connection in another.
"""

import sys
from types import FrameType

import pytest
import strawberry
from graphql import GraphQLError, parse, validate

from config.limits import QueryLimits
from schema import limits, types
from schema.costs import Costs, page_variables
from schema.limits import operation_cost, shape_refusals
from schema.listing import CoordinationConnection
from tests.support import ALL_FIELDS

LIMITS = QueryLimits()


@strawberry.type
class Folder:
    name: str

    @strawberry.field
    def coordinations(
        self, first: int | None = None, last: int | None = None
    ) -> CoordinationConnection:
        raise NotImplementedError


@strawberry.type
class Query:
    @strawberry.field
    def coordinations(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CoordinationConnection:
        raise NotImplementedError

    @strawberry.field
    def folders(self, first: int = 20) -> list[Folder]:
        raise NotImplementedError


SCHEMA = strawberry.Schema(
    Query,
    types=[
        types.CustomsCertificateRequest,
        types.ApprovedExporterDeclarationRequest,
        types.RulingDeclarationRequest,
        types.CcpitCertificateRequest,
    ],
)._schema

PAGE = """
query($first: Int, $last: Int) {
  coordinations(first: $first, last: $last) {
    edges { cursor node { ...AllFields } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}
"""


def cost(query: str, variables: dict[str, object] | None = None) -> int:
    """The cost of a valid query (the cost is only ever computed for valid ones)."""
    document = parse(query)
    assert validate(SCHEMA, document) == []
    return operation_cost(SCHEMA, document, None, variables)


def test_a_page_of_100_requests_with_every_field_and_nested_list_fits() -> None:
    page = cost(ALL_FIELDS + PAGE, {"first": 100})
    assert page - 1 == 100 * (cost(ALL_FIELDS + PAGE, {"first": 1}) - 1)
    assert page <= LIMITS.max_cost


def test_a_page_costs_its_size_times_what_each_item_selects() -> None:
    one = cost("query { coordinations(first: 1) { nodes { __typename } } }")
    hundred = cost("query { coordinations(first: 100) { nodes { __typename } } }")
    assert (one, hundred) == (1 + 1 * 2, 1 + 100 * 2)


def test_last_counts_like_first_and_the_larger_of_both_wins() -> None:
    assert cost(PAGE.replace("...AllFields", "__typename"), {"last": 50}) == cost(
        PAGE.replace("...AllFields", "__typename"), {"first": 50}
    )
    assert cost("{ coordinations(first: 5, last: 60) { nodes { __typename } } }") == 1 + 60 * 2


def test_a_missing_page_size_costs_the_default_of_20() -> None:
    assert cost("{ coordinations { nodes { __typename } } }") == 1 + 20 * 2
    assert cost("{ coordinations(first: null) { nodes { __typename } } }") == 1 + 20 * 2


def test_a_variable_without_a_value_takes_its_default_in_the_operation() -> None:
    query = "query($n: Int = 7) { coordinations(first: $n) { nodes { __typename } } }"
    assert cost(query) == 1 + 7 * 2
    assert cost(query, {"n": 9}) == 1 + 9 * 2


def test_a_malformed_page_size_costs_the_default_and_execution_refuses_it() -> None:
    query = "query($n: Int) { coordinations(first: $n) { nodes { __typename } } }"
    assert cost(query, {"n": "lots"}) == cost(query, {"n": -5}) == 1 + 20 * 2


def test_pages_within_pages_multiply_and_are_refused() -> None:
    nested = "{ folders(first: 100) { coordinations(first: 100) { nodes { __typename } } } }"
    assert cost(nested) == 1 + 100 * (1 + 100 * 2)
    assert cost(nested) > LIMITS.max_cost

    full_pages = "{ folders(first: 10) { coordinations(first: 100) { nodes { ...AllFields } } } }"
    assert cost(ALL_FIELDS + full_pages) > LIMITS.max_cost


def test_two_full_pages_in_one_request_do_not_fit() -> None:
    twice = """
    query {
      a: coordinations(first: 100) { nodes { ...AllFields } }
      b: coordinations(first: 100) { nodes { ...AllFields } }
    }
    """
    single = cost(ALL_FIELDS + "{ coordinations(first: 100) { nodes { ...AllFields } } }")
    assert single <= LIMITS.max_cost < cost(ALL_FIELDS + twice) == 2 * single


def test_a_fragment_costs_as_much_as_its_fields_inline() -> None:
    inline = cost("{ coordinations(first: 10) { nodes { ... on Coordination { id version } } } }")
    spread = cost(
        "{ coordinations(first: 10) { nodes { ...F } } } fragment F on Coordination { id version }"
    )
    assert inline == spread == 1 + 10 * (1 + 2)


def test_introspection_and_typename_cost_one_per_field() -> None:
    assert cost("{ __typename __schema { queryType { name } } }") == 1 + 1 + 1 + 1


def exponential_fragments(levels: int) -> str:
    """Each fragment spreads the next one twice: 2**levels fields if expanded naively."""
    fragments = [
        f"fragment F{i} on Query {{ ...F{i + 1} ... on Query {{ ...F{i + 1} }} }}"
        for i in range(levels)
    ]
    fragments.append(f"fragment F{levels} on Query {{ __typename }}")
    return "{ ...F0 } " + " ".join(fragments)


def measuring_steps(levels: int) -> tuple[int, int, list[GraphQLError]]:
    """The calls of functions of schema/limits.py made while pricing and shaping
    ``exponential_fragments(levels)`` (steps counted rather than seconds: the same on any machine
    under any load; calls elsewhere, such as finalizers run by a garbage collection, are left
    out), the cost and the shape refusals."""
    document = parse(exponential_fragments(levels), max_tokens=10_000)
    calls = 0

    def count(frame: FrameType, event: str, _argument: object) -> None:
        nonlocal calls
        calls += event == "call" and frame.f_code.co_filename == limits.__file__

    sys.setprofile(count)
    try:
        cost = operation_cost(SCHEMA, document, None, {})
        refusals = shape_refusals(document, LIMITS)
    finally:
        sys.setprofile(None)
    return calls, cost, refusals


def test_measuring_fragments_that_double_each_other_takes_linear_time() -> None:
    eight, _, _ = measuring_steps(8)
    sixteen, _, _ = measuring_steps(16)
    assert sixteen < 2 * eight, "8 more levels add a fixed number of steps, they do not double"
    per_level = (sixteen - eight) // 8
    sixty, cost, refusals = measuring_steps(60)
    assert sixty == eight + 52 * per_level
    assert cost == 2**60
    assert refusals == []


def test_cyclic_and_unknown_fragments_do_not_hang_the_measures() -> None:
    document = parse(
        "{ ...A ...Missing } fragment A on Query { ...B } fragment B on Query { ...A }"
    )
    assert shape_refusals(document, LIMITS) == []
    assert operation_cost(SCHEMA, document, None, {}) == 0


@pytest.mark.parametrize(
    ("query", "limit"),
    [
        ("{ a: __typename b: __typename }", "aliases"),
        ("{ __typename @skip(if: false) }", "directives"),
        ("{ a { b } }", "depth"),
        ("{ __typename __typename }", "repeatedFields"),
    ],
)
def test_shape_refusals_name_their_limit(query: str, limit: str) -> None:
    tight = QueryLimits(max_depth=1, max_aliases=1, max_directives=0, max_repeated_fields=1)
    [refusal] = shape_refusals(parse(query), tight)
    assert refusal.extensions is not None
    assert refusal.extensions["limit"] == limit


NESTED = """
query($outer: Int, $inner: Int, $after: String, $unused: Int) {
  folders(first: $outer) { coordinations(first: $inner) { edges { cursor } } }
  coordinations(after: $after) { edges { cursor } }
}
"""


def test_only_the_page_size_variables_are_part_of_a_remembered_cost() -> None:
    assert page_variables(parse(NESTED)) == ("inner", "outer")
    assert page_variables(parse(ALL_FIELDS + PAGE)) == ("first", "last")


@pytest.mark.parametrize(
    "variables",
    [
        {"outer": 3, "inner": 7},
        {"outer": 3, "inner": 7, "after": "x", "unused": 1},
        {"outer": 7, "inner": 3},
        {"outer": True, "inner": 7},  # equal to 1 in Python, not a page size here
        {"outer": 1, "inner": 7},
        {"outer": 1.0, "inner": 7},
        {"outer": [1], "inner": 7},  # not a scalar: priced afresh
        {"outer": None},
        {},
    ],
)
def test_a_remembered_cost_is_the_cost(variables: dict[str, object]) -> None:
    remembered = Costs(size=4)
    document = parse(NESTED)
    others = [{"outer": 2, "inner": 2}, {"outer": True}, {"outer": 1}, {"outer": 1.0}]
    for earlier in others:  # fill the memory with neighbours that must not be confused
        remembered.cost(SCHEMA, document, None, earlier)
    for _ in range(2):
        assert remembered.cost(SCHEMA, document, None, variables) == operation_cost(
            SCHEMA, document, None, variables
        )
