"""The body-limit middleware on a small inline app: how much of a refused body the app ever sees."""

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from api.limits import BodyLimit

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
    app = BodyLimit(recorder, path="/graphql", json_bytes=5 * CHUNK, multipart_bytes=20 * CHUNK)

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
