"""Attachment mutations: upload a file to a slot (GraphQL multipart request spec) and delete one.

Files and rows cannot share a transaction, so these mutations are where the two meet (the rules
and their order are in ``db.attachments``): an upload is checked, inspected and stored *before*
its short transaction, and its file is removed again if that transaction does not commit; a
deletion removes the row and then, once committed, the file.
"""

import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload
from strawberry.types import Info

from db import attachments
from db.attachments import StoredFile
from db.errors import DomainError, ErrorCode
from db.identity import Viewer
from db.models import AttachmentSlot
from db.status import Action, role_for
from schema import details, ids, types
from schema.context import Context
from schema.coordinations import ExpectedVersion, coordination_pk
from schema.messages import Outcome
from schema.payloads import DeleteAttachmentPayload, UploadAttachmentPayload, change_coordination
from schema.selections import details_below

logger = logging.getLogger(__name__)


def attachment_pk(global_id: strawberry.ID) -> int:
    pk = ids.decode_pk(global_id, frozenset({details.Attachment.__name__}))
    if pk is None:
        raise DomainError.of(ErrorCode.NOT_FOUND, ("attachmentId",))
    return pk


async def _upload(
    info: Info[Context, None],
    coordination_id: Annotated[
        strawberry.ID, strawberry.argument(description="协调申请ID: the request's global ID.")
    ],
    slot: Annotated[AttachmentSlot, strawberry.argument(description="附件类型: an empty slot.")],
    file: Annotated[
        Upload,
        strawberry.argument(
            description="文件: a PDF, JPEG or PNG (the bytes decide), not empty, at most 4 MiB, "
            "a PDF at most 300 KiB (by default)."
        ),
    ],
    expected_version: ExpectedVersion = None,
) -> UploadAttachmentPayload:
    context = info.context
    received: object = file
    stored: StoredFile | None = None
    content_type = ""
    file_name = received.filename if isinstance(received, UploadFile) else None

    @asynccontextmanager
    async def stored_file(viewer: Viewer) -> AsyncIterator[None]:
        nonlocal stored, content_type
        pk = coordination_pk(coordination_id, "coordinationId")
        async with context.reading() as session:
            await attachments.check_upload(
                session=session,
                viewer=viewer,
                coordination_id=pk,
                slot=slot,
                expected_version=expected_version,
            )
        if not isinstance(received, UploadFile):  # a JSON request cannot carry a file
            raise DomainError.of(ErrorCode.REQUIRED, ("file",))
        content_type = await attachments.inspect(received, context.settings.file_limits)
        stored = await context.storage.put(received)
        try:
            yield
        except BaseException:
            await context.storage.delete(stored.key)  # its row was not committed
            raise

    async def change(session: AsyncSession, viewer: Viewer) -> int:
        assert stored is not None, "stored before the transaction began"
        pk = coordination_pk(coordination_id, "coordinationId")
        await attachments.record(
            session=session,
            viewer=viewer,
            coordination_id=pk,
            slot=slot,
            file_name=attachments.display_name(file_name, slot, content_type),
            content_type=content_type,
            stored=stored,
            expected_version=expected_version,
            now=context.now,
        )
        return pk

    payload = await change_coordination(
        info,
        payload=UploadAttachmentPayload,
        outcome=Outcome.UPLOAD,
        role=role_for(Action.UPLOAD),
        prefix=(),
        change=change,
        around=stored_file,
        # The new file is the payload's ``attachment``, whether or not the request's are selected.
        details=dataclasses.replace(details_below(info), attachments=True),
    )
    if not payload.errors and payload.coordination is not None:
        payload.attachment = types.attached(payload.coordination, slot)
        context.observation.upload_bytes += stored.size if stored else 0
    return payload


async def _delete(
    info: Info[Context, None],
    attachment_id: Annotated[
        strawberry.ID, strawberry.argument(description="附件ID: the attachment's global ID.")
    ],
    expected_version: ExpectedVersion = None,
) -> DeleteAttachmentPayload:
    context = info.context
    removed: list[attachments.Removed] = []

    async def change(session: AsyncSession, viewer: Viewer) -> int:
        removed.append(
            await attachments.delete(
                session=session,
                viewer=viewer,
                attachment_id=attachment_pk(attachment_id),
                expected_version=expected_version,
                now=context.now,
            )
        )
        return removed[0].coordination_id

    payload = await change_coordination(
        info,
        payload=DeleteAttachmentPayload,
        outcome=Outcome.DELETE,
        role=role_for(Action.UPLOAD),
        prefix=(),
        change=change,
    )
    if not payload.errors:
        # The row is gone for good; a failure here leaves an orphan for `xhsz storage check`.
        try:
            await context.storage.delete(removed[0].storage_key)
        except OSError:
            logger.exception("could not remove the file %s", removed[0].storage_key)
    return payload


@strawberry.type
class AttachmentMutation:
    upload_attachment = strawberry.mutation(
        resolver=_upload,
        description="上传: put a PDF, JPEG or PNG file into an empty slot of an editable request "
        "(GraphQL multipart request; send a `GraphQL-Require-Preflight` header).",
    )
    delete_attachment = strawberry.mutation(
        resolver=_delete,
        description="删除附件: remove an attachment from an editable request (to replace it, "
        "then upload).",
    )
