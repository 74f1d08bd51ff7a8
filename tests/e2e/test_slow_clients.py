"""Clients that send too little, too slowly, or leave, against ``xhsz serve`` (real uvicorn, JSON
logs) over raw sockets: a body that stops arriving is a 408 and its connection is closed; a client
that leaves mid-body is logged and counted as ``disconnected``, not as an error; an idle
keep-alive connection is closed."""

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from config.settings import Settings
from tests.servers import Server, xhsz_serve

WAIT = 10.0  # seconds any one step may take before the test gives up

JSON_START = b'{"query": "{ __typename }", "variables": {"x": "' + b"x" * 5000
MULTIPART_START = (
    b'--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query": "{ __typename }"}'
    b'\r\n--b\r\nContent-Disposition: form-data; name="0"; filename="a.png"\r\n'
    b"Content-Type: image/png\r\n\r\n" + b"x" * 5000
)
STARTS = {
    "json": ("application/json", JSON_START),
    "multipart": ("multipart/form-data; boundary=b", MULTIPART_START),
}


def environment(settings: Settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
        # Metrics of this server alone, whatever the environment of the test run says.
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        **extra,
    }


@contextmanager
def connection(server: Server) -> Iterator[socket.socket]:
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=WAIT) as sock:
        yield sock


def head(content_type: str, length: int | None) -> bytes:
    """The request line and headers of a POST to /graphql whose body is ``length`` bytes long
    (chunked when None)."""
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST /graphql HTTP/1.1\r\nHost: xhsz.test\r\nContent-Type: {content_type}\r\n"
        f"GraphQL-Require-Preflight: 1\r\n{framing}\r\n\r\n"
    ).encode()


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (socket.timeout after WAIT
    seconds of silence: the server kept it open)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    header_block, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = header_block.decode().split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def log_lines(server: Server) -> list[dict[str, Any]]:
    lines = []
    for text in server.log_text().splitlines():
        try:
            lines.append(json.loads(text))
        except ValueError:
            continue  # not one of our JSON lines
    return lines


def wait_for(found: Callable[[], list[dict[str, Any]]], count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + WAIT
    while len(lines := found()) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(lines)} of {count} lines logged: {lines}")
        time.sleep(0.05)
    return lines


def graphql_access_lines(server: Server) -> list[dict[str, Any]]:
    return [
        line
        for line in log_lines(server)
        if line.get("logger") == "xhsz.access" and line.get("path") == "/graphql"
    ]


def requests_counted(server: Server) -> dict[tuple[str, str], float]:
    response = httpx.get(f"{server.url}/metrics", timeout=WAIT)
    return {
        (sample.labels["operation"], sample.labels["outcome"]): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "xhsz_requests_total"
    }


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module, with short timeouts: a body must arrive within 1 s, an idle
    connection is closed after 1 s."""
    env = environment(
        settings, tmp_path_factory.mktemp("metrics"), XHSZ_REQUEST_BODY_TIMEOUT_SECONDS="1"
    )
    with xhsz_serve(env, options=("--timeout-keep-alive", "1")) as running:
        yield running


def test_a_client_that_leaves_mid_body_is_logged_as_disconnected_not_as_an_error(
    server: Server,
) -> None:
    logged, seen = len(log_lines(server)), len(graphql_access_lines(server))
    before = requests_counted(server)
    for content_type, start in STARTS.values():
        with connection(server) as sock:
            sock.sendall(head(content_type, 2 * len(start)) + start)
            time.sleep(0.2)  # let the server start reading (leaving earlier is the same case)
        # leaving the block closes the socket: the client is gone, half its body unsent
    lines = wait_for(lambda: graphql_access_lines(server)[seen:], 2)
    after = requests_counted(server)
    log = log_lines(server)[logged:]

    assert [(line["status"], line["outcome"], line["operation"]) for line in lines] == [
        (499, "disconnected", "http:graphql")
    ] * 2
    assert {line["level"] for line in log} == {"info"}, log
    assert not any("exception" in line for line in log)
    disconnected = ("http:graphql", "disconnected")
    assert after[disconnected] - before.get(disconnected, 0) == 2
    errors = {key: count for key, count in after.items() if key[1] == "error"}
    assert errors == {key: count for key, count in before.items() if key[1] == "error"}


def test_a_body_that_stops_arriving_is_408_and_the_connection_closed(server: Server) -> None:
    seen = len(graphql_access_lines(server))
    with (
        connection(server) as json_body,
        connection(server) as multipart_body,
        connection(server) as chunked_body,
    ):
        # Three at once, each sends part of its body and falls silent.
        for sock, (content_type, start) in zip(
            (json_body, multipart_body), STARTS.values(), strict=True
        ):
            sock.sendall(head(content_type, 2 * len(start)) + start)
        chunk = b"%x\r\n%s\r\n" % (len(JSON_START), JSON_START)
        chunked_body.sendall(head("application/json", None) + chunk)
        answers = [
            parse_response(read_until_closed(sock))
            for sock in (json_body, multipart_body, chunked_body)
        ]
    lines = wait_for(lambda: graphql_access_lines(server)[seen:], 3)

    for status, headers, body in answers:
        assert status == 408
        assert headers["connection"] == "close"
        assert headers["content-type"] == "application/json"
        assert json.loads(body) == {
            "errors": [
                {
                    "message": "请求体未在1秒内送达",
                    "extensions": {"code": "REQUEST_TIMEOUT"},
                }
            ]
        }
    assert [(line["status"], line["outcome"], line["errors"]) for line in lines] == [
        (408, "refused", ["REQUEST_TIMEOUT"])
    ] * 3


def test_an_idle_keep_alive_connection_is_closed(server: Server) -> None:
    with connection(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: xhsz.test\r\n\r\n")
        status, headers, _ = parse_response(read_until_closed(sock))
    assert status == 200
    assert "connection" not in headers, "kept alive, then closed for being idle"
