"""What reaches ``/graphql`` at all: bodies over their limit get 413 before they are read (also
when they announce no length), and a multipart request needs a preflight header (CSRF)."""

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from config.settings import Settings
from db.database import Database
from db.models import Attachment, Coordination
from tests.support import (
    PREFLIGHT,
    SAVE,
    UPLOAD,
    Actor,
    Api,
    Factory,
    count_rows,
    graphql_data,
    sample,
    stored_files,
    upload_body,
    valid_input,
)

MiB, KiB = 1024 * 1024, 1024


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


@pytest.fixture
async def request_id(api: Api, alice: Actor) -> str:
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    return str(saved["id"])


def chunked(body: bytes, chunk: int = 64 * KiB) -> AsyncIterator[bytes]:
    """The body as a stream of unknown length (sent with Transfer-Encoding: chunked)."""

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), chunk):
            yield body[start : start + chunk]

    return chunks()


def assert_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {
        "code": "PAYLOAD_TOO_LARGE",
        "limit": limit,
    }


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "chunked"])
async def test_a_json_body_over_one_mebibyte_is_refused_unread(
    client: httpx.AsyncClient, alice: Actor, database: Database, announced: bool
) -> None:
    variables = {"input": valid_input("CCPIT_CERTIFICATE", reason="x" * MiB)}
    body = json.dumps({"query": SAVE, "variables": variables}).encode()
    response = await client.post(
        "/graphql",
        content=body if announced else chunked(body),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {alice.token}"},
    )
    assert_too_large(response, MiB)
    assert await count_rows(database, Coordination) == 0


async def test_a_json_body_of_exactly_the_limit_is_read(
    client: httpx.AsyncClient, alice: Actor
) -> None:
    body = json.dumps({"query": "{ viewer { username } }"}).encode()
    padded = body[:-1] + b" " * (MiB - len(body)) + b"}"
    assert len(padded) == MiB
    response = await client.post(
        "/graphql",
        content=chunked(padded),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {alice.token}"},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"username": alice.username}}}


@pytest.mark.parametrize(
    ("size", "announced"),
    [(4 * MiB + 64 * KiB, True), (4 * MiB + 64 * KiB, False), (50 * MiB, True), (50 * MiB, False)],
    ids=["margin-content-length", "margin-chunked", "50MiB-content-length", "50MiB-chunked"],
)
async def test_an_upload_body_over_the_file_limit_and_margin_is_refused_unread(
    client: httpx.AsyncClient,
    alice: Actor,
    request_id: str,
    database: Database,
    storage_dir: Path,
    size: int,
    announced: bool,
) -> None:
    body, headers = upload_body(request_id, sample("png", size))
    response = await client.post(
        "/graphql",
        content=body if announced else chunked(body),
        headers={**headers, **PREFLIGHT, "Authorization": f"Bearer {alice.token}"},
    )
    assert_too_large(response, 4 * MiB + 64 * KiB)
    assert await count_rows(database, Attachment) == 0
    assert stored_files(storage_dir) == []


async def test_a_file_just_over_the_limit_fits_the_margin_and_is_refused_by_the_rules(
    api: Api, alice: Actor, request_id: str, storage_dir: Path
) -> None:
    payload = await api.upload(alice, request_id, "OTHER_1", sample("png", 4 * MiB + 1), "a.png")
    assert [e["code"] for e in payload["errors"]] == ["FILE_TOO_LARGE"]
    assert stored_files(storage_dir) == []


@pytest.mark.parametrize(
    "headers",
    [{}, {"GraphQL-Require-Preflight": ""}, {"X-Requested-With": "XMLHttpRequest"}],
    ids=["none", "empty", "other-header"],
)
async def test_a_multipart_request_without_a_preflight_header_is_refused(
    api: Api,
    alice: Actor,
    request_id: str,
    database: Database,
    storage_dir: Path,
    headers: dict[str, str],
) -> None:
    response = await api.multipart(
        UPLOAD,
        {"coordinationId": request_id, "slot": "OTHER_1"},
        ("a.png", sample("png", 1000), "image/png"),
        actor=alice,
        headers=headers,
    )
    assert response.status_code == 400
    assert "GraphQL-Require-Preflight" in response.text
    assert await count_rows(database, Attachment) == 0
    assert stored_files(storage_dir) == []


@pytest.mark.parametrize("header", ["GraphQL-Require-Preflight", "Apollo-Require-Preflight"])
async def test_either_preflight_header_lets_an_upload_through(
    api: Api, alice: Actor, request_id: str, header: str
) -> None:
    response = await api.multipart(
        UPLOAD,
        {"coordinationId": request_id, "slot": "OTHER_1"},
        ("a.png", sample("png", 1000), "image/png"),
        actor=alice,
        headers={header: "true"},
    )
    assert graphql_data(response)["uploadAttachment"]["errors"] == []


@pytest.fixture
async def small(app: Starlette, settings: Settings) -> AsyncIterator[Api]:
    """The app with other limits, on the same database and storage."""
    limits = dataclasses.replace(
        settings,
        max_file_bytes=1536 * KiB,
        max_pdf_bytes=512 * KiB,
        max_json_bytes=4 * KiB,
        multipart_margin_bytes=8 * KiB,
    )
    other = create_app(limits)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://xhsz.test") as http:
            yield Api(http)


async def test_the_limits_are_settings_and_the_messages_follow_them(
    small: Api, alice: Actor, request_id: str
) -> None:
    big_png = await small.upload(alice, request_id, "OTHER_1", sample("png", 1536 * KiB + 1), "a")
    big_pdf = await small.upload(alice, request_id, "OTHER_1", sample("pdf", 512 * KiB + 1), "a")
    in_english = await small.upload(
        alice, request_id, "OTHER_1", sample("pdf", 512 * KiB + 1), "a", language="en"
    )
    assert [e["message"] for e in big_png["errors"]] == ["附件大小不能超过1.5M"]
    assert [e["message"] for e in big_pdf["errors"]] == [
        "PDF附件大小不能超过512K，请压缩后重新上传"
    ]
    assert [e["message"] for e in in_english["errors"]] == [
        "PDF files must not exceed 512 KB; please compress the file and upload it again"
    ]
    assert (await small.client.post("/graphql", content=b" " * (4 * KiB + 1))).status_code == 413
    body, headers = upload_body(request_id, sample("png", 1536 * KiB + 8 * KiB))
    response = await small.client.post("/graphql", content=body, headers={**headers, **PREFLIGHT})
    assert_too_large(response, 1544 * KiB)
