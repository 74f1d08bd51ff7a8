"""The attachment rules of ``db.attachments`` that the HTTP tests cannot reach directly: content
sniffing, display names, and the required-slot check that submit uses."""

import pytest

from db import attachments, file_types
from db.database import Database
from db.errors import DomainError, ErrorCode
from db.models import AttachmentSlot
from schema.messages import Language, error_message
from tests.support import Actor, Api, Factory, pk_of, sample, valid_input


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.4\n", "application/pdf"),
        (b"\xff\xd8\xff\xdb", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\x89PNG\r\n", None),
        (b"%PDF", None),
        (b"MZ\x90\x00", None),
        (b"GIF89a", None),
        (b"<svg xmlns=", None),
        (b"PK\x03\x04", None),
        (b"\xef\xbb\xbf%PDF-1.4", None),
        (b"", None),
    ],
)
def test_only_pdf_jpeg_and_png_are_recognised_by_their_first_bytes(
    head: bytes, expected: str | None
) -> None:
    assert file_types.sniff(head) == expected


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("原产地证明.pdf", "原产地证明.pdf"),
        ("C:\\Users\\林晓\\Desktop\\报关单.png", "报关单.png"),
        ("/etc/passwd", "passwd"),
        ("../../x.pdf", "x.pdf"),
        ("bad\x00name\r\n.pdf", "badname.pdf"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("  spaced out.jpg  ", "spaced out.jpg"),
        ("..", "other_1.pdf"),
        ("", "other_1.pdf"),
        (None, "other_1.pdf"),
        ("e\u0301.pdf", "é.pdf"),
        ("line\u2028break\ufeff\uffff.pdf", "linebreak.pdf"),
        ("\u200b\u3000\u200b", "other_1.pdf"),
        ("\u200b报关单.png\u200b", "报关单.png"),
        ("\u2066isolated\u2069\u200e.png", "isolated.png"),
        ("名" * 300, "名" * 255),
        ("名" * 300 + ".jpeg", "名" * 250 + ".jpeg"),
    ],
)
def test_display_names_lose_paths_and_invisible_characters(sent: str | None, kept: str) -> None:
    assert attachments.display_name(sent, AttachmentSlot.OTHER_1, "application/pdf") == kept


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


async def test_missing_required_slots_names_the_empty_required_slots(
    api: Api, alice: Actor, database: Database
) -> None:
    request = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))

    async def missing() -> list[AttachmentSlot]:
        async with database.reader() as session:
            return await attachments.missing_required_slots(
                session=session, coordination_id=pk_of(request["id"])
            )

    assert await missing() == [AttachmentSlot.ORIGIN_PROOF, AttachmentSlot.IMPORT_DECLARATION]
    await api.attach(alice, request["id"], "OTHER_1", sample("png", 1000), "a.png")
    await api.attach(alice, request["id"], "IMPORT_DECLARATION", sample("pdf", 1000), "b.pdf")
    assert await missing() == [AttachmentSlot.ORIGIN_PROOF]
    await api.attach(alice, request["id"], "ORIGIN_PROOF", sample("jpeg", 1000), "c.jpg")
    assert await missing() == []


async def test_require_attachments_refuses_with_one_problem_per_missing_slot(
    api: Api, alice: Actor, database: Database
) -> None:
    request = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    await api.attach(alice, request["id"], "ORIGIN_PROOF", sample("png", 1000), "a.png")
    async with database.reader() as session:
        with pytest.raises(DomainError) as refused:
            await attachments.require_attachments(
                session=session, coordination_id=pk_of(request["id"])
            )
    [problem] = refused.value.problems
    assert problem.code is ErrorCode.ATTACHMENT_REQUIRED
    assert problem.field == ("attachments", "IMPORT_DECLARATION")
    assert error_message(problem, None, Language.ZH) == "请上传进口报关单附件"
    assert error_message(problem, None, Language.EN) == (
        "Please upload the import declaration attachment"
    )
