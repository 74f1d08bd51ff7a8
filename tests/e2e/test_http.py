"""GraphQL over HTTP: content types, methods, media types, malformed bodies, batching, headers."""

import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from db.models import LoginFailure
from tests.conftest import MakeApi
from tests.support import Factory

GQL_RESPONSE = "application/graphql-response+json"
TYPENAME = {"query": "{ __typename }"}


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert "data" not in body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/graphql",
        "application/json; charset=latin-1",
        "",
    ],
)
async def test_post_bodies_other_than_json_are_415(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        "/graphql", content=json.dumps(TYPENAME), headers={"Content-Type": content_type}
    )
    assert response.status_code == 415
    assert error_code(response) == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=UTF-8"])
async def test_json_bodies_are_accepted(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.post(
        "/graphql", content=json.dumps(TYPENAME), headers={"Content-Type": content_type}
    )
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_mutation_over_get_is_405_and_runs_nothing(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.enterprise_user(username="alice")
    query = 'mutation { login(username: "alice", password: "wrong") { token } }'
    response = await client.get("/graphql", params={"query": query})

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["errors"][0]["message"] == "变更操作只接受POST请求"
    async with factory.database.reader() as session:
        assert await session.scalar(select(func.count()).select_from(LoginFailure)) == 0


async def test_queries_run_over_get(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
async def test_other_methods_are_405_with_a_json_error(
    client: httpx.AsyncClient, method: str
) -> None:
    response = await client.request(method, "/graphql", json=TYPENAME)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "errors": [
            {
                "message": "GraphQL只支持GET和POST请求",
                "extensions": {"code": "METHOD_NOT_ALLOWED"},
            }
        ]
    }


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GQL_RESPONSE, GQL_RESPONSE),
        (f"{GQL_RESPONSE}, application/json;q=0.9", GQL_RESPONSE),
        (f"application/json, {GQL_RESPONSE}", GQL_RESPONSE),
        (f"{GQL_RESPONSE};q=0.5, application/json", "application/json"),
    ],
)
async def test_the_response_media_type_follows_accept(
    client: httpx.AsyncClient, accept: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = await client.post("/graphql", json=TYPENAME, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{expected}; charset=utf-8"


async def test_with_graphql_response_json_a_request_that_cannot_run_is_400(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Accept": GQL_RESPONSE}
    invalid = await client.post("/graphql", json={"query": "{ nope }"}, headers=headers)
    assert invalid.status_code == 400
    assert error_code(invalid) == "GRAPHQL_VALIDATION_FAILED"

    syntax = await client.post("/graphql", json={"query": "{"}, headers=headers)
    assert (syntax.status_code, error_code(syntax)) == (400, "GRAPHQL_PARSE_FAILED")

    ran = await client.post("/graphql", json={"query": "{ viewer { username } }"}, headers=headers)
    assert ran.status_code == 200, "a field error is a GraphQL result"
    assert ran.json()["data"] is None


async def test_with_plain_json_every_graphql_result_is_200(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ nope }"})
    assert response.status_code == 200
    assert error_code(response) == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"query": "\xff"}',
        b"[" * 100_000,
        b"5",
        b'"{ __typename }"',
        b"null",
        b'{"query": ["{ __typename }"]}',
        b'{"query": "{ __typename }", "variables": [1]}',
        b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}",
    ],
    ids=[
        "truncated",
        "not-utf8",
        "deep",
        "number",
        "string",
        "null",
        "query-list",
        "vars-list",
        "huge-number",
    ],
)
async def test_malformed_bodies_are_400_with_a_json_error(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_code(response) == "BAD_REQUEST"


async def test_a_request_that_fails_before_execution_has_no_data(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.post("/graphql", json={"query": "{ __typename nope }"})).json()
    assert set(body) == {"errors"}


async def test_batching_is_off_by_default(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=[TYPENAME])
    assert (response.status_code, error_code(response)) == (400, "BAD_REQUEST")


async def test_batching_can_be_turned_on_with_a_cap(make_api: MakeApi) -> None:
    batching = await make_api(max_batch_operations=3)
    response = await batching.client.post("/graphql", json=[TYPENAME] * 3)
    assert response.json() == [{"data": {"__typename": "Query"}}] * 3

    too_many = await batching.client.post("/graphql", json=[TYPENAME] * 4)
    assert (too_many.status_code, error_code(too_many)) == (400, "BAD_REQUEST")
    assert too_many.json()["errors"][0]["message"] == "批量请求中的操作过多"


API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def assert_security_headers(response: httpx.Response, policy: str = API_POLICY) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert headers["content-security-policy"] == policy
    assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"])


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/graphql", {"json": TYPENAME}),
        ("GET", "/graphql", {"params": TYPENAME}),
        ("POST", "/graphql", {"json": {"query": "{ nope }"}}),
        ("POST", "/graphql", {"data": TYPENAME}),
        ("GET", "/graphql", {"params": {"query": "mutation { __typename }"}}),
        ("PUT", "/graphql", {"json": TYPENAME}),
        ("GET", "/healthz", {}),
        ("GET", "/nowhere", {}),
    ],
)
async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    assert_security_headers(await client.request(method, path, **kwargs))


async def test_every_request_gets_its_own_id(client: httpx.AsyncClient) -> None:
    ids = {(await client.post("/graphql", json=TYPENAME)).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


async def test_a_host_header_that_is_no_host_stays_out_of_the_graphiql_policy(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql", headers={"Accept": "text/html", "Host": "evil; script-src *"}
    )
    assert "connect-src 'self';" in response.headers["content-security-policy"]
    assert "evil" not in response.headers["content-security-policy"]


async def test_the_graphiql_page_has_a_policy_it_works_under(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    html = response.text
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )

    assert re.findall(r"<script>(.*?)</script>", html, re.DOTALL) == [], "no inline script"
    assert policy["script-src"] == "'self'"
    scripts = re.findall(r'src="([^"]+)"', html)
    styles = re.findall(r'rel="stylesheet"\s+href="([^"]+)"', html)
    assert scripts
    assert styles
    assert all(url.startswith("/graphiql/") for url in [*scripts, *styles]), "served by the app"
    assert policy["default-src"] == "'none'"
    host = client.base_url.netloc.decode()
    assert policy["connect-src"] == f"'self' ws://{host}", "its subscriptions' WebSocket too"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
