"""One JSON log line and bounded metrics per request."""

import json
import logging
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.types import Message, Scope

from api.observability import JsonFormatter
from tests.support import Api, Factory, graphql_post_scope, sample, valid_input

SAVE = "mutation($i: SaveCoordinationInput!) { saveCoordination(input: $i) { errors { code } } }"


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_requests_are_counted_by_operation_and_outcome(
    api: Api, client: httpx.AsyncClient, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    before = await scrape(client)

    await api.post(SAVE, {"i": valid_input("CCPIT_CERTIFICATE")}, actor=alice)
    await api.post(SAVE, {"i": valid_input("CCPIT_CERTIFICATE", reason="")}, actor=alice)
    await api.post("query ChosenByTheClient123 { viewer { username } }")  # no token

    after = await scrape(client)
    counted = "xhsz_requests_total"
    ok = {"operation": "mutation:saveCoordination", "outcome": "ok"}
    refused = {"operation": "mutation:saveCoordination", "outcome": "user_error"}
    assert value(after, counted, **ok) - value(before, counted, **ok) == 1
    assert value(after, counted, **refused) - value(before, counted, **refused) == 1
    viewer = {"operation": "query:viewer", "outcome": "refused"}
    assert value(after, counted, **viewer) - value(before, counted, **viewer) == 1
    assert not any("ChosenByTheClient123" in str(key) for key in after), "no client labels"
    required = value(after, "xhsz_user_errors_total", code="REQUIRED")
    assert required - value(before, "xhsz_user_errors_total", code="REQUIRED") == 1
    unauthenticated = ("xhsz_graphql_errors_total", {"code": "UNAUTHENTICATED"})
    assert (
        value(after, unauthenticated[0], **unauthenticated[1])
        - value(before, unauthenticated[0], **unauthenticated[1])
        == 1
    )
    latency = "xhsz_request_duration_seconds_count"
    assert (
        value(after, latency, operation="mutation:saveCoordination")
        - value(before, latency, operation="mutation:saveCoordination")
        == 2
    )
    assert ("xhsz_db_connections_in_use", ()) in after


async def test_uploaded_bytes_are_counted(
    api: Api, client: httpx.AsyncClient, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    before = value(await scrape(client), "xhsz_upload_bytes_total")
    await api.attach(alice, saved["id"], "OTHER_1", sample("png", 12_345), "图.png")
    assert value(await scrape(client), "xhsz_upload_bytes_total") - before == 12_345


async def test_every_request_writes_one_access_line(
    api: Api, client: httpx.AsyncClient, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await factory.enterprise_user()
    with caplog.at_level(logging.INFO, logger="xhsz.access"):
        response = await client.post(
            "/graphql",
            json={"query": SAVE, "variables": {"i": valid_input("CCPIT_CERTIFICATE", reason="")}},
            headers={"Authorization": f"Bearer {alice.token}"},
        )
    [record] = [r for r in caplog.records if r.name == "xhsz.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["method"] == "POST"
    assert line["path"] == "/graphql"
    assert line["status"] == 200
    assert line["operation"] == "mutation:saveCoordination"
    assert line["viewer"] == alice.username
    assert line["role"] == "ENTERPRISE"
    assert line["outcome"] == "user_error"
    assert line["errors"] == ["REQUIRED"]
    assert line["duration_ms"] > 0
    assert line["level"] == "info"
    assert line["logger"] == "xhsz.access"
    assert isinstance(line["pid"], int)
    assert line["time"].endswith("Z")


async def test_plain_http_routes_are_logged_under_a_fixed_operation(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="xhsz.access"):
        response = await client.get("/healthz")
    [record] = [r for r in caplog.records if r.name == "xhsz.access"]
    assert record.__dict__["request_id"] == response.headers["x-request-id"]
    assert record.__dict__["operation"] == "http:healthz"
    assert record.__dict__["outcome"] == "ok"


def access_line(caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    [record] = [r for r in caplog.records if r.name == "xhsz.access"]
    line: dict[str, Any] = json.loads(JsonFormatter().format(record))
    return line


REFUSALS = [
    pytest.param(
        {"content": b"{", "headers": {"Content-Type": "application/json"}},
        400,
        "BAD_REQUEST",
        id="malformed-json",
    ),
    pytest.param(
        {"content": b"{}", "headers": {"Content-Type": "text/plain"}},
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        id="media-type",
    ),
    pytest.param(
        {"content": b" " * (1024 * 1024 + 1), "headers": {"Content-Type": "application/json"}},
        413,
        "PAYLOAD_TOO_LARGE",
        id="too-large",
    ),
    pytest.param(
        {"files": {"0": ("a.png", b"x", "image/png")}, "data": {"operations": "{}"}},
        400,
        "BAD_REQUEST",
        id="no-preflight",
    ),
    pytest.param({"method": "PUT", "json": {}}, 405, "METHOD_NOT_ALLOWED", id="method"),
    pytest.param({"json": {"query": "{"}}, 200, "GRAPHQL_PARSE_FAILED", id="syntax"),
    pytest.param(
        {"json": {"query": "{" + " a: __typename" * 16 + " }"}},
        200,
        "QUERY_LIMIT_EXCEEDED",
        id="query-limit",
    ),
]


@pytest.mark.parametrize(("request_", "status", "code"), REFUSALS)
async def test_requests_refused_before_they_run_are_labelled_graphql_with_the_refusal(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    request_: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = await scrape(client)
    arguments = {"method": "POST", "url": "/graphql", **request_}
    with caplog.at_level(logging.INFO, logger="xhsz.access"):
        response = await client.request(**arguments)
    after = await scrape(client)

    assert response.status_code == status
    codes = [error["extensions"]["code"] for error in response.json()["errors"]]
    assert set(codes) == {code}
    line = access_line(caplog)
    assert (line["operation"], line["status"]) == ("http:graphql", status)
    assert (line["outcome"], line["errors"]) == ("refused", codes)

    def counted(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert counted("xhsz_requests_total", operation="http:graphql", outcome="refused") == 1
    assert counted("xhsz_graphql_errors_total", code=code) == len(codes)
    assert counted("xhsz_requests_total", operation="http:graphiql", outcome="refused") == 0


async def test_only_the_graphiql_page_is_labelled_graphiql(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="xhsz.access"):
        response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    line = access_line(caplog)
    assert (line["operation"], line["outcome"], line.get("errors")) == ("http:graphiql", "ok", None)


def partial_request(content_type: str, part: bytes) -> Scope:
    return graphql_post_scope(
        [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(part) * 2).encode()),
            (b"graphql-require-preflight", b"1"),
        ]
    )


MULTIPART_START = (
    b'--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query": "{ __typename }"}'
    b'\r\n--b\r\nContent-Disposition: form-data; name="0"; filename="a.png"\r\n'
    b"Content-Type: image/png\r\n\r\n" + b"x" * 5000
)


@pytest.mark.parametrize(
    ("content_type", "part"),
    [
        ("application/json", b'{"query": "{ __typename }", "variables": {"x": "' + b"x" * 5000),
        ("multipart/form-data; boundary=b", MULTIPART_START),
    ],
    ids=["json", "multipart"],
)
async def test_a_client_that_leaves_mid_body_is_counted_as_disconnected_not_as_an_error(
    app: Starlette,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    content_type: str,
    part: bytes,
) -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": part, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    before = await scrape(client)
    with caplog.at_level(logging.INFO, logger="xhsz"):
        await app(partial_request(content_type, part), receive, send)
    after = await scrape(client)

    assert sent == [], "no one is listening"
    assert [r.levelname for r in caplog.records if r.name.startswith("xhsz")] == ["INFO"]
    line = access_line(caplog)
    assert (line["operation"], line["status"], line["outcome"]) == (
        "http:graphql",
        499,
        "disconnected",
    )
    assert "errors" not in line
    disconnected = {"operation": "http:graphql", "outcome": "disconnected"}
    counted = "xhsz_requests_total"
    assert value(after, counted, **disconnected) - value(before, counted, **disconnected) == 1
    errors = {"operation": "http:graphql", "outcome": "error"}
    assert value(after, counted, **errors) == value(before, counted, **errors)
