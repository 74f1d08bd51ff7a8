"""GraphQL multipart requests (uploads): a malformed ``map``, ``operations`` or form is a 400 with a
JSON error before anything runs; a well-formed one may use a file more than once."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from db.database import Database
from db.models import Attachment
from tests.conftest import MakeApi
from tests.support import (
    PREFLIGHT,
    Actor,
    Api,
    Factory,
    count_rows,
    sample,
    stored_files,
    valid_input,
)

UPLOAD = """
mutation($c: ID!, $f: Upload!) {
  uploadAttachment(coordinationId: $c, slot: OTHER_1, file: $f) { errors { code } }
}
"""
PNG = ("a.png", sample("png", 1000), "image/png")

NOT_AN_OBJECT = "The multipart `map` must be a JSON object of file field names to lists of paths."
NOT_PATHS = "The multipart `map` must give each file a non-empty list of paths (strings)."


def no_file(name: str) -> str:
    return f"The multipart `map` names `{name}`, which is not a file in the request."


def outside_variables(path: str) -> str:
    return f"The multipart `map` path `{path}` does not lead into `variables`."


def no_placeholder(path: str) -> str:
    return f"The multipart `map` path `{path}` does not lead to a null in `operations`."


def repeated(path: str) -> str:
    return f"The multipart `map` path `{path}` is given more than once."


def bad_request(message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}


@pytest.fixture
def client(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """This module pins our and Starlette's wording, in English (test_languages.py checks that
    every refusal is Chinese by default)."""
    client.headers["Accept-Language"] = "en"
    return client


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


@pytest.fixture
async def coordination_id(api: Api, alice: Actor) -> str:
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    return str(saved["id"])


async def post_form(
    client: httpx.AsyncClient,
    actor: Actor | None,
    data: dict[str, Any],
    files: dict[str, Any] | list[tuple[str, Any]],
) -> httpx.Response:
    headers = dict(PREFLIGHT)
    if actor is not None:
        headers["Authorization"] = f"Bearer {actor.token}"
    return await client.post("/graphql", data=data, files=files, headers=headers)


def case(
    name: str, variables: Any, file_map: Any, message: str, files: tuple[str, ...] = ("0",)
) -> Any:
    """One malformed shape: variables besides ``$c``, the map, the message, the file fields sent."""
    return pytest.param(variables, file_map, list(files), message, id=name)


F = {"f": None}
MALFORMED = [
    case("path-below-the-file", F, {"0": ["variables.f.x"]}, no_placeholder("variables.f.x")),
    case("index-below-the-file", F, {"0": ["variables.f.0"]}, no_placeholder("variables.f.0")),
    case("through-a-string", F, {"0": ["variables.c.x"]}, no_placeholder("variables.c.x")),
    case(
        "through-a-number", {**F, "n": 5}, {"0": ["variables.n.x"]}, no_placeholder("variables.n.x")
    ),
    case("same-path-twice", F, {"0": ["variables.f", "variables.f"]}, repeated("variables.f")),
    case(
        "then-below-itself",
        F,
        {"0": ["variables.f", "variables.f.x"]},
        no_placeholder("variables.f.x"),
    ),
    case(
        "two-files-one-path",
        F,
        {"0": ["variables.f"], "1": ["variables.f"]},
        repeated("variables.f"),
        ("0", "1"),
    ),
    case("map-a-list", F, [{"0": ["variables.f"]}], NOT_AN_OBJECT),
    case("map-a-string", F, "variables.f", NOT_AN_OBJECT),
    case("map-null", F, None, NOT_AN_OBJECT),
    case("paths-a-string", F, {"0": "variables.f"}, NOT_PATHS),
    case("paths-numbers", F, {"0": [1]}, NOT_PATHS),
    case("paths-null", F, {"0": None}, NOT_PATHS),
    case("paths-empty", F, {"0": []}, NOT_PATHS),
    case("paths-nested", F, {"0": [["variables.f"]]}, NOT_PATHS),
    case("missing-variable", F, {"0": ["variables.g"]}, no_placeholder("variables.g")),
    case("missing-deep", F, {"0": ["variables.g.h"]}, no_placeholder("variables.g.h")),
    case("not-null", {"f": "x"}, {"0": ["variables.f"]}, no_placeholder("variables.f")),
    case("variables-null", None, {"0": ["variables.f"]}, no_placeholder("variables.f")),
    case(
        "index-out-of-range",
        {"f": [None]},
        {"0": ["variables.f.1"]},
        no_placeholder("variables.f.1"),
    ),
    case(
        "negative-index", {"f": [None]}, {"0": ["variables.f.-1"]}, no_placeholder("variables.f.-1")
    ),
    case(
        "padded-index", {"f": [None]}, {"0": ["variables.f.00"]}, no_placeholder("variables.f.00")
    ),
    case(
        "huge-index",
        {"f": [None]},
        {"0": ["variables.f." + "1" * 5000]},
        no_placeholder("variables.f." + "1" * 88 + "…"),
    ),
    case("the-query", F, {"0": ["query"]}, outside_variables("query")),
    case("below-the-query", F, {"0": ["query.x"]}, outside_variables("query.x")),
    case("extensions", F, {"0": ["extensions.f"]}, outside_variables("extensions.f")),
    case("variables-itself", F, {"0": ["variables"]}, outside_variables("variables")),
    case("empty-path", F, {"0": [""]}, outside_variables("")),
    case("batch-path", F, {"0": ["0.variables.f"]}, outside_variables("0.variables.f")),
    case("file-not-sent", F, {"9": ["variables.f"]}, no_file("9")),
    case("names-a-text-field", F, {"operations": ["variables.f"]}, no_file("operations")),
]


@pytest.mark.parametrize(("variables", "file_map", "fields", "message"), MALFORMED)
async def test_a_malformed_map_is_400_before_anything_runs(
    client: httpx.AsyncClient,
    alice: Actor,
    coordination_id: str,
    database: Database,
    storage_dir: Path,
    variables: Any,
    file_map: Any,
    fields: list[str],
    message: str,
) -> None:
    if variables is not None:
        variables = {"c": coordination_id, **variables}
    operations = {"query": UPLOAD, "variables": variables}
    response = await post_form(
        client,
        alice,
        {"operations": json.dumps(operations), "map": json.dumps(file_map)},
        dict.fromkeys(fields, PNG),
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == bad_request(message)
    assert await count_rows(database, Attachment) == 0
    assert stored_files(storage_dir) == []


async def test_the_issues_map_is_400_also_without_a_token(client: httpx.AsyncClient) -> None:
    query = (
        'mutation($f: Upload!){uploadAttachment(coordinationId:"x",slot:ORIGIN_PROOF,file:$f)'
        "{message}}"
    )
    response = await post_form(
        client,
        None,
        {
            "operations": json.dumps({"query": query, "variables": {"f": None}}),
            "map": json.dumps({"0": ["variables.f.x"]}),
        },
        {"0": PNG},
    )
    assert response.status_code == 400
    assert response.json() == bad_request(no_placeholder("variables.f.x"))


@pytest.mark.parametrize("field", ["operations", "map"])
async def test_operations_and_map_sent_as_files_are_400(
    client: httpx.AsyncClient, alice: Actor, coordination_id: str, field: str
) -> None:
    operations = {"query": UPLOAD, "variables": {"c": coordination_id, "f": None}}
    data = {"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})}
    text = data.pop(field)
    response = await post_form(
        client, alice, data, {"0": PNG, field: ("x.json", text.encode(), "application/json")}
    )
    assert response.status_code == 400
    assert response.json() == bad_request(
        f"The multipart `{field}` field must be text, not a file."
    )


async def test_one_file_may_fill_two_variables(
    api: Api, client: httpx.AsyncClient, alice: Actor, coordination_id: str, database: Database
) -> None:
    query = """
    mutation($c: ID!, $a: Upload!, $b: Upload!) {
      a: uploadAttachment(coordinationId: $c, slot: OTHER_1, file: $a) { errors { code } }
      b: uploadAttachment(coordinationId: $c, slot: OTHER_2, file: $b) { errors { code } }
    }
    """
    operations = {"query": query, "variables": {"c": coordination_id, "a": None, "b": None}}
    response = await post_form(
        client,
        alice,
        {
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.a", "variables.b"]}),
        },
        {"0": PNG},
    )
    assert response.json() == {"data": {"a": {"errors": []}, "b": {"errors": []}}}
    coordination = await api.get(alice, id=coordination_id)
    assert sorted((a["slot"], a["size"]) for a in coordination["attachments"]) == [
        ("OTHER_1", 1000),
        ("OTHER_2", 1000),
    ]


async def test_a_file_may_sit_in_a_list_variable(
    client: httpx.AsyncClient, alice: Actor, coordination_id: str, database: Database
) -> None:
    # No mutation of ours takes a list of files; the list is only a place a path may lead to.
    query = "query($files: [Upload!]) { __typename }"
    operations = {"query": query, "variables": {"files": [None, None]}}
    response = await post_form(
        client,
        alice,
        {"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.files.1"]})},
        {"0": PNG},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_in_a_batch_paths_start_with_the_operations_index(
    make_api: MakeApi, alice: Actor, coordination_id: str, database: Database
) -> None:
    batching = await make_api(max_batch_operations=2)
    batching.client.headers["Accept-Language"] = "en"
    operations = [
        {"query": "{ __typename }"},
        {"query": UPLOAD, "variables": {"c": coordination_id, "f": None}},
    ]
    wrong = await post_form(
        batching.client,
        alice,
        {"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        {"0": PNG},
    )
    assert wrong.status_code == 400
    assert wrong.json() == bad_request(outside_variables("variables.f"))

    right = await post_form(
        batching.client,
        alice,
        {"operations": json.dumps(operations), "map": json.dumps({"0": ["1.variables.f"]})},
        {"0": PNG},
    )
    assert right.json() == [
        {"data": {"__typename": "Query"}},
        {"data": {"uploadAttachment": {"errors": []}}},
    ]
    assert await count_rows(database, Attachment) == 1


def fields(count: int) -> dict[str, str]:
    return {f"field{index}": "x" for index in range(count)}


@pytest.mark.parametrize(
    ("extra_fields", "extra_files", "message"),
    [
        (fields(1000), [], "Too many fields. Maximum number of fields is 1000."),
        ({}, [("more", PNG)] * 1000, "Too many files. Maximum number of files is 1000."),
        ({"big": "x" * (1024 * 1024 + 1)}, [], "Part exceeded maximum size of 1024KB."),
    ],
    ids=["1001-fields", "1001-files", "1MiB-field"],
)
async def test_a_form_over_the_parsers_limits_is_400_with_a_json_error(
    client: httpx.AsyncClient,
    alice: Actor,
    coordination_id: str,
    database: Database,
    storage_dir: Path,
    extra_fields: dict[str, str],
    extra_files: list[tuple[str, Any]],
    message: str,
) -> None:
    operations = {"query": UPLOAD, "variables": {"c": coordination_id, "f": None}}
    data = {
        "operations": json.dumps(operations),
        "map": json.dumps({"0": ["variables.f"]}),
        **extra_fields,
    }
    response = await post_form(client, alice, data, [("0", PNG), *extra_files])
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == bad_request(message)
    assert await count_rows(database, Attachment) == 0
    assert stored_files(storage_dir) == []


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"--x\r\n", "multipart/form-data; boundary=b", "Invalid multipart data."),
        (b"--b--\r\n", "multipart/form-data", "Missing boundary in multipart."),
        (
            b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
            'The Content-Disposition header field "name" must be provided.',
        ),
    ],
    ids=["garbage", "no-boundary", "nameless-part"],
)
async def test_a_broken_multipart_body_is_400_with_a_json_error(
    client: httpx.AsyncClient, body: bytes, content_type: str, message: str
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": content_type, **PREFLIGHT}
    )
    assert response.status_code == 400
    assert response.json() == bad_request(message)
