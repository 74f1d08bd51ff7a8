"""A request's details as GraphQL objects: its attachments and its status changes, views of
their records like the request itself (``schema.types``), and the means they share: fields read
from the record (``recorded``), global IDs.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import strawberry

from db.listed import ListedAttachment
from db.models import AttachmentSlot
from db.records import AttachmentRecord, StatusChangeRecord
from db.status import Role, Status
from schema import (
    enums,  # noqa: F401 (registers the domain's enums)
    ids,
)
from schema.basics import Node
from schema.executor.strawberry import attribute_resolver
from schema.messages import SLOT_LABELS, label
from schema.presentation import Presentation

NODE_ID = "全局ID: the object's opaque Relay global ID, for node(id) and refetching."


def recorded(attribute: str) -> Callable[[Any], Any]:
    """The resolver of a field that is its record's ``attribute`` as it is."""
    return attribute_resolver(f"record.{attribute}")


def global_id(self: Any) -> strawberry.ID:
    """The global ID of a view whose record has an ``id``."""
    return strawberry.ID(ids.encode(type(self).__name__, self.record.id))


def _slot_label(self: "Attachment") -> str:
    return label(SLOT_LABELS[self.record.slot.value], self.shown.language)


@strawberry.type(description="附件: a file attached to a request (附件信息).")
class Attachment(Node):
    record: strawberry.Private[AttachmentRecord]
    shown: strawberry.Private[Presentation]
    id: strawberry.ID = strawberry.field(resolver=global_id, description=NODE_ID)
    slot: AttachmentSlot = strawberry.field(
        resolver=recorded("slot"), description="附件类型: the slot the file is in."
    )
    slot_label: str = strawberry.field(
        resolver=_slot_label,
        description="附件类型名称: the slot's name in the viewer's language (原产地证明 / Proof "
        "of origin).",
    )
    file_name: str = strawberry.field(
        resolver=recorded("file_name"),
        description="文件名: the original file name, for display (never a path on the server).",
    )
    content_type: str = strawberry.field(
        resolver=recorded("content_type"),
        description="文件类型: application/pdf, image/jpeg or image/png, as the bytes showed.",
    )
    size: int = strawberry.field(
        resolver=recorded("size"),
        description="文件大小: in bytes; at most 4,194,304 (4 MiB), a PDF at most 307,200 "
        "(300 KiB) by default.",
    )
    sha256: str = strawberry.field(
        resolver=recorded("sha256"),
        description="SHA-256摘要: of the stored bytes, 64 lowercase hexadecimal digits.",
    )
    uploaded_at: dt.datetime = strawberry.field(
        resolver=recorded("created_at"),
        description="上传时间: when it was uploaded (ISO 8601 with UTC offset).",
    )

    @strawberry.field(
        description="下载链接: a link to the file for the viewer, valid for a few minutes (5 by "
        "default; no token needed): an absolute URL when the service has a public URL "
        "configured, otherwise a path (/attachments/…) on the host that serves /graphql."
    )
    def download_url(self) -> str:
        return self.shown.download_url(self.record.id)

    @strawberry.field(
        description="预览链接 (preview link): like downloadUrl, but the file is served "
        "`Content-Disposition: inline` under a sandboxing Content-Security-Policy, so that a PDF "
        "or image opens in the browser without running anything; valid for a few minutes."
    )
    def preview_url(self) -> str:
        return self.shown.preview_url(self.record.id)


@strawberry.type(description="状态变更: one status change in a request's history.")
class StatusChange:
    record: strawberry.Private[StatusChangeRecord]
    from_: Status | None = strawberry.field(
        name="from",
        resolver=recorded("from_status"),
        description="原状态: the status before; null for the first save.",
    )
    to: Status = strawberry.field(
        resolver=recorded("to_status"), description="新状态: the status after."
    )
    at: dt.datetime = strawberry.field(
        resolver=recorded("at"),
        description="变更时间: when it happened (ISO 8601 with UTC offset).",
    )
    actor: str = strawberry.field(
        resolver=recorded("actor_username"),
        description="操作人: the username of who made the change.",
    )
    actor_role: Role = strawberry.field(
        resolver=recorded("actor_role"), description="操作人角色: enterprise user or customs."
    )
    remark: str | None = strawberry.field(
        resolver=recorded("remark"),
        description="意见: the reason or opinion customs gave (退回原因, 办结意见), if any.",
    )


def attachment(row: AttachmentRecord, presentation: Presentation) -> Attachment:
    record = row if isinstance(row, ListedAttachment) else ListedAttachment.of(row)
    return Attachment(record=record, shown=presentation)


# By the members' identity: an Enum member hashes in Python code (its name), which made this sort
# a tenth of building a page's objects.
SLOT_ORDER = {id(slot): index for index, slot in enumerate(AttachmentSlot)}


def slot_order(rows: Sequence[AttachmentRecord]) -> Sequence[AttachmentRecord]:
    if len(rows) < 2:
        return rows
    return sorted(rows, key=lambda row: SLOT_ORDER[id(row.slot)])
