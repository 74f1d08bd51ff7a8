"""Prepared operations (``schema/prepared.py``, ``api/prepared.py``): the second request of a
document skips Strawberry's view and extension runner, and answers exactly as the first did.

Each document here is new to the app (a numbered comment makes its text unique), so its first
request takes the full way and its second the prepared one; both answers are compared whole:
status, content type, body bytes.
"""

import itertools
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.support import Actor, Api, Factory, valid_input

_unique = itertools.count()

LIST = """
query List($filter: CoordinationFilter, $first: Int, $after: String) {
  coordinations(filter: $filter, first: $first, after: $after) {
    edges { cursor node { ... on Coordination { id coordinationNo status statusLabel
      attachments { slot fileName } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
TWO_OPERATIONS = """
query A { viewer { username } }
query B { viewer { role } }
"""
SAVE = """
mutation Save($input: SaveCoordinationInput!) {
  saveCoordination(input: $input) {
    coordination { ... on Coordination { id status version } }
    errors { field code message }
  }
}
"""


def fresh(document: str) -> str:
    """The document as a text this app has not seen."""
    return f"# prepared test {next(_unique)}\n{document}"


async def twice(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]
) -> tuple[httpx.Response, httpx.Response]:
    first = await client.post("/graphql", json=body, headers=headers)
    second = await client.post("/graphql", json=body, headers=headers)
    return first, second


def assert_same(first: httpx.Response, second: httpx.Response) -> None:
    assert (second.status_code, second.headers["content-type"]) == (
        first.status_code,
        first.headers["content-type"],
    ), second.text
    assert second.content == first.content, f"first: {first.text}\nsecond: {second.text}"


def is_prepared(app: Starlette, query: str, operation_name: str | None = None) -> bool:
    return app.state.schema.prepared.get(query, operation_name) is not None


def bearer(actor: Actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {actor.token}"}


@pytest.mark.parametrize(
    "variables",
    [
        {"filter": {"status": ["DRAFT"]}, "first": 2},
        {"first": 0},  # out of range: a BAD_USER_INPUT error and null data
        {"first": "two"},  # not an Int: graphql-core's coercion error, no data
        {"after": "not-a-cursor"},
        {"filter": {"status": ["NO_SUCH_STATUS"]}},
    ],
)
async def test_a_query_answers_the_same_the_second_time(
    app: Starlette, client: httpx.AsyncClient, factory: Factory, variables: dict[str, Any]
) -> None:
    alice = await factory.enterprise_user()
    for _ in range(3):
        await factory.api.create(alice, valid_input("CUSTOMS_CERTIFICATE"))
    query = fresh(LIST)

    first, second = await twice(client, {"query": query, "variables": variables}, bearer(alice))

    assert is_prepared(app, query)
    assert_same(first, second)


async def test_an_unauthenticated_query_and_a_refused_cost_answer_the_same(
    app: Starlette, client: httpx.AsyncClient, factory: Factory
) -> None:
    query = fresh(LIST)
    first, second = await twice(client, {"query": query, "variables": {"first": 2}}, {})
    assert "UNAUTHENTICATED" in first.text
    assert_same(first, second)

    alice = await factory.enterprise_user()
    huge = {"query": query, "variables": {"first": 100_000}}
    first, second = await twice(client, huge, bearer(alice))
    assert first.json().get("errors"), first.text
    assert_same(first, second)


async def test_a_mutation_runs_again_and_refuses_the_same(
    app: Starlette, api: Api, client: httpx.AsyncClient, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    query = fresh(SAVE)
    refused = {"query": query, "variables": {"input": {"type": "CUSTOMS_CERTIFICATE"}}}
    first, second = await twice(client, refused, bearer(alice))
    assert first.json()["data"]["saveCoordination"]["errors"], first.text
    assert_same(first, second)

    saved = {"query": query, "variables": {"input": valid_input("CUSTOMS_CERTIFICATE")}}
    first, second = await twice(client, saved, bearer(alice))
    numbers = [
        response.json()["data"]["saveCoordination"]["coordination"]["id"]
        for response in (first, second)
    ]
    assert is_prepared(app, query)
    assert numbers[0] != numbers[1]  # the prepared way saved a second request


async def test_the_operation_name_chooses_and_is_part_of_the_key(
    app: Starlette, client: httpx.AsyncClient, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    query = fresh(TWO_OPERATIONS)
    # Unnamed, Strawberry runs the first operation; that stays the full way's to decide.
    unnamed = await client.post("/graphql", json={"query": query}, headers=bearer(alice))
    first_a, second_a = await twice(client, {"query": query, "operationName": "A"}, bearer(alice))
    first_b, second_b = await twice(client, {"query": query, "operationName": "B"}, bearer(alice))

    assert is_prepared(app, query, "A")
    assert is_prepared(app, query, "B")
    assert not is_prepared(app, query)
    assert_same(first_a, second_a)
    assert_same(first_b, second_b)
    assert second_a.json()["data"] == {"viewer": {"username": alice.username}}
    assert set(second_b.json()["data"]["viewer"]) == {"role"}
    again = await client.post("/graphql", json={"query": query}, headers=bearer(alice))
    assert_same(unnamed, again)
    assert_same(unnamed, second_a)


async def test_what_the_prepared_way_does_not_read_takes_the_full_way(
    app: Starlette, client: httpx.AsyncClient, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    query = fresh("query { viewer { username } }")
    await client.post("/graphql", json={"query": query}, headers=bearer(alice))
    assert is_prepared(app, query)

    batch = await client.post("/graphql", json=[{"query": query}], headers=bearer(alice))
    assert batch.status_code == 400, batch.text  # batches are off, as on the full way
    extended = await client.post(
        "/graphql", json={"query": query, "extensions": {}}, headers=bearer(alice)
    )
    assert extended.json() == {"data": {"viewer": {"username": alice.username}}}
    over_get = await client.get("/graphql", params={"query": query}, headers=bearer(alice))
    assert over_get.json() == {"data": {"viewer": {"username": alice.username}}}
    nan = b'{"query": "query { viewer { username } }", "variables": {"x": NaN}}'
    odd = await client.post(
        "/graphql",
        content=nan,
        headers={**bearer(alice), "Content-Type": "application/json"},
    )
    assert odd.status_code == 200, odd.text  # Python's parser reads NaN; orjson does not
