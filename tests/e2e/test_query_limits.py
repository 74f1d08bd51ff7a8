"""Query limits over HTTP: each at its boundary, each refusal naming its limit, all settings."""

from typing import Any

from graphql import get_introspection_query
from sqlalchemy import func, select

from config.limits import QueryLimits
from db.models import LoginFailure
from schema.limits import GRAPHIQL_INTROSPECTION_DEPTH, GRAPHIQL_INTROSPECTION_QUERY
from tests.conftest import MakeApi
from tests.support import ALL_FIELDS, GET, Api, Factory, valid_input

LIMIT_EXCEEDED = "QUERY_LIMIT_EXCEEDED"


def refusal(body: dict[str, Any]) -> dict[str, Any]:
    """The extensions of the one error of a query refused by a limit (it never ran)."""
    assert "data" not in body, body
    [error] = body["errors"]
    extensions: dict[str, Any] = error["extensions"]
    assert extensions["code"] == LIMIT_EXCEEDED, error
    return extensions


def chain(depth: int) -> str:
    """A selection ``depth`` fields deep (of made-up fields: limits are checked first)."""
    inner = "leaf"
    for _ in range(depth - 1):
        inner = f"a {{ {inner} }}"
    return f"{{ {inner} }}"


async def test_depth_ten_passes_the_limit_and_eleven_is_refused(api: Api) -> None:
    ten = await api.post(chain(10))
    assert ten["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # not a limit

    assert refusal(await api.post(chain(11))) == {
        "code": LIMIT_EXCEEDED,
        "limit": "depth",
        "max": 10,
        "found": 11,
    }


async def test_depth_counts_through_fragments(make_api: MakeApi) -> None:
    shallow = await make_api(query_limits=QueryLimits(max_depth=3))
    runs = await shallow.post("{ viewer { enterprise { uscc } } }")
    assert runs["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # it ran

    body = await shallow.post(
        '{ coordination(coordinationNo: "XT1") { ...F } } '
        "fragment F on Coordination { agreement { partners { code } } }"
    )
    assert refusal(body) == {"code": LIMIT_EXCEEDED, "limit": "depth", "max": 3, "found": 4}
    assert body["errors"][0]["message"] == "查询被拒绝：查询深度为4，超过上限3"


async def test_graphiql_introspection_query_runs(api: Api) -> None:
    body = await api.post(GRAPHIQL_INTROSPECTION_QUERY)
    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_the_fullest_introspection_query_graphql_core_builds_runs(api: Api) -> None:
    full = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    assert "errors" not in await api.post(full)


async def test_introspection_one_level_deeper_than_graphiql_is_refused(api: Api) -> None:
    deeper = get_introspection_query(descriptions=True, input_value_deprecation=True, type_depth=10)
    assert refusal(await api.post(deeper)) == {
        "code": LIMIT_EXCEEDED,
        "limit": "introspectionDepth",
        "max": GRAPHIQL_INTROSPECTION_DEPTH,
        "found": GRAPHIQL_INTROSPECTION_DEPTH + 1,
    }


async def test_introspection_depth_does_not_lift_the_depth_of_other_fields(api: Api) -> None:
    body = await api.post("{ __schema { queryType { name } } " + chain(11)[2:])
    assert refusal(body)["limit"] == "depth"


async def test_aliases_at_the_limit_run_and_one_more_is_refused(api: Api) -> None:
    at_limit = " ".join(f"a{i}: __typename" for i in range(15))
    assert "errors" not in await api.post(f"{{ {at_limit} }}")
    assert refusal(await api.post(f"{{ {at_limit} extra: __typename }}"))["limit"] == "aliases"


async def test_aliases_in_a_fragment_count_every_time_it_is_spread(api: Api) -> None:
    fragment = "fragment F on Query { " + " ".join(f"a{i}: __typename" for i in range(4)) + " }"
    four_spreads = "{ ... on Query { ...F } ... on Query { ...F } ...F ...F }"
    assert refusal(await api.post(f"{four_spreads} {fragment}"))["found"] == 16


async def test_sixteen_aliased_logins_are_refused_before_any_runs(
    api: Api, factory: Factory
) -> None:
    logins = " ".join(f'l{i}: login(username: "x", password: "y") {{ token }}' for i in range(16))
    assert refusal(await api.post(f"mutation {{ {logins} }}"))["limit"] == "aliases"
    async with factory.database.reader() as session:
        assert await session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def unused_variables(count: int) -> str:
    """A query of exactly ``4 × count + 8`` tokens."""
    variables = " ".join(f"$v{i}: Int" for i in range(count))
    return f"query({variables}) {{ a: __typename }}"


async def test_2000_tokens_pass_the_limit_and_more_are_refused(api: Api) -> None:
    at_limit = await api.post(unused_variables(498))
    assert at_limit["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    body = await api.post(unused_variables(499))
    assert refusal(body) == {"code": LIMIT_EXCEEDED, "limit": "tokens", "max": 2000}
    assert body["errors"][0]["message"] == "查询被拒绝：查询的词法单元超过2000个"


async def test_directives_at_the_limit_run_and_one_more_is_refused(api: Api) -> None:
    fragment = "fragment F on Query { __typename @include(if: true) }"
    fifty = "{" + " ...F" * 50 + " }"  # a directive counts each time its fragment is spread
    assert "errors" not in await api.post(f"{fifty} {fragment}")
    body = await api.post(f"query @skip(if: false) {fifty} {fragment}")
    assert refusal(body) == {"code": LIMIT_EXCEEDED, "limit": "directives", "max": 50, "found": 51}


async def test_a_field_repeated_beyond_the_limit_is_refused(api: Api) -> None:
    assert "errors" not in await api.post("{" + " __typename" * 10 + "}")
    body = await api.post("{" + " ... on Query { __typename }" * 11 + "}")
    assert refusal(body) == {
        "code": LIMIT_EXCEEDED,
        "limit": "repeatedFields",
        "max": 10,
        "found": 11,
    }


async def test_field_duplication_is_refused_quickly(api: Api) -> None:
    """graphql-cop's field duplication check; 500 copies with a selection each would otherwise
    keep the validator busy for a second."""
    assert refusal(await api.post("query { " + "__typename \n" * 500 + "} "))["found"] == 500
    assert refusal(await api.post("{" + " viewer { username }" * 499 + "}"))["found"] == 499


async def test_a_page_of_100_runs(api: Api, factory: Factory) -> None:
    alice = await factory.enterprise_user()
    data = await api.data(
        "{ countries(first: 100) { code nameZh nameEn } "
        'ports(countryCode: "CHN", first: 100) { code name countryCode isSeaport isAirport } }',
        actor=alice,
    )
    assert len(data["countries"]) == 100
    assert len(data["ports"]) == 100


LIST_PAGE = """
  coordinations(first: 100) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { ...AllFields } }
  }
"""


async def test_a_full_list_page_of_100_fits_and_two_do_not(api: Api, factory: Factory) -> None:
    """The list's largest page with every field of every type fits the cost limit; asking for
    two such pages in one request (a query multiplying pages) does not."""
    alice = await factory.enterprise_user()
    for _ in range(3):
        await api.create(alice, valid_input("RULING_DECLARATION"))
    one = await api.data(ALL_FIELDS + "{" + LIST_PAGE + "}", actor=alice)
    assert one["coordinations"]["totalCount"] == 3
    assert len(one["coordinations"]["edges"]) == 3

    two = await api.post(ALL_FIELDS + "{ a: " + LIST_PAGE + " b: " + LIST_PAGE + "}", actor=alice)
    assert refusal(two)["limit"] == "cost"


async def test_cost_counts_page_sizes_from_variables(make_api: MakeApi, factory: Factory) -> None:
    alice = await factory.enterprise_user()
    cheap = await make_api(query_limits=QueryLimits(max_cost=100))
    query = "query($n: Int!) { countries(first: $n) { code nameZh } }"  # costs 1 + n × 2

    assert "errors" not in await cheap.post(query, {"n": 49}, actor=alice)
    body = await cheap.post(query, {"n": 50}, actor=alice)
    assert refusal(body) == {"code": LIMIT_EXCEEDED, "limit": "cost", "max": 100, "found": 101}
    assert body["errors"][0]["message"] == "查询被拒绝：查询成本为101，超过上限100"


async def test_an_omitted_page_size_costs_its_default(make_api: MakeApi, factory: Factory) -> None:
    alice = await factory.enterprise_user()
    cheap = await make_api(query_limits=QueryLimits(max_cost=41))
    assert "errors" not in await cheap.post("{ countries { code nameZh } }", actor=alice)
    assert refusal(await cheap.post("{ countries { code nameZh nameEn } }"))["found"] == 61


async def test_every_limit_is_a_setting(make_api: MakeApi, factory: Factory) -> None:
    alice = await factory.enterprise_user()
    tight = await make_api(
        query_limits=QueryLimits(
            max_depth=2,
            max_aliases=1,
            max_tokens=30,
            max_directives=1,
            max_cost=3,
            max_repeated_fields=2,
        )
    )
    refused = {
        "{ viewer { enterprise { uscc } } }": "depth",
        "{ a: __typename b: __typename }": "aliases",
        "{ __typename @skip(if: false) __typename @include(if: true) }": "directives",
        "{ countries(first: 3) { code } }": "cost",
        "{ __typename __typename __typename }": "repeatedFields",
        "{" + " __typename" * 30 + " }": "tokens",
    }
    for query, limit in refused.items():
        assert refusal(await tight.post(query, actor=alice))["limit"] == limit, query


async def test_the_get_form_of_a_query_obeys_the_same_limits(api: Api) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(16))
    response = await api.client.get("/graphql", params={"query": f"{{ {aliases} }}"})
    assert refusal(response.json())["limit"] == "aliases"


async def test_the_fullest_request_of_the_test_suite_passes(api: Api, factory: Factory) -> None:
    alice = await factory.enterprise_user()
    assert await api.data(GET, {"no": "XT2026010100000001"}, actor=alice) == {"coordination": None}
