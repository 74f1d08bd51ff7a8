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
from schema import types
from schema.context import Context
from schema.messages import Outcome, error_message
from schema.selections import details_below

strawberry.enum(ErrorCode, name="ErrorCode")


@strawberry.type(description="A refusal: which argument it concerns, a stable code, a message.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='The path from the mutation\'s arguments, e.g. ["input", "contactPhone"].'
    )
    code: ErrorCode
    message: str


@strawberry.type
class CoordinationPayload:
    coordination: types.CoordinationRequest | None
    message: str
    errors: list[UserError]


@strawberry.type
class SaveCoordinationPayload(CoordinationPayload):
    pass


@strawberry.type
class SubmitCoordinationPayload(CoordinationPayload):
    pass


@strawberry.type
class WithdrawCoordinationPayload(CoordinationPayload):
    pass


@strawberry.type
class DeleteCoordinationPayload(CoordinationPayload):
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The ID of the deleted request (it is no longer readable)."
    )


@strawberry.type
class RecordCustomsReceiptPayload(CoordinationPayload):
    pass


@strawberry.type
class UploadAttachmentPayload(CoordinationPayload):
    attachment: types.Attachment | None = strawberry.field(
        default=None, description="The uploaded file (null when refused)."
    )


@strawberry.type
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
