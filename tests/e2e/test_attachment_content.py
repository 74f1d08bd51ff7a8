"""An attachment must be what its first bytes announce, whole: a magic number followed by anything
else (a cut-off file, a web page, a forged header) is refused as FILE_TYPE_NOT_ALLOWED and stores
nothing; real files of each kind, including the odd ones phones and office software make, pass."""

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from db.database import Database
from tests import samples
from tests.e2e.test_attachments import assert_nothing_stored, refusal
from tests.support import Actor, Api, Factory, valid_input

KiB = 1024
HTML = b"<!DOCTYPE html><html><body><script>alert(document.domain)</script></body></html>\n"


def photo() -> bytes:
    """A JPEG whose coded picture, noise, takes most of its bytes (unlike the samples', padded in
    their headers), to cut into."""
    out = io.BytesIO()
    Image.effect_noise((96, 64), 60).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


PHOTO = photo()

DAMAGED: dict[str, tuple[bytes, str]] = {
    # JPEG
    "jpeg-3-bytes": (b"\xff\xd8\xff", "JPEG"),
    "jpeg-signature-and-html": (b"\xff\xd8\xff\xe0" + HTML, "JPEG"),
    "jpeg-truncated": (PHOTO[:-200], "JPEG"),
    "jpeg-cut-in-its-header": (samples.jpeg(5000)[:2500], "JPEG"),
    "jpeg-without-eoi": (samples.jpeg(5000)[:-2], "JPEG"),
    "jpeg-without-frame-header": (samples.without_jpeg_segment(samples.jpeg(5000), 0xC0), "JPEG"),
    "jpeg-truncated-with-an-eoi-in-a-comment": (
        PHOTO[:2] + b"\xff\xfe\x00\x06\xff\xd9\xff\xd9" + PHOTO[2:-200],  # a comment of two EOIs
        "JPEG",
    ),
    "jpeg-of-4-gigapixels": (samples.jpeg_claiming(65_000, 65_000), "JPEG"),
    # PNG
    "png-signature-only": (b"\x89PNG\r\n\x1a\n", "PNG"),
    "png-signature-and-html": (b"\x89PNG\r\n\x1a\n" + HTML, "PNG"),
    "png-without-ihdr": (samples.without_png_chunk(samples.png(5000), b"IHDR"), "PNG"),
    "png-bad-ihdr-crc": (samples.with_bad_png_crc(samples.png(5000), b"IHDR"), "PNG"),
    "png-bad-text-crc": (samples.with_bad_png_crc(samples.png(5000), b"tEXt"), "PNG"),
    "png-bad-idat-crc": (samples.with_bad_png_crc(samples.png(5000), b"IDAT"), "PNG"),
    "png-without-iend": (samples.without_png_chunk(samples.png(5000), b"IEND"), "PNG"),
    "png-truncated": (samples.png(5000)[:-30], "PNG"),
    "png-of-10-gigapixels": (samples.png_claiming(100_000, 100_000), "PNG"),
    "png-of-100-megapixels": (samples.png_claiming(10_000, 10_000), "PNG"),
    # PDF
    "pdf-and-html": (b"%PDF-1.7\n" + HTML, "PDF"),
    "pdf-and-html-and-eof": (b"%PDF-1.7\n" + HTML + b"%%EOF\n", "PDF"),
    "pdf-without-eof": (samples.pdf(5000).replace(b"%%EOF", b""), "PDF"),
    "pdf-truncated": (samples.pdf(5000)[:4000], "PDF"),
    "pdf-with-its-middle-missing": (samples.pdf(5000)[:300] + samples.pdf(5000)[-400:], "PDF"),
    "pdf-without-pages": (samples.pdf_with(pages=0), "PDF"),
    "pdf-with-a-user-password": (samples.pdf_with(encrypt="AES-128", user_password="x"), "PDF"),
}


def pillow(kind: str, mode: str, **options: Any) -> bytes:
    picture = Image.new(mode, (64, 48), 90)
    out = io.BytesIO()
    picture.save(out, kind, **options)
    return out.getvalue()


def exif() -> bytes:
    tags = Image.Exif()
    tags[0x010F] = "Xiaomi"  # Make
    tags[0x0112] = 6  # Orientation
    return tags.tobytes()


VALID: dict[str, tuple[bytes, str]] = {
    "pdf": (samples.pdf(2 * KiB), "application/pdf"),
    "pdf-of-three-pages": (samples.pdf_with(pages=3), "application/pdf"),
    "pdf-with-crlf-after-eof": (samples.pdf_with() + b"\r\n", "application/pdf"),
    "pdf-rc4-no-user-password": (samples.pdf_with(encrypt="RC4-128"), "application/pdf"),
    "pdf-aes-no-user-password": (samples.pdf_with(encrypt="AES-256"), "application/pdf"),
    "png": (samples.png(2 * KiB), "image/png"),
    "png-grey-and-alpha": (pillow("PNG", "LA"), "image/png"),
    "jpeg": (samples.jpeg(2 * KiB), "image/jpeg"),
    "jpeg-progressive": (pillow("JPEG", "RGB", progressive=True, quality=80), "image/jpeg"),
    "jpeg-with-exif": (pillow("JPEG", "L", exif=exif()), "image/jpeg"),
    "jpeg-with-a-video-after-eoi": (
        samples.jpeg(2 * KiB) + b"\x00\x00\x00\x18ftypmp42" + bytes(200),
        "image/jpeg",
    ),
}


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


@pytest.fixture
async def request_id(api: Api, alice: Actor) -> str:
    saved = await api.create(alice, valid_input("CUSTOMS_CERTIFICATE"))
    return str(saved["id"])


@pytest.mark.parametrize(("content", "kind"), DAMAGED.values(), ids=DAMAGED.keys())
async def test_a_file_that_is_not_what_its_first_bytes_announce_is_refused(
    api: Api,
    alice: Actor,
    request_id: str,
    database: Database,
    storage_dir: Path,
    content: bytes,
    kind: str,
) -> None:
    payload = await api.upload(alice, request_id, "ORIGIN_PROOF", content, "原产地证明.pdf")

    assert refusal(payload) == (
        "FILE_TYPE_NOT_ALLOWED",
        ["file"],
        f"附件不是完整有效的{kind}文件，可能已损坏、不完整或经过加密，请重新生成后上传",
    )
    await assert_nothing_stored(api, alice, request_id, database, storage_dir)


async def test_the_refusal_of_a_damaged_file_speaks_english_on_request(
    api: Api, alice: Actor, request_id: str
) -> None:
    payload = await api.upload(
        alice, request_id, "OTHER_1", b"%PDF-1.7\n" + HTML, "a.pdf", language="en"
    )
    assert [(e["code"], e["message"]) for e in payload["errors"]] == [
        (
            "FILE_TYPE_NOT_ALLOWED",
            "The file is not a complete, valid PDF file (it may be damaged, cut short or "
            "password-protected); create it again and upload it",
        )
    ]


@pytest.mark.parametrize(("content", "content_type"), VALID.values(), ids=VALID.keys())
async def test_a_whole_file_of_each_kind_is_accepted(
    api: Api,
    alice: Actor,
    request_id: str,
    content: bytes,
    content_type: str,
) -> None:
    payload = await api.upload(alice, request_id, "OTHER_1", content, "scan.bin")

    assert payload["errors"] == []
    assert payload["attachment"]["contentType"] == content_type
    assert payload["attachment"]["size"] == len(content)


async def test_a_pdf_over_its_limit_is_too_large_before_its_structure_is_read(
    api: Api, alice: Actor, request_id: str
) -> None:
    """The structure of a PDF is read only within the PDF limit: the work stays bounded."""
    content = b"%PDF-1.7\n" + HTML * (301 * KiB // len(HTML))
    payload = await api.upload(alice, request_id, "OTHER_1", content, "a.pdf")
    assert [e["code"] for e in payload["errors"]] == ["PDF_TOO_LARGE"]
