"""Every message in the user's language (SPEC §9): everything the service writes for a client is
Chinese by default and English when ``Accept-Language`` prefers English (q-values honoured), every
response carrying a message says which in ``Content-Language``, and codes never change.

Two walks: the whole catalogue of texts (``schema.messages``, ``schema.refusals``), and every path
that writes an error, provoked over HTTP: HTTP refusals, top-level GraphQL errors, payload errors
and download errors. graphql-core's own parse and validation messages are exempt.
"""

import asyncio
import dataclasses
import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from api.downloads import DownloadLinks
from api.graphql import GraphQLEndpoint
from config.limits import QueryLimits
from db import reference
from db.clock import utcnow
from schema import build_schema, messages, refusals
from tests import samples
from tests.conftest import MakeApi
from tests.support import Actor, Api, Factory, valid_input

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_./+-]*")
QUOTED = re.compile(r"`[^`]*`|“[^”]*”|\{[a-z_]+\}|\d+x+")  # quoted values, fields, 95xxx
EXTENSION = re.compile(r"转\d+")
EXEMPT = {"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}
ENGLISH = "zh;q=0.3, en-US;q=0.9"  # English preferred by q-value, not by position


def _schema_names() -> set[str]:
    names: set[str] = set()
    for name, type_ in build_schema()._schema.type_map.items():
        names.add(name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                names.add(field_name)
                names.update(field.args)
        elif isinstance(type_, GraphQLInputObjectType):
            names.update(type_.fields)
        elif isinstance(type_, GraphQLEnumType):
            names.update(type_.values)
    return names


# ASCII a Chinese message may hold: identifiers of the schema and of the GraphQL request, header
# names, media types, commands, and capitals (codes, PDF, JSON, POST, U+202E, the unit M).
IDENTIFIERS = _schema_names() | {
    "query",
    "variables",
    "extensions",
    "operations",
    "map",
    "multipart",
    "persistedQuery.sha256Hash",
    "WebSocket",
    "graphql-transport-ws",
    "graphql",
    "GraphQL",
    "GraphiQL",
    "GraphQL-Require-Preflight",
    "Apollo-Require-Preflight",
    "application/json",
    "multipart/form-data",
    "scripts/setup",
    "npm",
    "ci",
    "api/graphiql",
}


def english_words(text: str) -> list[str]:
    """The ASCII words of a Chinese message that are neither identifiers nor capitals."""
    return [
        word
        for word in WORD.findall(QUOTED.sub("", text))
        if word.rstrip(".") not in IDENTIFIERS and not word.isupper()
    ]


def check(text: str, chinese: bool, where: str) -> None:
    if chinese:
        assert CJK.search(text), f"{where}: no Chinese in {text!r}"
        assert english_words(text) == [], f"{where}: English in {text!r}"
    else:
        # Quoted values and 转 in a phone number (a literal the server accepts) may stay.
        shown = EXTENSION.sub("", QUOTED.sub("", text))
        assert not CJK.search(shown), f"{where}: Chinese in {text!r}"


def catalogue() -> Iterator[tuple[str, messages.Text]]:
    """Every text the service writes, by name."""
    for module in (messages, refusals):
        for name, value in vars(module).items():
            if refusals.is_text(value):
                yield f"{module.__name__}.{name}", value
            elif isinstance(value, dict):
                for key, item in value.items():
                    if refusals.is_text(item):
                        yield f"{module.__name__}.{name}[{key}]", item
    for outcome in messages.Outcome:
        zh_ok, en_ok, zh_failed, en_failed = outcome.value
        yield f"Outcome.{outcome.name}", (zh_ok, en_ok)
        yield f"Outcome.{outcome.name} failed", (zh_failed, en_failed)


def test_every_text_of_the_catalogue_is_chinese_and_english() -> None:
    texts = dict(catalogue())
    assert len(texts) > 100
    assert set(messages.ERROR_MESSAGES) == set(messages.ErrorCode)
    for name, (zh, en) in texts.items():
        check(zh, True, name)
        if name.startswith("schema.refusals.MULTIPART_LIMIT"):
            continue  # Starlette's own English detail
        check(en, False, name)


def test_english_words_are_found_and_identifiers_are_not() -> None:
    assert english_words("请求无效 Bad request") == ["Bad", "request"]
    assert english_words("first应在1到100之间，PDF附件不能超过4M（U+202E）`x.y`") == []


# --- provoking every path ------------------------------------------------------------------------


@dataclasses.dataclass
class World:
    api: Api
    client: httpx.AsyncClient
    factory: Factory
    make_api: MakeApi
    links: DownloadLinks
    monkeypatch: pytest.MonkeyPatch
    storage_dir: Path

    async def alice(self) -> Actor:
        return await self.factory.enterprise_user()

    async def gql(
        self, query: str, variables: dict[str, Any] | None, headers: dict[str, str], **more: Any
    ) -> httpx.Response:
        body = {"query": query, "variables": variables or {}, **more}
        return await self.client.post("/graphql", json=body, headers=headers)

    async def as_alice(
        self, query: str, variables: dict[str, Any] | None, headers: dict[str, str]
    ) -> httpx.Response:
        alice = await self.alice()
        return await self.gql(query, variables, {**headers, **bearer(alice)})


def bearer(actor: Actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {actor.token}"}


Case = Callable[[World, dict[str, str]], Awaitable[httpx.Response]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(function: Case) -> Case:
        CASES[name] = function
        return function

    return register


MULTIPART_OPERATIONS = json.dumps({"query": "mutation($f: Upload!) { __typename }"})


@case("415 not JSON")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    return await w.client.post(
        "/graphql", content=b"{ viewer { username } }", headers={**h, "Content-Type": "text/plain"}
    )


@case("405 mutation over GET")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    return await w.client.get("/graphql", params={"query": "mutation { __typename }"}, headers=h)


@case("405 other method")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    return await w.client.put("/graphql", json={"query": "{ __typename }"}, headers=h)


@case("400 malformed JSON")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    headers = {**h, "Content-Type": "application/json"}
    return await w.client.post("/graphql", content=b'{"query": ', headers=headers)


@case("400 not an object")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    return await w.client.post("/graphql", json=3, headers=h)


@case("400 no query")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    return await w.client.post("/graphql", json={"variables": {}}, headers=h)


@case("400 unknown operation")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    return await w.gql("query A { __typename }", None, h, operationName="B")


@case("400 multipart without preflight")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    form = {"operations": MULTIPART_OPERATIONS, "map": '{"0": ["variables.f"]}'}
    return await w.client.post("/graphql", data=form, files={"0": ("a.png", b"x")}, headers=h)


@case("400 multipart map")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    form = {"operations": MULTIPART_OPERATIONS, "map": '{"0": ["variables.g"]}'}
    return await w.client.post(
        "/graphql",
        data=form,
        files={"0": ("a.png", b"x")},
        headers={**h, "GraphQL-Require-Preflight": "1"},
    )


@case("413 body too large")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    small = await w.make_api(max_json_bytes=100)
    return await small.client.post("/graphql", json={"query": "x" * 200}, headers=h)


@case("408 body too slow")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    slow = await w.make_api(request_body_timeout=dt.timedelta(seconds=0.2))

    async def body() -> AsyncIterator[bytes]:
        yield b'{"query": '
        await asyncio.sleep(1)  # the deadline cuts the request short before
        yield b'"{ __typename }"}'

    headers = {**h, "Content-Type": "application/json"}
    return await asyncio.wait_for(
        slow.client.post("/graphql", content=body(), headers=headers), timeout=30
    )


@case("PERSISTED_QUERY_HASH_MISMATCH")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    return await w.gql("{ __typename }", None, h, extensions=persisted)


@case("PERSISTED_QUERY_NOT_SUPPORTED")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    persisted = {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}
    return await w.gql("{ __typename }", None, h, extensions=persisted)


@case("404 no such route")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    return await w.client.get("/nowhere", headers=h)


@case("405 route method")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    return await w.client.post("/healthz", headers=h)


@case("UNAUTHENTICATED")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    return await w.gql("{ viewer { username } }", None, h)


@case("BAD_USER_INPUT id and number")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    query = '{ coordination(id: "x", coordinationNo: "XT1") { __typename } }'
    return await w.as_alice(query, None, h)


@case("BAD_USER_INPUT page size")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    return await w.as_alice("{ countries(first: 0) { code } }", None, h)


@case("BAD_USER_INPUT first and last")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    return await w.as_alice("{ coordinations(first: 1, last: 1) { totalCount } }", None, h)


@case("BAD_USER_INPUT foreign cursor")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    query = '{ coordinations(after: "not a cursor") { totalCount } }'
    return await w.as_alice(query, None, h)


@case("BAD_USER_INPUT unstorable string")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    query = 'mutation($u: String!) { login(username: $u, password: "x") { token } }'
    return await w.gql(query, {"u": "a\x00b"}, h)


LIMITS = QueryLimits(
    max_depth=3, max_aliases=1, max_directives=1, max_cost=5, max_repeated_fields=1
)


@case("QUERY_LIMIT_EXCEEDED depth")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    small = await w.make_api(query_limits=LIMITS)
    return await small.client.post("/graphql", json={"query": "{ a { b { c { d } } } }"}, headers=h)


@case("QUERY_LIMIT_EXCEEDED aliases")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    small = await w.make_api(query_limits=LIMITS)
    return await small.client.post("/graphql", json={"query": "{ a: b c: d }"}, headers=h)


@case("QUERY_LIMIT_EXCEEDED directives")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    small = await w.make_api(query_limits=LIMITS)
    query = "{ a @skip(if: false) b @skip(if: false) }"
    return await small.client.post("/graphql", json={"query": query}, headers=h)


@case("QUERY_LIMIT_EXCEEDED repeated fields")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    small = await w.make_api(query_limits=LIMITS)
    return await small.client.post("/graphql", json={"query": "{ a a }"}, headers=h)


@case("QUERY_LIMIT_EXCEEDED cost")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    small = await w.make_api(query_limits=LIMITS)
    query = "{ countries(first: 10) { code } }"
    return await small.client.post("/graphql", json={"query": query}, headers=h)


@case("QUERY_LIMIT_EXCEEDED tokens")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    return await w.gql("{" + " a" * 2001 + " }", None, h)


@case("QUERY_LIMIT_EXCEEDED circular introspection")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    return await w.gql(query, None, h)


@case("INTERNAL_SERVER_ERROR in a resolver")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    w.monkeypatch.setattr(reference, "agreements", _boom)
    return await w.as_alice("{ tradeAgreements { code } }", None, h)


@case("INTERNAL_SERVER_ERROR outside GraphQL")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    w.monkeypatch.setattr(GraphQLEndpoint, "get_context", _boom)
    return await w.gql("{ __typename }", None, h)


@case("SERVICE_UNAVAILABLE")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    w.monkeypatch.setattr(reference, "agreements", _refused)
    return await w.as_alice("{ tradeAgreements { code } }", None, h)


SAVE = """
mutation($input: SaveCoordinationInput!) {
  saveCoordination(input: $input) { message errors { field code message } }
}
"""


@case("payload: field errors")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    values = valid_input(
        "CUSTOMS_CERTIFICATE",
        contactPhone=None,
        exportDeclarationNo="12",
        reason="x" * 1001,
        importPortCode="ZZZZZ",
        contactName="a\u202eb",
    )
    return await w.as_alice(SAVE, {"input": values}, h)


@case("payload: unknown agreement and country")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    values = valid_input("CUSTOMS_CERTIFICATE", agreementCode="ZZ", importCountryCode="ZZZ")
    return await w.as_alice(SAVE, {"input": values}, h)


@case("payload: FORBIDDEN")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    customs = await w.factory.customs_user()
    body = {"query": SAVE, "variables": {"input": valid_input("CCPIT_CERTIFICATE")}}
    return await w.client.post("/graphql", json=body, headers={**h, **bearer(customs)})


@case("payload: INVALID_CREDENTIALS")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    query = (
        'mutation { login(username: "nobody", password: "x") { message errors { code message } } }'
    )
    return await w.gql(query, None, h)


@case("payload: submit refusals")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    alice = await w.alice()
    created = await w.api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    query = "mutation($id: ID!) { submitCoordination(id: $id) { message errors { code message } } }"
    return await w.gql(query, {"id": created["id"]}, {**h, **bearer(alice)})


UPLOAD = """
mutation($id: ID!, $file: Upload!) {
  uploadAttachment(coordinationId: $id, slot: OTHER_1, file: $file) {
    message errors { field code message }
  }
}
"""
UPLOADS = {
    "empty": b"",
    "damaged": b"%PDF-1.4 cut short",
    "PDF too large": samples.pdf(400 * 1024),
}


def _upload_case(content: bytes) -> Case:
    async def provoke(w: World, h: dict[str, str]) -> httpx.Response:
        alice = await w.alice()
        created = await w.api.create(alice, valid_input("CCPIT_CERTIFICATE"))
        file = ("a.pdf", content, "application/pdf")
        return await w.api.multipart(
            UPLOAD, {"id": created["id"]}, file, actor=alice, language=h.get("Accept-Language")
        )

    return provoke


for _name, _content in UPLOADS.items():
    CASES[f"payload: upload {_name}"] = _upload_case(_content)


@case("download: invalid link")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    return await w.client.get("/attachments/1?expires=1&user=1&signature=x", headers=h)


@case("download: not found")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    alice = await w.alice()
    url = w.links.url(2**40, user_id=alice.user_id, token_version=1, now=utcnow())
    return await w.client.get(url, headers=h)


@case("download: file unavailable")
async def _(w: World, h: dict[str, str]) -> httpx.Response:
    alice = await w.alice()
    created = await w.api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    attachment = await w.api.attach(alice, created["id"], "OTHER_1", samples.png(100), "a.png")
    stored = [path for path in w.storage_dir.rglob("*") if path.is_file()]
    assert len(stored) == 1
    stored[0].unlink()  # the row stays, the file is gone
    return await w.client.get(attachment["downloadUrl"], headers=h)


def _boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("a bug")


def _refused(*_args: object, **_kwargs: object) -> None:
    raise ConnectionRefusedError("nothing listens")


def written(response: httpx.Response) -> tuple[list[str], list[str]]:
    """The messages a response writes for its client (graphql-core's exempt) and its codes."""
    kind = response.headers.get("content-type", "")
    if "json" not in kind:
        return [re.sub(r"<[^>]*>", " ", response.text).strip()], []
    found: list[str] = []
    codes: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("code"), str):
                codes.append(value["code"])
            code = value.get("code") or (value.get("extensions") or {}).get("code")
            if isinstance(value.get("message"), str) and code not in EXEMPT:
                found.append(value["message"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(response.json())
    return found, codes


@pytest.fixture
def world(
    api: Api,
    client: httpx.AsyncClient,
    factory: Factory,
    make_api: MakeApi,
    links: DownloadLinks,
    monkeypatch: pytest.MonkeyPatch,
    storage_dir: Path,
) -> World:
    return World(api, client, factory, make_api, links, monkeypatch, storage_dir)


@pytest.fixture
def links(app: Any) -> DownloadLinks:
    found: DownloadLinks = app.state.links
    return found


@pytest.mark.parametrize("name", CASES)
async def test_every_error_is_chinese_by_default_and_english_on_request(
    world: World, name: str
) -> None:
    answers = {}
    for tag, headers in (("zh-CN", {}), ("en", {"Accept-Language": ENGLISH})):
        response = await CASES[name](world, headers)
        assert response.headers.get("content-language") == tag, (tag, response.text)
        found, codes = written(response)
        assert found, f"{name}: no message in {response.text!r}"
        for message in found:
            check(message, tag == "zh-CN", f"{name} ({tag}, HTTP {response.status_code})")
        answers[tag] = (response.status_code, codes, found)
    (zh_status, zh_codes, zh_found), (en_status, en_codes, en_found) = answers.values()
    assert (zh_status, zh_codes) == (en_status, en_codes), "codes never change with language"
    assert zh_found != en_found


async def test_graphql_cores_own_messages_stay_and_carry_a_validation_code(
    client: httpx.AsyncClient,
) -> None:
    documents = [
        ("GRAPHQL_PARSE_FAILED", "{", None),
        ("GRAPHQL_VALIDATION_FAILED", "{ nope }", None),
        # Variables are coerced as execution starts; graphql-core gives that refusal no code.
        ("GRAPHQL_VALIDATION_FAILED", "query($f: Int!) { countries(first: $f) { code } }", {}),
    ]
    for code, query, variables in documents:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == code, error
        assert not CJK.search(error["message"])  # graphql-core's words, as it writes them
        assert response.headers["content-language"] == "zh-CN"
