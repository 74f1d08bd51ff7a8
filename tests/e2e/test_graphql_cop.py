"""graphql-cop's checks, one test each, sending graphql-cop's own requests: every one is refused.

graphql-cop (https://github.com/dolevf/graphql-cop) flags a server when the request succeeds (or,
for directive overloading, when it answers with one error per directive). The closing note of the
hardening issue lists these with their results.
"""

import json

import httpx
import pytest

from tests.conftest import MakeApi
from tests.support import Api

LIMIT_EXCEEDED = "QUERY_LIMIT_EXCEEDED"


async def test_alias_overloading_with_101_aliases_is_refused(client: httpx.AsyncClient) -> None:
    aliases = "".join(f"alias{i}:__typename \n" for i in range(101))
    response = await client.post("/graphql", json={"query": "query { " + aliases + " }"})

    body = response.json()
    assert "data" not in body
    assert body["errors"] == [
        {
            "message": "查询被拒绝：别名数为101，超过上限15",
            "extensions": {"code": LIMIT_EXCEEDED, "limit": "aliases", "max": 15, "found": 101},
        }
    ]


async def test_array_batching_of_10_queries_is_refused(client: httpx.AsyncClient) -> None:
    batch = [{"query": "query { __typename }"} for _ in range(11)]  # graphql-cop sends 10 + 1
    response = await client.post("/graphql", json=batch)

    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": "未启用批量请求", "extensions": {"code": "BAD_REQUEST"}}]
    }


async def test_directive_overloading_is_refused_with_one_error(client: httpx.AsyncClient) -> None:
    query = "query { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }"
    body = (await client.post("/graphql", json={"query": query})).json()

    assert "data" not in body
    [error] = body["errors"]  # graphql-cop flags exactly 10 errors: one per duplicated directive
    assert error["message"] == "Unknown directive '@aa'."
    assert len(error["locations"]) == 10


async def test_many_valid_directives_are_refused_by_the_directive_limit(
    client: httpx.AsyncClient,
) -> None:
    query = "query { " + " ".join(["__typename @include(if: true)"] * 51) + " }"
    body = (await client.post("/graphql", json={"query": query})).json()

    assert body["errors"][0]["extensions"] == {
        "code": LIMIT_EXCEEDED,
        "limit": "directives",
        "max": 50,
        "found": 51,
    }


async def test_circular_introspection_is_refused(client: httpx.AsyncClient) -> None:
    query = (
        "query { __schema { types { fields { type { fields { type { fields { type { fields "
        "{ type { name } } } } } } } } } } }"
    )
    body = (await client.post("/graphql", json={"query": query})).json()

    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": LIMIT_EXCEEDED,
        "limit": "circularIntrospection",
        "max": 2,
    }
    assert "循环内省查询" in error["message"]


async def test_field_suggestions_are_off_when_introspection_is_off(make_api: MakeApi) -> None:
    production = await make_api(introspection=False)
    body = await production.post("query { __schema { directive } }")

    assert "data" not in body
    assert "Did you mean" not in json.dumps(body)
    assert [e["message"] for e in body["errors"]] == [
        "GraphQL introspection has been disabled, but the requested query contained the field "
        "'__schema'.",
        "Cannot query field 'directive' on type '__Schema'.",
    ]


async def test_mutations_over_get_are_refused_with_405(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation {__typename}"})

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_queries_over_get_are_refused_where_disabled(make_api: MakeApi) -> None:
    post_only = await make_api(graphql_get=False)
    response = await post_only.client.get("/graphql", params={"query": "{__typename}"})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "data" not in response.json()


async def test_url_encoded_post_is_refused(client: httpx.AsyncClient) -> None:
    for request in (
        client.post("/graphql", data={"query": "query {__typename}"}),
        client.post("/graphql", params={"query": "query {__typename}"}),  # graphql-cop's form
    ):
        response = await request
        assert response.status_code == 415
        assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("query", ["query { __typename }", "query { viewer { username } }"])
async def test_no_trace_or_debug_output(api: Api, query: str) -> None:
    response = await api.client.post("/graphql?debug=1&trace=1", json={"query": query})

    body = response.json()
    assert "extensions" not in body
    assert all(set(e.get("extensions", {})) <= {"code"} for e in body.get("errors", []))
    text = response.text.lower()
    assert not any(word in text for word in ("tracing", "stacktrace", "exception", "traceback"))


async def test_unhandled_error_detection_leaks_nothing(client: httpx.AsyncClient) -> None:
    body = (await client.post("/graphql", json={"query": "qwerty cop { abc }"})).json()

    assert body == {
        "errors": [
            {
                "message": "Syntax Error: Unexpected Name 'qwerty'.",
                "locations": [{"line": 1, "column": 1}],
                "extensions": {"code": "GRAPHQL_PARSE_FAILED"},
            }
        ]
    }


async def test_introspection_and_graphiql_are_off_in_production_settings(
    make_api: MakeApi,
) -> None:
    production = await make_api(introspection=False, graphiql=False)
    body = await production.post("query { __schema { types { name } } }")
    assert "data" not in body
    assert body["errors"][0]["message"].startswith("GraphQL introspection has been disabled")

    ide = await production.client.get("/graphql", headers={"Accept": "text/html"})
    assert ide.status_code == 404
    assert "graphiql" not in ide.text.lower()
