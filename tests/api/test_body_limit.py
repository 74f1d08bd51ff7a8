"""The body-limit middleware on a small inline app: how much of a refused body the app ever sees,
how long it waits for a body, and what a client that goes away leaves behind."""

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.limits import BodyLimit
from api.observability import Observation, observation_of

CHUNK = 1000


class Recorder:
    """An app that reads the whole body and says how long it was."""

    def __init__(self) -> None:
        self.called = False
        self.received = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        more = True
        while more:
            message = await receive()
            self.received += len(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(self.received).encode()})


async def post(
    recorder: Recorder, size: int, *, announced: bool, content_type: str, path: str = "/graphql"
) -> httpx.Response:
    app = BodyLimit(
        recorder, path="/graphql", json_bytes=5 * CHUNK, multipart_bytes=20 * CHUNK, timeout=10
    )

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(size // CHUNK):
            yield b"x" * CHUNK

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post(
            path,
            content=b"x" * size if announced else chunks(),
            headers={"Content-Type": content_type},
        )


@pytest.mark.parametrize(
    ("content_type", "limit"),
    [("application/json", 5 * CHUNK), ("multipart/form-data; boundary=b", 20 * CHUNK)],
)
async def test_an_announced_body_over_the_limit_never_reaches_the_app(
    content_type: str, limit: int
) -> None:
    recorder = Recorder()
    response = await post(recorder, limit + 1, announced=True, content_type=content_type)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["limit"] == limit
    assert not recorder.called


@pytest.mark.parametrize(
    ("content_type", "limit"),
    [("application/json", 5 * CHUNK), ("MULTIPART/FORM-DATA; boundary=b", 20 * CHUNK)],
)
async def test_a_streamed_body_is_cut_off_at_the_first_chunk_past_the_limit(
    content_type: str, limit: int
) -> None:
    recorder = Recorder()
    response = await post(recorder, 50 * limit, announced=False, content_type=content_type)
    assert response.status_code == 413
    assert recorder.received == limit, "the chunk that crossed the limit was never handed over"


@pytest.mark.parametrize("announced", [True, False])
async def test_a_body_of_exactly_the_limit_passes(announced: bool) -> None:
    recorder = Recorder()
    response = await post(recorder, 5 * CHUNK, announced=announced, content_type="text/plain")
    assert response.status_code == 200
    assert response.text == str(5 * CHUNK)


async def test_other_paths_are_left_alone() -> None:
    recorder = Recorder()
    response = await post(
        recorder, 50 * CHUNK, announced=True, content_type="application/json", path="/other"
    )
    assert response.status_code == 200
    assert recorder.received == 50 * CHUNK


class Client:
    """The client side of one ASGI request, driven by hand: chunks of a body, then silence, a
    trickle or a disconnect; and what the app sent back."""

    def __init__(self, chunks: list[bytes], then: str, *, every: float = 0.0) -> None:
        self.chunks = list(chunks)
        self.then = then  # "stall", "trickle", "disconnect" or "done"
        self.every = every
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        if self.chunks:
            return {"type": "http.request", "body": self.chunks.pop(0), "more_body": True}
        if self.then == "trickle":
            await asyncio.sleep(self.every)
            return {"type": "http.request", "body": b"x", "more_body": True}
        if self.then == "disconnect":
            return {"type": "http.disconnect"}
        if self.then == "done":
            self.then = "stall"
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(60)  # a body that stops arriving; the tests wait 10 s at most
        raise AssertionError("the deadline should have cut this wait short")

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        return starts[0]["status"] if starts else None

    @property
    def headers(self) -> dict[str, str]:
        [start] = [m for m in self.sent if m["type"] == "http.response.start"]
        return {name.decode(): value.decode() for name, value in start["headers"]}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


def scope() -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "headers": [(b"content-type", b"application/json")],
        "state": {"observation": Observation()},
    }


async def call(app: ASGIApp, client: Client) -> None:
    await asyncio.wait_for(app(scope(), client.receive, client.send), timeout=10)


def limited(app: ASGIApp, timeout: float) -> BodyLimit:
    return BodyLimit(
        app, path="/graphql", json_bytes=50 * CHUNK, multipart_bytes=50 * CHUNK, timeout=timeout
    )


@pytest.mark.parametrize("then", ["stall", "trickle"])
async def test_a_body_not_received_by_the_deadline_is_408_and_the_connection_closed(
    then: str,
) -> None:
    recorder = Recorder()
    client = Client([b"x" * CHUNK], then, every=0.05)
    await call(limited(recorder, timeout=0.3), client)
    assert client.status == 408
    assert client.headers["connection"] == "close"
    assert json.loads(client.body) == {
        "errors": [
            {
                "message": "请求体未在0.3秒内送达",
                "extensions": {"code": "REQUEST_TIMEOUT"},
            }
        ]
    }
    assert CHUNK <= recorder.received < 50 * CHUNK, "the app saw what had arrived in time"


async def test_the_deadline_is_for_the_body_only() -> None:
    async def answers_later(scope: Scope, receive: Receive, send: Send) -> None:
        body = await Request(scope, receive).body()
        await asyncio.sleep(0.3)  # longer than the deadline, after the whole body arrived
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    client = Client([b"x" * CHUNK], "done")
    await call(limited(answers_later, timeout=0.2), client)
    assert (client.status, client.body) == (200, b"x" * CHUNK)


async def test_a_client_that_disconnects_mid_body_gets_nothing_and_raises_nothing() -> None:
    async def reads(scope: Scope, receive: Receive, send: Send) -> None:
        await Request(scope, receive).body()  # raises ClientDisconnect
        raise AssertionError("never gets here")

    client = Client([b"x" * CHUNK], "disconnect")
    request = scope()
    app = limited(reads, timeout=10)
    await asyncio.wait_for(app(request, client.receive, client.send), timeout=10)
    assert client.sent == []
    assert observation_of(request).disconnected


async def test_an_error_after_the_body_arrived_is_not_taken_for_a_disconnect() -> None:
    async def fails(scope: Scope, receive: Receive, send: Send) -> None:
        await Request(scope, receive).body()
        raise ClientDisconnect()  # as if raised by something else: not ours to hide

    with pytest.raises(ClientDisconnect):
        await call(limited(fails, timeout=10), Client([], "done"))
