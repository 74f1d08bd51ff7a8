"""Attachments against a real uvicorn server: a GraphQL client library uploads, a 50 MiB body is
turned away, and a server killed between storing a file and committing its row leaves only an
orphan file, which ``xhsz storage check`` finds and ``--repair`` removes."""

import asyncio
import hashlib
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from urllib.parse import unquote

import httpx
from gql import Client, FileVar, gql
from gql.transport.httpx import HTTPXAsyncTransport
from sqlalchemy import text

from config.settings import Settings
from db.database import Database
from db.models import Attachment
from tests.servers import uvicorn_process, uvicorn_server
from tests.support import (
    PREFLIGHT,
    Api,
    Factory,
    count_rows,
    sample,
    stored_files,
    upload_body,
    xhsz,
)
from tests.support import valid_input as form

MiB = 1024 * 1024
STORED_KEY = re.compile(r"([0-9a-f]{2})/\1[0-9a-f]{30}")

CLIENT_UPLOAD = """
mutation($coordinationId: ID!, $slot: AttachmentSlot!, $file: Upload!) {
  uploadAttachment(coordinationId: $coordinationId, slot: $slot, file: $file) {
    message errors { code }
    attachment { fileName contentType size sha256 downloadUrl }
  }
}
"""


def environment(settings: Settings) -> dict[str, str]:
    return {
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
    }


async def test_a_graphql_client_library_uploads_and_the_file_downloads_back(
    api: Api, factory: Factory, settings: Settings
) -> None:
    alice = await factory.enterprise_user()
    request = await api.create(alice, form("RULING_DECLARATION"))
    content = sample("pdf", 280 * 1024)
    name = "原产地证明（韩国海关退回）.pdf"

    with uvicorn_server(environment(settings)) as url:
        transport = HTTPXAsyncTransport(
            url=f"{url}/graphql",
            headers={"Authorization": f"Bearer {alice.token}", **PREFLIGHT},
            timeout=30,
        )
        async with Client(transport=transport) as session:
            operation = gql(CLIENT_UPLOAD)
            operation.variable_values = {
                "coordinationId": request["id"],
                "slot": "ORIGIN_PROOF",
                "file": FileVar(io.BytesIO(content), filename=name, content_type="text/plain"),
            }
            result = await session.execute(operation, upload_files=True)
        payload = result["uploadAttachment"]
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:  # the link is a path
            response = await http.get(payload["attachment"]["downloadUrl"])

    assert payload["message"] == "上传成功"
    assert payload["errors"] == []
    digest = hashlib.sha256(content).hexdigest()
    assert payload["attachment"] | {"downloadUrl": ""} == {
        "fileName": name,
        "contentType": "application/pdf",
        "size": len(content),
        "sha256": digest,
        "downloadUrl": "",
    }
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == digest
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(content))
    disposition = response.headers["content-disposition"]
    assert unquote(disposition.partition("filename*=UTF-8''")[2]) == name


async def test_a_50_mib_upload_is_refused_with_413_and_the_server_carries_on(
    api: Api, factory: Factory, settings: Settings, database: Database, storage_dir: Path
) -> None:
    alice = await factory.enterprise_user()
    request = await api.create(alice, form("CCPIT_CERTIFICATE"))
    body, headers = upload_body(request["id"], sample("png", 50 * MiB))
    headers |= {"Authorization": f"Bearer {alice.token}", **PREFLIGHT}

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), MiB):
            yield body[start : start + MiB]

    with uvicorn_server(environment(settings)) as url:
        async with httpx.AsyncClient(timeout=60) as http:
            announced = await http.post(f"{url}/graphql", content=body, headers=headers)
            streamed = await http.post(f"{url}/graphql", content=chunks(), headers=headers)
            alive = await http.get(f"{url}/healthz")

    assert (announced.status_code, streamed.status_code) == (413, 413)
    assert announced.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert alive.status_code == 200
    assert await count_rows(database, Attachment) == 0
    assert stored_files(storage_dir) == []


@asynccontextmanager
async def writes_blocked(database: Database) -> AsyncIterator[None]:
    """Hold back every attachment write: SQLite's write lock, PostgreSQL's table lock."""
    async with database.write_engine.connect() as connection:
        await connection.begin()  # BEGIN IMMEDIATE on SQLite: the database's one write lock
        if not database.is_sqlite:
            await connection.execute(text("LOCK TABLE attachments IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            await connection.rollback()


async def stored_key(storage_dir: Path) -> str:
    """The key of the first whole stored file, as soon as there is one."""
    async with asyncio.timeout(20):
        while True:
            whole = [key for key in stored_files(storage_dir) if STORED_KEY.fullmatch(key)]
            if whole:
                return whole[0]
            await asyncio.sleep(0.05)


async def test_a_crash_before_the_commit_leaves_an_orphan_file_that_storage_check_repairs(
    api: Api, factory: Factory, settings: Settings, database: Database, storage_dir: Path
) -> None:
    alice = await factory.enterprise_user()
    request = await api.create(alice, form("CCPIT_CERTIFICATE"))

    with uvicorn_process(environment(settings)) as server:
        client = Api(httpx.AsyncClient(base_url=server.url, timeout=60))
        async with client.client, writes_blocked(database):
            upload = asyncio.create_task(
                client.upload(alice, request["id"], "ORIGIN_PROOF", sample("png", MiB), "a.png")
            )
            key = await stored_key(storage_dir)
            server.process.kill()  # the file is durable, its row not yet committed
            server.process.wait()
            with suppress(httpx.TransportError):
                await upload

    assert await count_rows(database, Attachment) == 0
    assert stored_files(storage_dir) == [key]
    assert (storage_dir / key).read_bytes() == sample("png", MiB)

    found = xhsz(settings, "storage", "check")
    assert found.returncode == 1
    assert found.stdout.splitlines()[0] == (f"orphan   {key}  {MiB} bytes, no attachment names it")
    repaired = xhsz(settings, "storage", "check", "--repair", "--grace-minutes", "0")
    assert repaired.returncode == 0, repaired.stdout
    assert stored_files(storage_dir) == []
    assert xhsz(settings, "storage", "check").returncode == 0
