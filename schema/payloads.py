"""Mutation payloads ``{ coordination, message, errors }`` and the one place that runs a mutation:
authenticate, check the role, run the service in one transaction, and turn a ``DomainError`` into
typed ``UserError``s in the caller's language.
"""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from db import queries
from db.errors import DomainError, ErrorCode, FieldPath, Problem
from db.identity import Viewer
from db.queries import Details
from db.status import Role
from schema import details, types
from schema.context import Context
from schema.messages import Outcome, error_message
from schema.selections import details_below


@strawberry.type(
    description="错误信息: a refusal, like the seed's red hints: which argument it concerns, a "
    "stable code and a message in the viewer's language."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description='字段路径: the path from the mutation\'s arguments, e.g. ["input", '
        '"contactPhone"], ["file"] or ["attachments", "ORIGIN_PROOF"]; null when the '
        "refusal concerns the request as a whole."
    )
    code: ErrorCode = strawberry.field(
        description="错误代码: why, the same in every language (branch on this)."
    )
    message: str = strawberry.field(
        description="错误提示: what to tell the user, Chinese by default, English with "
        "Accept-Language: en."
    )


@strawberry.type(
    description="操作结果: what a mutation on a request returns: the request as it now is, a "
    "message and the refusals."
)
class CoordinationPayload:
    coordination: types.CoordinationRequest | None = strawberry.field(
        description="协调申请: the request after the change; null when refused (or deleted)."
    )
    message: str = strawberry.field(
        description="提示信息: the outcome in the viewer's language, e.g. 暂存成功 or 暂存失败."
    )
    errors: list[UserError] = strawberry.field(
        description="错误列表: why it was refused; empty on success (nothing changed otherwise)."
    )


@strawberry.type(
    description="暂存结果: what saveCoordination returns (message 暂存成功 / 暂存失败)."
)
class SaveCoordinationPayload(CoordinationPayload):
    pass


@strawberry.type(
    description="申报结果: what submitCoordination returns (message 申报成功 / 申报失败)."
)
class SubmitCoordinationPayload(CoordinationPayload):
    pass


@strawberry.type(
    description="撤回结果: what withdrawCoordination returns (message 撤回成功 / 撤回失败)."
)
class WithdrawCoordinationPayload(CoordinationPayload):
    pass


@strawberry.type(
    description="删除结果: what deleteCoordination returns (message 删除成功 / 删除失败); the "
    "request itself is null."
)
class DeleteCoordinationPayload(CoordinationPayload):
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="已删除ID: the ID of the deleted request (it is no longer readable); null "
        "when refused.",
    )


@strawberry.type(
    description="海关处理结果: what recordCustomsReceipt returns (message 操作成功 / 操作失败)."
)
class RecordCustomsReceiptPayload(CoordinationPayload):
    pass


@strawberry.type(
    description="上传结果: what uploadAttachment returns (message 上传成功 / 上传失败)."
)
class UploadAttachmentPayload(CoordinationPayload):
    attachment: details.Attachment | None = strawberry.field(
        default=None, description="附件: the uploaded file; null when refused."
    )


@strawberry.type(
    description="删除附件结果: what deleteAttachment returns (message 删除成功 / 删除失败)."
)
class DeleteAttachmentPayload(CoordinationPayload):
    pass


def user_errors(
    problems: tuple[Problem, ...], prefix: FieldPath, context: Context, *, counted: bool = True
) -> list[UserError]:
    """The payload's ``errors`` for ``problems``, in the caller's language, and counted as the
    request's refusals (``xhsz_user_errors_total``) unless they are its answer (a validation)."""
    language = context.language
    if counted:
        context.observation.user_errors.extend(problem.code.value for problem in problems)
    result = []
    for problem in problems:
        path = [_input_name(part) for part in problem.field] if problem.field else None
        result.append(
            UserError(
                field=[*prefix, *path] if path else None,
                code=problem.code,
                message=error_message(problem, path[-1] if path else None, language),
            )
        )
    return result


def _input_name(part: str) -> str:
    """A path part as the client wrote it: a field's camelCase, an enum value as it is
    (``["attachments", "ORIGIN_PROOF"]``)."""
    return part if part.isupper() else to_camel_case(part)


def check_role(viewer: Viewer, role: Role) -> None:
    """``FORBIDDEN`` unless the viewer has the role a mutation is for (before anything runs)."""
    if viewer.role is not role:
        raise DomainError.of(ErrorCode.FORBIDDEN)


P = TypeVar("P", bound=CoordinationPayload)
Change = Callable[[AsyncSession, Viewer], Awaitable[int | None]]
Around = Callable[[Viewer], AbstractAsyncContextManager[object]]


async def change_coordination(
    info: Info[Context, None],
    *,
    payload: type[P],
    outcome: Outcome,
    role: Role,
    prefix: FieldPath,
    change: Change,
    around: Around | None = None,
    details: Details | None = None,
) -> P:
    """Run ``change`` (returning the id of the request to show) as one mutation.

    ``around`` wraps the transaction, for work that must come before it and outside it, and be
    undone when it does not commit (an upload's checks and its file); it may refuse, like
    ``change``, by raising ``DomainError``. The request is read back with ``details`` (by default
    the related rows the query selects).
    """
    context = info.context
    viewer = await context.require_viewer()
    try:
        check_role(viewer, role)
    except DomainError as error:
        return _refused(payload, outcome, error.problems, prefix, context)
    presentation = context.presentation(viewer)
    details = details or details_below(info)
    try:
        async with around(viewer) if around else nullcontext(), context.transaction() as session:
            coordination_id = await change(session, viewer)
            row = (
                await queries.get_coordination(
                    session, viewer, coordination_id=coordination_id, details=details
                )
                if coordination_id is not None
                else None
            )
            node = types.coordination(row, presentation) if row else None
    except DomainError as error:
        return _refused(payload, outcome, error.problems, prefix, context)
    return payload(
        coordination=node,
        message=outcome.message(context.language, success=True),
        errors=[],
    )


def _refused(
    payload: type[P],
    outcome: Outcome,
    problems: tuple[Problem, ...],
    prefix: FieldPath,
    context: Context,
) -> P:
    return payload(
        coordination=None,
        message=outcome.message(context.language, success=False),
        errors=user_errors(problems, prefix, context),
    )
