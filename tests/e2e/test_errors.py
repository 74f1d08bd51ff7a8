"""Errors: unexpected ones are masked with a request id and logged with their stack; suggestions
are hidden when introspection is off."""

import base64
import json
import logging

import httpx
import pytest

from api.graphql import GraphQLEndpoint
from db import reference
from schema import costs
from tests.conftest import MakeApi
from tests.support import Actor, Api, Factory

SECRET_DETAIL = "SELECT password_hash FROM users -- /srv/xhsz/db/reference/__init__.py"


def boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError(SECRET_DETAIL)


def assert_nothing_leaks(response: httpx.Response) -> None:
    text = response.text
    for secret in ("SELECT", "password_hash", "/srv/", "Traceback", "RuntimeError", ".py"):
        assert secret not in text


def unexpected_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "xhsz.errors" and r.levelno == logging.ERROR]


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


async def test_an_exception_in_a_resolver_is_masked_with_the_request_id(
    api: Api, alice: Actor, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(reference, "agreements", boom)
    response = await api.client.post(
        "/graphql",
        json={"query": "{ viewer { username } tradeAgreements { code } }"},
        headers={"Authorization": f"Bearer {alice.token}"},
    )

    request_id = response.headers["x-request-id"]
    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "服务器内部错误，请将请求编号告知管理员",
                "locations": [{"line": 1, "column": 23}],
                "path": ["tradeAgreements"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ],
    }
    assert_nothing_leaks(response)
    [record] = unexpected_logs(caplog)
    assert request_id in record.getMessage()
    assert "tradeAgreements" in record.getMessage()
    assert record.exc_info is not None
    assert SECRET_DETAIL in str(record.exc_info[1])


async def test_an_exception_in_the_query_checks_is_masked_too(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(costs, "operation_cost", boom)
    # A text no other test sends, so that no cost is remembered for it: the first request takes
    # the full way, the second the prepared one (schema/prepared.py); both mask the error.
    query = "{ __typename } # the query checks fail"
    for sent in (1, 2):
        response = await api.client.post("/graphql", json={"query": query})

        body = response.json()
        assert body["errors"][0]["message"] == "服务器内部错误，请将请求编号告知管理员"
        assert body["errors"][0]["extensions"]["requestId"] == response.headers["x-request-id"]
        assert_nothing_leaks(response)
        assert len(unexpected_logs(caplog)) == sent


async def test_an_exception_outside_graphql_is_a_masked_500_with_the_headers(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(GraphQLEndpoint, "get_context", boom)
    response = await api.client.post("/graphql", json={"query": "{ __typename }"})

    request_id = response.headers["x-request-id"]
    assert response.status_code == 500
    assert response.json() == {
        "errors": [
            {
                "message": "服务器内部错误，请将请求编号告知管理员",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ]
    }
    assert response.headers["x-content-type-options"] == "nosniff"
    assert_nothing_leaks(response)
    [record] = unexpected_logs(caplog)
    assert request_id in record.getMessage()
    assert record.exc_info is not None


async def test_refused_requests_are_not_logged_as_errors(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    for query in ("{", "{ nope }", "{ viewer { username } }", "{" + " __typename" * 11 + "}"):
        await api.post(query)
    assert unexpected_logs(caplog) == []


SUGGESTING = {
    "field": "{ viewr { username } }",
    "argument": '{ countries(serch: "x") { code } }',
    "type": "query($t: CoordinatonType) { __typename }",
    "enum literal": (
        "mutation { saveCoordination(input: {type: CCPIT_CERTIFICATES}) { message } }"
    ),
    "input field": 'mutation { saveCoordination(input: {contactPhon: "1"}) { message } }',
}


@pytest.mark.parametrize("query", SUGGESTING.values(), ids=SUGGESTING.keys())
async def test_no_suggestions_when_introspection_is_off(make_api: MakeApi, query: str) -> None:
    production = await make_api(introspection=False)
    body = await production.post(query)
    assert body["errors"]
    assert "Did you mean" not in json.dumps(body)


async def test_no_suggestions_for_variable_values_when_introspection_is_off(
    make_api: MakeApi, alice: Actor
) -> None:
    production = await make_api(introspection=False)
    query = "mutation($t: CoordinationType) { saveCoordination(input: {type: $t}) { message } }"
    body = await production.post(query, {"t": "CCPIT_CERTIFICATES"}, actor=alice)
    [error] = body["errors"]
    assert error["message"] == (
        "Variable '$t' has invalid value: Value 'CCPIT_CERTIFICATES' does not exist in "
        "'CoordinationType' enum."
    )
    assert "Did you mean" not in error["message"]


@pytest.mark.parametrize("query", SUGGESTING.values(), ids=SUGGESTING.keys())
async def test_suggestions_help_in_development(api: Api, query: str) -> None:
    body = await api.post(query)
    assert "Did you mean" in json.dumps(body)


async def test_typename_still_works_when_introspection_is_off(make_api: MakeApi) -> None:
    production = await make_api(introspection=False)
    assert await production.data("{ __typename }") == {"__typename": "Query"}
    body = await production.post('{ __type(name: "Query") { name } }')
    assert body["errors"][0]["message"].startswith("GraphQL introspection has been disabled")


async def test_strings_no_database_can_store_are_refused(api: Api, alice: Actor) -> None:
    literal = 'mutation { login(username: "a\\u0000b", password: "x") { token } }'
    variables = 'mutation($u: String!) { login(username: $u, password: "x") { token } }'
    lookup = "query($no: String) { coordination(coordinationNo: $no) { __typename } }"
    surrogate = json.dumps({"query": lookup, "variables": {"no": "XT\ud800"}}).encode()
    for body in (
        await api.post(literal),
        await api.post(variables, {"u": "a\x00b"}),
        (
            await api.client.post(
                "/graphql",
                content=surrogate,  # ASCII JSON with an escaped lone surrogate
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {alice.token}",
                },
            )
        ).json(),
    ):
        assert body == {
            "errors": [
                {
                    "message": "字符串不能含有NUL字符或不成对的代理码元",
                    "extensions": {"code": "BAD_USER_INPUT"},
                }
            ]
        }


async def test_an_id_beyond_the_largest_key_is_not_found(api: Api, alice: Actor) -> None:
    for type_name in ("CustomsCertificateRequest", "Attachment"):
        huge = base64.b64encode(f"{type_name}:{2**63}".encode()).decode()
        data = await api.data(
            "query($id: ID!) { node(id: $id) { id } coordination(id: $id) { __typename } }",
            {"id": huge},
            actor=alice,
        )
        assert data == {"node": None, "coordination": None}
