"""Persisted operations (SPEC §9): Apollo's automatic persisted queries, stored for every worker,
and trusted documents, the only operations that run when ``XHSZ_TRUSTED_DOCUMENTS_ONLY`` is on."""

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from db.models import PersistedQuery
from tests.conftest import MakeApi
from tests.support import Actor, Api, Factory, count_rows

VIEWER = "query Viewer { viewer { username } }"
ROLE = "query Role { viewer { role } }"
LOGOUT = "mutation Logout { logout { message } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def digest(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str, *, query: bool = False, version: int = 1) -> dict[str, Any]:
    body: dict[str, Any] = {
        "extensions": {"persistedQuery": {"version": version, "sha256Hash": digest(document)}}
    }
    if query:
        body["query"] = document
    return body


async def post(
    api: Api, body: dict[str, Any], actor: Actor | None = None, **headers: str
) -> httpx.Response:
    if actor is not None:
        headers["Authorization"] = f"Bearer {actor.token}"
    return await api.client.post("/graphql", json=body, headers=headers)


async def get(api: Api, body: dict[str, Any], actor: Actor) -> httpx.Response:
    params = {
        name: json.dumps(value) if isinstance(value, dict) else value
        for name, value in body.items()
    }
    return await api.client.get(
        "/graphql", params=params, headers={"Authorization": f"Bearer {actor.token}"}
    )


def not_found(response: httpx.Response) -> None:
    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }


async def test_apollos_protocol_unknown_hash_then_hash_and_query_then_hash_alone(
    api: Api, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    not_found(await post(api, persisted(VIEWER), alice))
    # Under the GraphQL-over-HTTP media type too: 200, so that the client resends the query.
    not_found(await post(api, persisted(VIEWER), alice, Accept=GRAPHQL_RESPONSE))
    registered = await post(api, persisted(VIEWER, query=True), alice)
    assert registered.json() == {"data": {"viewer": {"username": alice.username}}}
    by_hash = await post(api, persisted(VIEWER), alice)
    assert by_hash.json() == {"data": {"viewer": {"username": alice.username}}}
    over_get = await get(api, persisted(VIEWER), alice)
    assert over_get.json() == {"data": {"viewer": {"username": alice.username}}}


async def test_a_persisted_query_can_be_registered_over_get_but_a_mutation_never_runs_there(
    api: Api, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    not_found(await get(api, persisted(ROLE), alice))
    assert (await get(api, persisted(ROLE, query=True), alice)).json() == {
        "data": {"viewer": {"role": "ENTERPRISE"}}
    }
    assert (await get(api, persisted(ROLE), alice)).status_code == 200
    # A mutation by hash (registered over POST) is refused over GET, and does not run.
    assert (await post(api, persisted(LOGOUT, query=True), alice)).status_code == 200
    other = await factory.enterprise_user()
    refused = await get(api, persisted(LOGOUT), other)
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, POST"
    assert (await api.data(VIEWER, actor=other))["viewer"]["username"] == other.username


async def test_stored_documents_are_shared_by_every_worker_and_survive_a_restart(
    api: Api, make_api: MakeApi, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    await post(api, persisted(VIEWER, query=True), alice)
    restarted = await make_api()  # another app: another worker, or this one restarted
    assert (await post(restarted, persisted(VIEWER), alice)).json() == {
        "data": {"viewer": {"username": alice.username}}
    }
    assert await count_rows(factory.database, PersistedQuery) == 1
    # Registering it again (any worker) changes nothing.
    await post(restarted, persisted(VIEWER, query=True), alice)
    assert await count_rows(factory.database, PersistedQuery) == 1


async def test_a_hash_that_is_not_the_querys_is_refused_and_nothing_is_stored(
    api: Api, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    body = persisted(ROLE)
    body["query"] = VIEWER
    for language, expected in ((None, "不一致"), ("en", "is not the SHA-256")):
        headers = {"Accept-Language": language} if language else {}
        response = await post(api, body, alice, **headers)
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": "PERSISTED_QUERY_HASH_MISMATCH"}
        assert expected in error["message"]
    assert await count_rows(factory.database, PersistedQuery) == 0
    unsupported = await post(api, persisted(VIEWER, query=True, version=2), alice)
    assert unsupported.status_code == 400
    assert unsupported.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"


async def test_only_a_document_that_passed_validation_is_stored(api: Api, factory: Factory) -> None:
    alice = await factory.enterprise_user()
    for document in ("{ viewer { nosuchfield } }", "{ viewer { username ", "{ " * 500 + "}" * 500):
        response = await post(api, persisted(document, query=True), alice)
        assert "errors" in response.json()
        not_found(await post(api, persisted(document), alice))
    assert await count_rows(factory.database, PersistedQuery) == 0


def manifest(tmp_path: Path, *documents: str) -> Path:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({digest(document): document for document in documents}))
    return path


async def test_trusted_documents_only_runs_the_manifest_and_refuses_the_rest_unparsed(
    make_api: MakeApi, factory: Factory, tmp_path: Path
) -> None:
    trusted = await make_api(
        trusted_documents=manifest(tmp_path, VIEWER), trusted_documents_only=True
    )
    alice = await factory.enterprise_user()
    expected = {"data": {"viewer": {"username": alice.username}}}
    assert (await post(trusted, persisted(VIEWER), alice)).json() == expected
    assert (await get(trusted, persisted(VIEWER), alice)).json() == expected
    assert (await post(trusted, {"query": VIEWER}, alice)).json() == expected
    refused = [
        {"query": ROLE},
        {"query": "{ this is not GraphQL"},  # refused as not allowed, not as a syntax error
        persisted(ROLE),
        persisted(ROLE, query=True),  # no registration either
        {"query": VIEWER + " "},  # the exact text only
    ]
    for body in refused:
        response = await post(trusted, body, alice, **{"Accept-Language": "en"})
        assert response.status_code == 400, body
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_ALLOWED"}, body
        assert "trusted documents" in error["message"]
    zh = await post(trusted, {"query": ROLE}, alice)
    assert "可信文档" in zh.json()["errors"][0]["message"]
    assert await count_rows(factory.database, PersistedQuery) == 0


async def test_a_manifest_without_the_only_setting_adds_to_what_runs_by_hash(
    make_api: MakeApi, factory: Factory, tmp_path: Path
) -> None:
    both = await make_api(trusted_documents=manifest(tmp_path, VIEWER))
    alice = await factory.enterprise_user()
    assert (await post(both, persisted(VIEWER), alice)).json()["data"]["viewer"]
    assert (await post(both, {"query": ROLE}, alice)).json()["data"]["viewer"]["role"]
    not_found(await post(both, persisted(ROLE), alice))


def test_a_trusted_only_setting_without_a_manifest_refuses_to_start() -> None:
    from config.settings import Settings, SettingsError

    with pytest.raises(SettingsError):
        Settings.from_env({"XHSZ_TRUSTED_DOCUMENTS_ONLY": "true"})


async def test_the_client_presets_manifest_and_document_ids_are_understood(
    make_api: MakeApi, factory: Factory, tmp_path: Path
) -> None:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({f"sha256:{digest(VIEWER)}": VIEWER}))
    trusted = await make_api(trusted_documents=path, trusted_documents_only=True)
    alice = await factory.enterprise_user()
    expected = {"data": {"viewer": {"username": alice.username}}}
    for identifier in (f"sha256:{digest(VIEWER)}", digest(VIEWER)):
        assert (await post(trusted, {"documentId": identifier}, alice)).json() == expected
        assert (await get(trusted, {"documentId": identifier}, alice)).json() == expected
        extension = {"persistedQuery": {"version": 1, "sha256Hash": identifier}}
        assert (await post(trusted, {"extensions": extension}, alice)).json() == expected
    refused = await post(trusted, {"documentId": f"sha256:{digest(ROLE)}"}, alice)
    assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
