"""Downloading attachments through their signed links: the same bytes and name come back, in every
status, and only to whom the link was issued while they may see the request."""

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from sqlalchemy import update
from starlette.applications import Starlette

from api.downloads import DamagedFile, DownloadLinks
from db.clock import utcnow
from db.database import Database
from db.models import User
from tests.support import (
    Actor,
    Api,
    Factory,
    pk_of,
    sample,
    stored_files,
    update_coordination,
    valid_input,
)

NODE = "query($id: ID!) { node(id: $id) { ... on Attachment { downloadUrl } } }"


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


@pytest.fixture
async def request_id(api: Api, alice: Actor) -> str:
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    return str(saved["id"])


@pytest.fixture
def links(app: Starlette) -> DownloadLinks:
    found: DownloadLinks = app.state.links
    return found


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    query.update(changes)
    return parts._replace(query="&".join(f"{k}={v}" for k, v in query.items())).geturl()


async def download_url(api: Api, actor: Actor, attachment_id: str) -> str:
    data = await api.data(NODE, {"id": attachment_id}, actor=actor)
    assert data["node"] is not None
    url: str = data["node"]["downloadUrl"]
    return url


async def test_a_download_returns_the_same_bytes_type_length_and_chinese_name(
    api: Api, client: httpx.AsyncClient, alice: Actor, request_id: str
) -> None:
    content = sample("pdf", 250 * 1024)
    name = "原产地证明 “KR”（第2页）.pdf"
    attachment = await api.attach(alice, request_id, "ORIGIN_PROOF", content, name)

    response = await client.get(attachment["downloadUrl"])

    assert response.status_code == 200
    assert response.content == content
    assert hashlib.sha256(response.content).hexdigest() == attachment["sha256"]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private, no-store"
    disposition = response.headers["content-disposition"]
    assert disposition == (
        "attachment; filename=\"KR(2).pdf\"; filename*=UTF-8''"
        + "%E5%8E%9F%E4%BA%A7%E5%9C%B0%E8%AF%81%E6%98%8E%20%E2%80%9CKR%E2%80%9D"
        + "%EF%BC%88%E7%AC%AC2%E9%A1%B5%EF%BC%89.pdf"
    )
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == name


async def test_an_ascii_name_and_an_all_chinese_name_get_a_plain_fallback(
    api: Api, client: httpx.AsyncClient, alice: Actor, request_id: str
) -> None:
    plain = await api.attach(alice, request_id, "OTHER_1", sample("png", 1000), "scan 01.png")
    chinese = await api.attach(alice, request_id, "OTHER_2", sample("jpeg", 1000), "进口报关单.jpg")
    assert (await client.get(plain["downloadUrl"])).headers["content-disposition"] == (
        "attachment; filename=\"scan 01.png\"; filename*=UTF-8''scan%2001.png"
    )
    disposition = (await client.get(chinese["downloadUrl"])).headers["content-disposition"]
    assert disposition.startswith('attachment; filename="attachment.jpg"; filename*=UTF-8')


@pytest.mark.parametrize(
    "status",
    ["DRAFT", "PENDING", "WITHDRAWN", "RECEIPT_FAILED", "RETURNED", "ACCEPTED", "CONCLUDED"],
)
async def test_attachments_download_in_every_status(
    api: Api,
    client: httpx.AsyncClient,
    alice: Actor,
    request_id: str,
    database: Database,
    status: str,
) -> None:
    attachment = await api.attach(alice, request_id, "OTHER_1", sample("png", 5000), "a.png")
    await update_coordination(database, request_id, status=status)
    fresh = await download_url(api, alice, attachment["id"])
    assert (await client.get(fresh)).content == sample("png", 5000)


async def test_customs_officers_download_any_enterprises_attachment(
    api: Api, client: httpx.AsyncClient, factory: Factory, alice: Actor, request_id: str
) -> None:
    attachment = await api.attach(alice, request_id, "OTHER_1", sample("jpeg", 3000), "a.jpg")
    customs = await factory.customs_user()
    response = await client.get(await download_url(api, customs, attachment["id"]))
    assert response.status_code == 200
    assert response.content == sample("jpeg", 3000)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url: url.replace("/attachments/", "/attachments/1"),
        lambda url: with_query(url, expires=str(int(utcnow().timestamp()) + 86400)),
        lambda url: with_query(url, user="999999.1"),
        lambda url: with_query(url, signature="A" * 43),
        lambda url: url.split("?")[0],
        lambda url: with_query(url, signature=""),
    ],
    ids=["attachment", "expiry", "user", "signature", "no-query", "empty-signature"],
)
async def test_a_tampered_link_is_forbidden(
    api: Api, client: httpx.AsyncClient, alice: Actor, request_id: str, tamper: Any
) -> None:
    attachment = await api.attach(alice, request_id, "OTHER_1", sample("png", 100), "a.png")
    response = await client.get(tamper(attachment["downloadUrl"]))
    assert response.status_code == 403
    assert sample("png", 100) not in response.content


async def test_an_expired_link_is_forbidden(
    api: Api, client: httpx.AsyncClient, alice: Actor, request_id: str, links: DownloadLinks
) -> None:
    attachment = await api.attach(alice, request_id, "OTHER_1", sample("png", 100), "a.png")
    issued: dict[str, Any] = {
        "user_id": alice.user_id,
        "token_version": 1,
    }
    expired = links.url(
        pk_of(attachment["id"]), **issued, now=utcnow() - links.ttl - dt.timedelta(seconds=1)
    )
    assert (await client.get(expired)).status_code == 403
    still_valid = links.url(pk_of(attachment["id"]), **issued, now=utcnow() - links.ttl / 2)
    assert (await client.get(still_valid)).status_code == 200


async def test_a_link_dies_with_the_users_tokens(
    api: Api, client: httpx.AsyncClient, alice: Actor, request_id: str, database: Database
) -> None:
    attachment = await api.attach(alice, request_id, "OTHER_1", sample("png", 100), "a.png")
    async with database.writer() as session, session.begin():
        await session.execute(update(User).where(User.id == alice.user_id).values(token_version=2))
    assert (await client.get(attachment["downloadUrl"])).status_code == 403


async def test_another_enterprise_never_gets_the_file(
    api: Api,
    client: httpx.AsyncClient,
    factory: Factory,
    alice: Actor,
    request_id: str,
    links: DownloadLinks,
) -> None:
    secret = sample("pdf", 2000)
    attachment = await api.attach(alice, request_id, "ORIGIN_PROOF", secret, "a.pdf")
    mallory = await factory.enterprise_user()
    own_request = await api.create(mallory, valid_input("CCPIT_CERTIFICATE"))
    own = await api.attach(mallory, own_request["id"], "OTHER_1", sample("png", 1000), "m.png")

    # no link to Alice's file through the API…
    assert (await api.data(NODE, {"id": attachment["id"]}, actor=mallory))["node"] is None
    # …Mallory's own link does not open it…
    hijacked = own["downloadUrl"].replace(
        f"/attachments/{pk_of(own['id'])}?", f"/attachments/{pk_of(attachment['id'])}?"
    )
    responses = [await client.get(hijacked)]
    # …and even a correctly signed link issued to Mallory is checked against what she may see.
    minted = links.url(
        pk_of(attachment["id"]),
        user_id=mallory.user_id,
        token_version=1,
        now=utcnow(),
    )
    responses.append(await client.get(minted))

    assert [r.status_code for r in responses] == [403, 404]
    assert all(secret not in r.content for r in responses)


async def test_a_deleted_requests_files_are_kept_but_not_served(
    api: Api,
    client: httpx.AsyncClient,
    alice: Actor,
    request_id: str,
    database: Database,
    storage_dir: Path,
) -> None:
    attachment = await api.attach(alice, request_id, "OTHER_1", sample("png", 100), "a.png")
    await update_coordination(database, request_id, deleted_at=utcnow())
    assert (await client.get(attachment["downloadUrl"])).status_code == 404
    assert len(stored_files(storage_dir)) == 1, "kept for audit until a purge"


async def test_a_missing_file_is_a_server_error_not_an_empty_download(
    api: Api, client: httpx.AsyncClient, alice: Actor, request_id: str, storage_dir: Path
) -> None:
    attachment = await api.attach(alice, request_id, "OTHER_1", sample("png", 100), "a.png")
    [key] = stored_files(storage_dir)
    (storage_dir / key).unlink()
    assert (await client.get(attachment["downloadUrl"])).status_code == 500


async def test_a_damaged_file_never_downloads_complete(
    api: Api, client: httpx.AsyncClient, alice: Actor, request_id: str, storage_dir: Path
) -> None:
    content = sample("png", 300 * 1024)
    attachment = await api.attach(alice, request_id, "OTHER_1", content, "a.png")
    [key] = stored_files(storage_dir)
    damaged = bytearray(content)
    damaged[150_000] ^= 0xFF
    (storage_dir / key).write_bytes(bytes(damaged))

    received = bytearray()

    async def download() -> None:
        async with client.stream("GET", attachment["downloadUrl"]) as response:
            async for chunk in response.aiter_bytes():
                received.extend(chunk)

    with pytest.raises(DamagedFile):
        await download()
    assert len(received) < len(content)
