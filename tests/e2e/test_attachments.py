"""uploadAttachment and deleteAttachment over HTTP (GraphQL multipart requests): what is accepted,
every refusal in the order SPEC §8 gives, and that a refusal stores nothing at all."""

import asyncio
import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from db.database import Database
from db.models import Attachment
from tests import samples
from tests.support import (
    UPLOAD,
    Actor,
    Api,
    Factory,
    count_rows,
    pk_of,
    sample,
    stored_files,
    update_coordination,
    valid_input,
)

MiB, KiB = 1024 * 1024, 1024
UPLOAD_FAILED = "上传失败"


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


@pytest.fixture
async def request_id(api: Api, alice: Actor) -> str:
    saved = await api.create(alice, valid_input("CUSTOMS_CERTIFICATE"))
    return str(saved["id"])


async def assert_nothing_stored(
    api: Api, alice: Actor, request_id: str, database: Database, storage_dir: Path
) -> None:
    """No row, no file (not even a temporary one), and the request unchanged."""
    assert await count_rows(database, Attachment) == 0
    assert stored_files(storage_dir) == []
    request = await api.get(alice, id=request_id)
    assert request["attachments"] == []
    assert request["version"] == 1


def refusal(payload: dict[str, Any]) -> tuple[str, list[str] | None, str]:
    assert payload["coordination"] is None
    assert payload["attachment"] is None
    assert payload["message"] == UPLOAD_FAILED
    [error] = payload["errors"]
    return error["code"], error["field"], error["message"]


async def test_an_upload_stores_the_file_and_shows_it_on_the_request(
    api: Api, alice: Actor, request_id: str, storage_dir: Path
) -> None:
    content = sample("pdf", 200 * KiB)
    payload = await api.upload(alice, request_id, "ORIGIN_PROOF", content, "原产地证明（2026）.pdf")

    assert payload["errors"] == []
    assert payload["message"] == "上传成功"
    attachment = payload["attachment"]
    assert attachment["slot"] == "ORIGIN_PROOF"
    assert attachment["fileName"] == "原产地证明（2026）.pdf"
    assert attachment["contentType"] == "application/pdf"
    assert attachment["size"] == len(content)
    assert attachment["sha256"] == hashlib.sha256(content).hexdigest()
    assert attachment["downloadUrl"].startswith("/attachments/")
    request = payload["coordination"]
    assert request["version"] == 2
    assert request["status"] == "DRAFT"
    assert request["attachments"] == [
        {k: v for k, v in attachment.items() if k not in ("uploadedAt", "downloadUrl")}
    ]
    assert (await api.get(alice, id=request_id)) == request

    [key] = stored_files(storage_dir)
    assert (storage_dir / key).read_bytes() == content
    assert "原产地" not in key, "stored under a name the server chose"


async def test_files_in_every_slot_are_listed_in_slot_order(
    api: Api, alice: Actor, request_id: str
) -> None:
    for slot in ("OTHER_2", "IMPORT_DECLARATION", "OTHER_1", "ORIGIN_PROOF"):
        await api.attach(alice, request_id, slot, sample("jpeg", 10 * KiB), f"{slot}.jpg")
    request = await api.get(alice, id=request_id)
    assert [a["slot"] for a in request["attachments"]] == [
        "ORIGIN_PROOF",
        "IMPORT_DECLARATION",
        "OTHER_1",
        "OTHER_2",
    ]
    assert request["version"] == 5


@pytest.mark.parametrize(
    ("kind", "size", "name", "content_type"),
    [
        ("png", 4 * MiB, "进口报关单.png", "image/png"),
        ("jpeg", 4 * MiB, "scan.JPG", "image/jpeg"),
        ("pdf", 300 * KiB, "证明.pdf", "application/pdf"),
        ("png", 1 * MiB, "原产地证明.pdf", "image/png"),
        ("jpeg", len(samples.image("JPEG")), "x", "image/jpeg"),
    ],
    ids=["png-at-4MiB", "jpeg-at-4MiB", "pdf-at-300KiB", "png-named-pdf", "smallest-jpeg"],
)
async def test_pdf_jpeg_and_png_up_to_the_limits_are_accepted_as_the_bytes_say(
    api: Api,
    alice: Actor,
    request_id: str,
    kind: str,
    size: int,
    name: str,
    content_type: str,
) -> None:
    content = sample(kind, size)
    payload = await api.upload(
        alice, request_id, "OTHER_1", content, name, content_type="application/pdf"
    )
    assert payload["errors"] == []
    attachment = payload["attachment"]
    assert attachment["fileName"] == name, "the name is only displayed"
    assert attachment["contentType"] == content_type
    assert attachment["size"] == len(content)


@pytest.mark.parametrize(
    ("content", "name", "code", "message"),
    [
        (b"", "空.pdf", "EMPTY_FILE", "附件不能为空文件"),
        (sample("png", 4 * MiB + 1), "big.png", "FILE_TOO_LARGE", "附件大小不能超过4M"),
        (
            sample("pdf", 300 * KiB + 1),
            "big.pdf",
            "PDF_TOO_LARGE",
            "PDF附件大小不能超过300K，请压缩后重新上传",
        ),
        (
            sample("exe", 10 * KiB),
            "原产地证明.pdf",
            "FILE_TYPE_NOT_ALLOWED",
            "附件只能是PDF、JPG或PNG格式",
        ),
        (b"GIF89a" + bytes(100), "a.gif", "FILE_TYPE_NOT_ALLOWED", "附件只能是PDF、JPG或PNG格式"),
        (b" %PDF-1.7", "a.pdf", "FILE_TYPE_NOT_ALLOWED", "附件只能是PDF、JPG或PNG格式"),
    ],
    ids=["empty", "over-4MiB", "pdf-over-300KiB", "exe-named-pdf", "gif", "not-at-the-start"],
)
async def test_a_refused_file_stores_nothing(
    api: Api,
    alice: Actor,
    request_id: str,
    database: Database,
    storage_dir: Path,
    content: bytes,
    name: str,
    code: str,
    message: str,
) -> None:
    payload = await api.upload(
        alice, request_id, "ORIGIN_PROOF", content, name, content_type="application/pdf"
    )
    assert refusal(payload) == (code, ["file"], message)
    await assert_nothing_stored(api, alice, request_id, database, storage_dir)


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (sample("png", 4 * MiB + 1), "FILE_TOO_LARGE", "Files must not exceed 4 MB"),
        (
            sample("pdf", 300 * KiB + 1),
            "PDF_TOO_LARGE",
            "PDF files must not exceed 300 KB; please compress the file and upload it again",
        ),
        (b"", "EMPTY_FILE", "The file is empty"),
    ],
)
async def test_refusals_speak_english_on_request(
    api: Api, alice: Actor, request_id: str, content: bytes, code: str, message: str
) -> None:
    payload = await api.upload(alice, request_id, "OTHER_1", content, "f.pdf", language="en")
    assert payload["message"] == "Upload failed"
    assert [(e["code"], e["message"]) for e in payload["errors"]] == [(code, message)]


@pytest.mark.parametrize(
    ("first_slot", "status", "content", "code", "field"),
    [
        (None, "PENDING", b"", "INVALID_STATUS", None),
        ("ORIGIN_PROOF", "DRAFT", b"", "SLOT_OCCUPIED", ["slot"]),
        (None, "DRAFT", sample("exe", 4 * MiB + 1), "FILE_TOO_LARGE", ["file"]),
        (None, "DRAFT", sample("exe", 400 * KiB), "FILE_TYPE_NOT_ALLOWED", ["file"]),
        (None, "DRAFT", sample("pdf", 4 * MiB + 1), "FILE_TOO_LARGE", ["file"]),
    ],
    ids=[
        "status-before-empty",
        "slot-before-empty",
        "size-before-type",
        "type-before-pdf-size",
        "file-size-before-pdf-size",
    ],
)
async def test_checks_run_in_the_order_of_the_spec(
    api: Api,
    alice: Actor,
    request_id: str,
    database: Database,
    first_slot: str | None,
    status: str,
    content: bytes,
    code: str,
    field: list[str] | None,
) -> None:
    if first_slot:
        await api.attach(alice, request_id, first_slot, sample("png", 100), "first.png")
    await update_coordination(database, request_id, status=status)
    payload = await api.upload(alice, request_id, "ORIGIN_PROOF", content, "x.pdf")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]


async def test_a_filled_slot_is_refused_until_its_file_is_deleted(
    api: Api, alice: Actor, request_id: str, database: Database, storage_dir: Path
) -> None:
    first = await api.attach(alice, request_id, "ORIGIN_PROOF", sample("png", 1000), "旧.png")
    [first_file] = stored_files(storage_dir)

    again = await api.upload(alice, request_id, "ORIGIN_PROOF", sample("pdf", 1000), "新.pdf")
    assert refusal(again) == ("SLOT_OCCUPIED", ["slot"], "该附件已上传，如需更换请先删除")
    assert await count_rows(database, Attachment) == 1
    assert stored_files(storage_dir) == [first_file]
    assert (await api.get(alice, id=request_id))["attachments"][0]["id"] == first["id"]

    deleted = await api.delete_attachment(alice, first["id"])
    assert deleted["errors"] == []
    assert deleted["message"] == "删除成功"
    assert deleted["coordination"]["attachments"] == []
    assert deleted["coordination"]["version"] == 3
    assert stored_files(storage_dir) == []

    replaced = await api.attach(alice, request_id, "ORIGIN_PROOF", sample("pdf", 1000), "新.pdf")
    assert replaced["fileName"] == "新.pdf"
    assert len(stored_files(storage_dir)) == 1


@pytest.mark.parametrize("status", ["PENDING", "ACCEPTED", "CONCLUDED"])
async def test_no_upload_outside_the_editable_statuses(
    api: Api, alice: Actor, request_id: str, database: Database, storage_dir: Path, status: str
) -> None:
    await update_coordination(database, request_id, status=status)
    payload = await api.upload(alice, request_id, "ORIGIN_PROOF", sample("png", 1000), "a.png")
    assert refusal(payload) == ("INVALID_STATUS", None, "当前状态不允许此操作")
    assert await count_rows(database, Attachment) == 0
    assert stored_files(storage_dir) == []


@pytest.mark.parametrize("status", ["WITHDRAWN", "RECEIPT_FAILED", "RETURNED"])
async def test_uploads_and_deletions_are_allowed_in_every_editable_status(
    api: Api, alice: Actor, request_id: str, database: Database, status: str
) -> None:
    await update_coordination(database, request_id, status=status)
    attachment = await api.attach(alice, request_id, "OTHER_2", sample("png", 1000), "a.png")
    deleted = await api.delete_attachment(alice, attachment["id"])
    assert deleted["errors"] == []
    assert deleted["coordination"]["status"] == status


@pytest.mark.parametrize("status", ["PENDING", "ACCEPTED", "CONCLUDED"])
async def test_no_deletion_outside_the_editable_statuses(
    api: Api, alice: Actor, request_id: str, database: Database, storage_dir: Path, status: str
) -> None:
    attachment = await api.attach(alice, request_id, "ORIGIN_PROOF", sample("png", 1000), "a.png")
    await update_coordination(database, request_id, status=status)
    payload = await api.delete_attachment(alice, attachment["id"])
    assert payload["coordination"] is None
    assert payload["message"] == "删除失败"
    assert payload["errors"] == [
        {"field": None, "code": "INVALID_STATUS", "message": "当前状态不允许此操作"}
    ]
    assert await count_rows(database, Attachment) == 1
    assert len(stored_files(storage_dir)) == 1


async def test_another_enterprises_request_is_not_found_like_a_missing_one(
    api: Api, factory: Factory, alice: Actor, request_id: str, storage_dir: Path, database: Database
) -> None:
    mallory = await factory.enterprise_user()
    foreign = await api.upload(mallory, request_id, "ORIGIN_PROOF", sample("png", 100), "a.png")
    missing_id = base64.b64encode(f"CustomsCertificateRequest:{pk_of(request_id) + 1}".encode())
    missing = await api.upload(
        mallory, missing_id.decode(), "ORIGIN_PROOF", sample("png", 100), "a.png"
    )

    assert refusal(foreign) == ("NOT_FOUND", ["coordinationId"], "记录不存在")
    assert foreign == missing
    assert stored_files(storage_dir) == []
    assert await count_rows(database, Attachment) == 0


async def test_another_enterprise_cannot_delete_an_attachment(
    api: Api, factory: Factory, alice: Actor, request_id: str, storage_dir: Path, database: Database
) -> None:
    attachment = await api.attach(alice, request_id, "ORIGIN_PROOF", sample("png", 100), "a.png")
    mallory = await factory.enterprise_user()
    payload = await api.delete_attachment(mallory, attachment["id"])
    assert payload["errors"] == [
        {"field": ["attachmentId"], "code": "NOT_FOUND", "message": "记录不存在"}
    ]
    assert await count_rows(database, Attachment) == 1
    assert len(stored_files(storage_dir)) == 1


async def test_customs_may_neither_upload_nor_delete(
    api: Api, factory: Factory, alice: Actor, request_id: str, storage_dir: Path, database: Database
) -> None:
    customs = await factory.customs_user()
    uploaded = await api.upload(customs, request_id, "OTHER_1", sample("png", 100), "a.png")
    assert refusal(uploaded) == ("FORBIDDEN", None, "无权进行此操作")
    assert stored_files(storage_dir) == []

    attachment = await api.attach(alice, request_id, "OTHER_1", sample("png", 100), "a.png")
    deleted = await api.delete_attachment(customs, attachment["id"])
    assert [(e["code"], e["field"]) for e in deleted["errors"]] == [("FORBIDDEN", None)]
    assert await count_rows(database, Attachment) == 1
    assert len(stored_files(storage_dir)) == 1


async def test_an_anonymous_upload_is_unauthenticated_and_stores_nothing(
    api: Api, alice: Actor, request_id: str, database: Database, storage_dir: Path
) -> None:
    response = await api.multipart(
        UPLOAD,
        {"coordinationId": request_id, "slot": "OTHER_1"},
        ("a.png", sample("png", 100), "image/png"),
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await assert_nothing_stored(api, alice, request_id, database, storage_dir)


async def test_a_stale_expected_version_is_a_conflict_and_stores_nothing(
    api: Api, alice: Actor, request_id: str, database: Database, storage_dir: Path
) -> None:
    payload = await api.upload(
        alice, request_id, "OTHER_1", sample("png", 100), "a.png", expected_version=7
    )
    assert refusal(payload)[:2] == ("VERSION_CONFLICT", ["expectedVersion"])
    await assert_nothing_stored(api, alice, request_id, database, storage_dir)

    current = await api.upload(
        alice, request_id, "OTHER_1", sample("png", 100), "a.png", expected_version=1
    )
    assert current["errors"] == []
    assert current["coordination"]["version"] == 2


async def test_a_json_request_cannot_pass_a_string_for_the_file(
    api: Api, alice: Actor, request_id: str, database: Database, storage_dir: Path
) -> None:
    data = await api.data(
        UPLOAD,
        {"coordinationId": request_id, "slot": "OTHER_1", "file": "JVBERi0xLjcK"},
        actor=alice,
    )
    payload = data["uploadAttachment"]
    assert refusal(payload) == ("REQUIRED", ["file"], "附件不能为空")
    await assert_nothing_stored(api, alice, request_id, database, storage_dir)


async def test_the_file_name_keeps_no_path_and_no_control_characters(
    api: Api, alice: Actor, request_id: str
) -> None:
    names = {
        "OTHER_1": ("C:\\fakepath\\..\\进口 报关单.png", "进口 报关单.png"),
        "OTHER_2": ("../../etc/report\u202egnp.exe.png", "reportgnp.exe.png"),
        "ORIGIN_PROOF": ("   ", "origin_proof.png"),
        "IMPORT_DECLARATION": ("长" * 300 + ".png", "长" * 251 + ".png"),
    }
    for slot, (sent, _kept) in names.items():
        await api.attach(alice, request_id, slot, sample("png", 100), sent)
    request = await api.get(alice, id=request_id)
    assert {a["slot"]: a["fileName"] for a in request["attachments"]} == {
        slot: kept for slot, (_sent, kept) in names.items()
    }


async def test_concurrent_uploads_to_one_slot_keep_exactly_one_file(
    api: Api, alice: Actor, request_id: str, database: Database, storage_dir: Path
) -> None:
    payloads = await asyncio.gather(
        *(
            api.upload(alice, request_id, "ORIGIN_PROOF", sample("png", 1000 + i), f"{i}.png")
            for i in range(6)
        )
    )
    codes = sorted(e["code"] for p in payloads for e in p["errors"])
    assert codes == ["SLOT_OCCUPIED"] * 5
    [winner] = [p for p in payloads if not p["errors"]]
    [key] = stored_files(storage_dir)
    content = (storage_dir / key).read_bytes()
    assert hashlib.sha256(content).hexdigest() == winner["attachment"]["sha256"]
    assert await count_rows(database, Attachment) == 1


async def test_concurrent_uploads_to_different_slots_all_succeed(
    api: Api, alice: Actor, request_id: str, storage_dir: Path
) -> None:
    slots = ("ORIGIN_PROOF", "IMPORT_DECLARATION", "OTHER_1", "OTHER_2")
    payloads = await asyncio.gather(
        *(api.upload(alice, request_id, slot, sample("png", 2000), "a.png") for slot in slots)
    )
    assert [p["errors"] for p in payloads] == [[]] * 4
    request = await api.get(alice, id=request_id)
    assert len(request["attachments"]) == 4
    assert request["version"] == 5
    assert len(stored_files(storage_dir)) == 4
