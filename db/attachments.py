"""Attachments (附件, SPEC §4): what a request's files must be, and recording them.

A file and its row cannot be written in one transaction (a disk is not a database), so an upload
takes three steps, each ordered so that a failure anywhere leaves no row without its file:

1. ``check_upload`` (a read): the request is the viewer's, editable and the slot is free.
2. ``inspect``: the bytes themselves: not empty, within the size limits, a whole PDF, JPEG or PNG.
3. The caller stores the file durably (temporary file, fsync, rename; ``api.storage``) and then
   ``record`` inserts its row in one short transaction that checks step 1 again. If that
   transaction does not commit, the caller removes the file.

Deleting works the other way round: ``delete`` removes the row and hands back the storage key,
and the caller removes the file once the transaction has committed. A crash between the two steps
of either leaves a file without a row, never a row without a file; ``xhsz storage check`` lists
such orphans and ``--repair`` removes them.

This module holds the rules and never touches the disk: the bytes arrive through ``Source``, and
storing and removing files is the caller's (``schema.attachments``), which keeps the database
transaction free of file I/O and SQLite's single writer lock free of fsync waits.
"""

import asyncio
import datetime as dt
import re
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete as delete_rows
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config.limits import FileLimits
from db import file_types, status, validation
from db.changes import announce, check_version, guarded_update, load_for_change
from db.errors import DomainError, ErrorCode, Problem
from db.events import EventKind
from db.identity import Viewer
from db.models import REQUIRED_SLOTS, Attachment, AttachmentSlot, Coordination
from db.queries import visible_to
from db.status import Action

FILE_NAME_MAX = 255
CHUNK_BYTES = 1024 * 1024


class Source(Protocol):
    """An uploaded file as it arrived (Starlette's ``UploadFile`` is one)."""

    async def read(self, size: int, /) -> bytes: ...

    async def seek(self, offset: int, /) -> object: ...


@dataclass(frozen=True)
class StoredFile:
    """A file made durable by the storage: where it is and what exactly was written."""

    key: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Removed:
    coordination_id: int
    storage_key: str


async def inspect(source: Source, limits: FileLimits) -> str:
    """The file's content type, after the checks of SPEC §8 in their order: empty, size,
    content type (the first bytes), PDF size, and then the structure of the kind the first bytes
    announced (``db.file_types``), which therefore reads at most the PDF limit of a PDF. Reads at
    most one chunk past the size limit, and holds a file within it in memory to check it."""
    await source.seek(0)
    chunks: list[bytes] = []
    size = 0
    while size <= limits.max_bytes:
        chunk = await source.read(CHUNK_BYTES)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    await source.seek(0)
    if size == 0:
        raise DomainError.of(ErrorCode.EMPTY_FILE, ("file",))
    if size > limits.max_bytes:
        raise DomainError.of(ErrorCode.FILE_TOO_LARGE, ("file",), max_bytes=limits.max_bytes)
    content = b"".join(chunks)
    chunks.clear()  # one copy of the file in memory, not two
    content_type = file_types.sniff(content[: file_types.SNIFF_BYTES])
    if content_type is None:
        raise DomainError.of(ErrorCode.FILE_TYPE_NOT_ALLOWED, ("file",))
    if content_type == file_types.PDF and size > limits.max_pdf_bytes:
        raise DomainError.of(ErrorCode.PDF_TOO_LARGE, ("file",), max_bytes=limits.max_pdf_bytes)
    # Parsing takes milliseconds of CPU per file: off the event loop, so other requests go on.
    if not await asyncio.to_thread(file_types.is_intact, content_type, content):
        damaged = file_types.NAMES[content_type]
        raise DomainError.of(ErrorCode.FILE_TYPE_NOT_ALLOWED, ("file",), damaged=damaged)
    return content_type


def display_name(client_name: str | None, slot: AttachmentSlot, content_type: str) -> str:
    """The name to show and to offer on download: the client's file name without any path, at
    most 255 characters, never empty, and without the characters no text field may hold (the
    direction overrides that make "report\u202efdp.exe" look like a PDF among them). They are
    dropped rather than refused: the name is the client's operating system's, not the user's
    typing, and only displayed."""
    name = validation.displayable(re.split(r"[/\\]", client_name or "")[-1])
    name = validation.displayable(name.strip("."))
    if not name:
        return slot.value.lower() + file_types.EXTENSIONS[content_type]
    if len(name) > FILE_NAME_MAX:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) < 16:
            name = stem[: FILE_NAME_MAX - len(extension) - 1] + "." + extension
        else:
            name = name[:FILE_NAME_MAX]
    return name


async def _load_for_upload(
    session: AsyncSession,
    viewer: Viewer,
    coordination_id: int,
    slot: AttachmentSlot,
    expected_version: int | None,
) -> Coordination:
    """The request, if it can take a file in ``slot`` now."""
    row = await load_for_change(
        session, viewer, Coordination.id == coordination_id, expected_version, "coordinationId"
    )
    status.apply(Action.UPLOAD, row.status)
    occupied = await session.scalar(
        select(Attachment.id).where(
            Attachment.coordination_id == coordination_id, Attachment.slot == slot
        )
    )
    if occupied is not None:
        raise DomainError.of(ErrorCode.SLOT_OCCUPIED, ("slot",))
    return row


async def _touch(
    session: AsyncSession,
    row: Coordination,
    expected_version: int | None,
    now: dt.datetime,
    kind: EventKind,
) -> None:
    """Count the change on the request and announce it. Without ``expected_version`` any version
    will do, so that files uploaded in parallel to different slots do not conflict with each
    other (the event carries the version this change produced, read back from the update)."""
    version = await guarded_update(session, row, {"updated_at": now}, version=expected_version)
    await announce(session, kind, row, status=row.status, version=version, at=now)


async def check_upload(
    *,
    session: AsyncSession,
    viewer: Viewer,
    coordination_id: int,
    slot: AttachmentSlot,
    expected_version: int | None,
) -> None:
    """Refuse, before any byte is looked at, an upload the request cannot take now."""
    await _load_for_upload(session, viewer, coordination_id, slot, expected_version)


async def record(
    *,
    session: AsyncSession,
    viewer: Viewer,
    coordination_id: int,
    slot: AttachmentSlot,
    file_name: str,
    content_type: str,
    stored: StoredFile,
    expected_version: int | None,
    now: dt.datetime,
) -> int:
    """Record a durably stored file in a free slot of an editable request; returns the row id."""
    row = await _load_for_upload(session, viewer, coordination_id, slot, expected_version)
    attachment = Attachment(
        coordination_id=row.id,
        slot=slot,
        file_name=file_name,
        content_type=content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
        created_at=now,
    )
    session.add(attachment)
    try:
        await session.flush()
    except IntegrityError:
        # Another upload to the same slot committed after our check (PostgreSQL; on SQLite
        # writers take turns): the unique (coordination_id, slot) constraint is the last word.
        raise DomainError.of(ErrorCode.SLOT_OCCUPIED, ("slot",)) from None
    await _touch(session, row, expected_version, now, EventKind.ATTACHMENT_ADDED)
    return attachment.id


async def delete(
    *,
    session: AsyncSession,
    viewer: Viewer,
    attachment_id: int,
    expected_version: int | None,
    now: dt.datetime,
) -> Removed:
    """Remove an attachment's row from an editable request; the caller removes the file after
    the commit, so that a failure in between leaves an orphan file, never a missing one."""
    found = (
        await session.execute(
            select(Attachment, Coordination)
            .join(Coordination, Attachment.coordination_id == Coordination.id)
            .where(Attachment.id == attachment_id, visible_to(viewer))
        )
    ).first()
    if found is None:
        raise DomainError.of(ErrorCode.NOT_FOUND, ("attachmentId",))
    attachment, row = found[0], found[1]
    check_version(row, expected_version)
    status.apply(Action.UPLOAD, row.status)
    result = await session.execute(delete_rows(Attachment).where(Attachment.id == attachment.id))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise DomainError.of(ErrorCode.NOT_FOUND, ("attachmentId",))
    await _touch(session, row, expected_version, now, EventKind.ATTACHMENT_REMOVED)
    return Removed(coordination_id=row.id, storage_key=attachment.storage_key)


async def missing_required_slots(
    *, session: AsyncSession, coordination_id: int
) -> list[AttachmentSlot]:
    """The required slots (原产地证明, 进口报关单) still empty: submit refuses with
    ``ATTACHMENT_REQUIRED`` for each."""
    filled = set(
        await session.scalars(
            select(Attachment.slot).where(Attachment.coordination_id == coordination_id)
        )
    )
    return [slot for slot in REQUIRED_SLOTS if slot not in filled]


async def require_attachments(*, session: AsyncSession, coordination_id: int) -> None:
    """``ATTACHMENT_REQUIRED`` for every required slot still empty (for submit), on the path
    ``("attachments", SLOT)`` so that a front end marks the empty slot."""
    missing = await missing_required_slots(session=session, coordination_id=coordination_id)
    if missing:
        raise DomainError(
            Problem(
                ErrorCode.ATTACHMENT_REQUIRED, ("attachments", slot.value), {"slot": slot.value}
            )
            for slot in missing
        )


@dataclass(frozen=True)
class Recorded:
    """What the database says a stored file should be (for ``xhsz storage check``)."""

    attachment_id: int
    coordination_no: str
    slot: AttachmentSlot
    size: int


async def recorded_files(*, session: AsyncSession) -> dict[str, Recorded]:
    """Every attachment row by storage key, deleted requests' included (they are kept)."""
    rows = await session.execute(
        select(
            Attachment.storage_key,
            Attachment.id,
            Coordination.coordination_no,
            Attachment.slot,
            Attachment.size,
        ).join(Coordination, Attachment.coordination_id == Coordination.id)
    )
    return {
        key: Recorded(attachment_id=pk, coordination_no=no, slot=slot, size=size)
        for key, pk, no, slot, size in rows
    }
