"""Coordination requests: read one, and the mutations that change them (each calls one service
and shapes the payload)."""

from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from db import coordinations, queries
from db.errors import DomainError, ErrorCode
from db.identity import Viewer
from db.status import OUTCOME_ACTIONS, Action, role_for
from schema import ids, types
from schema.context import BadUserInput, Context
from schema.inputs import RecordCustomsReceiptInput, SaveCoordinationInput
from schema.messages import Outcome
from schema.payloads import (
    DeleteCoordinationPayload,
    P,
    RecordCustomsReceiptPayload,
    SaveCoordinationPayload,
    SubmitCoordinationPayload,
    WithdrawCoordinationPayload,
    change_coordination,
)
from schema.refusals import EXACTLY_ONE_OF_ID_AND_NO
from schema.selections import details_below


def coordination_pk(global_id: strawberry.ID | str, field: str = "id") -> int:
    """The primary key a request ID names; a malformed or foreign ID is NOT_FOUND."""
    pk = ids.decode_pk(global_id, types.COORDINATION_TYPE_NAMES)
    if pk is None:
        raise DomainError.of(ErrorCode.NOT_FOUND, (field,))
    return pk


ExpectedVersion = Annotated[
    int | None,
    strawberry.argument(
        description="预期版本: the version you read; a stale one is VERSION_CONFLICT (omit: no "
        "check)."
    ),
]
RequestId = Annotated[
    strawberry.ID, strawberry.argument(description="协调申请ID: the request's global ID.")
]


@strawberry.type
class CoordinationQuery:
    @strawberry.field(
        description="协调申请查询: one request by ID or by coordination number (give exactly "
        "one); null if missing or not yours."
    )
    async def coordination(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="协调申请ID: the request's global ID."),
        ] = None,
        coordination_no: Annotated[
            str | None,
            strawberry.argument(description="协调单号: e.g. XT2026112300000042."),
        ] = None,
    ) -> types.CoordinationRequest | None:
        viewer = await info.context.require_viewer()
        if (id is None) == (coordination_no is None):
            raise BadUserInput(EXACTLY_ONE_OF_ID_AND_NO, "id")
        pk = ids.decode_pk(id, types.COORDINATION_TYPE_NAMES) if id is not None else None
        if id is not None and pk is None:
            return None
        details = details_below(info)

        async def read(session: AsyncSession) -> types.CoordinationRequest | None:
            row = await queries.get_coordination(
                session,
                viewer,
                coordination_id=pk,
                coordination_no=coordination_no,
                details=details,
            )
            return types.coordination(row, info.context.presentation(viewer)) if row else None

        return await info.context.query(read)


SAVE_ROLE = role_for(Action.EDIT)


def save_target(input: SaveCoordinationInput) -> int | None:
    """The request a save replaces (None: it creates one)."""
    return coordination_pk(input.id) if input.id is not None else None


Service = Callable[..., Awaitable[int]]


async def _by_id(
    info: Info[Context, None],
    *,
    service: Service,
    action: Action,
    payload: type[P],
    outcome: Outcome,
    id: strawberry.ID,
    expected_version: int | None,
) -> P:
    """A mutation taking ``(id, expectedVersion)`` that calls one service."""

    async def change(session: AsyncSession, viewer: Viewer) -> int:
        return await service(
            session=session,
            viewer=viewer,
            coordination_id=coordination_pk(id),
            expected_version=expected_version,
            now=info.context.now,
        )

    return await change_coordination(
        info, payload=payload, outcome=outcome, role=role_for(action), prefix=(), change=change
    )


@strawberry.type
class CoordinationMutation:
    @strawberry.mutation(
        description="暂存: create a request (no id) or update an editable one; every required "
        "field and format is checked (暂存成功 / 暂存失败)."
    )
    async def save_coordination(
        self,
        info: Info[Context, None],
        input: Annotated[
            SaveCoordinationInput,
            strawberry.argument(description="暂存表单: the whole form."),
        ],
    ) -> SaveCoordinationPayload:
        async def change(session: AsyncSession, viewer: Viewer) -> int:
            return await coordinations.save(
                session=session,
                viewer=viewer,
                form=input.form(),
                coordination_id=save_target(input),
                expected_version=input.expected_version,
                now=info.context.now,
            )

        return await change_coordination(
            info,
            payload=SaveCoordinationPayload,
            outcome=Outcome.SAVE,
            role=SAVE_ROLE,
            prefix=("input",),
            change=change,
        )

    @strawberry.mutation(
        description="申报: submit an editable request to customs (PENDING). Checks, in order: "
        "status, fields (errors name the saved form's fields), required attachments, the "
        "certificate in the registry, its kind, the linked export declaration, no duplicate "
        "active request."
    )
    async def submit_coordination(
        self, info: Info[Context, None], id: RequestId, expected_version: ExpectedVersion = None
    ) -> SubmitCoordinationPayload:
        return await _by_id(
            info,
            service=coordinations.submit,
            action=Action.SUBMIT,
            payload=SubmitCoordinationPayload,
            outcome=Outcome.SUBMIT,
            id=id,
            expected_version=expected_version,
        )

    @strawberry.mutation(description="撤回: take a PENDING request back (WITHDRAWN).")
    async def withdraw_coordination(
        self, info: Info[Context, None], id: RequestId, expected_version: ExpectedVersion = None
    ) -> WithdrawCoordinationPayload:
        return await _by_id(
            info,
            service=coordinations.withdraw,
            action=Action.WITHDRAW,
            payload=WithdrawCoordinationPayload,
            outcome=Outcome.WITHDRAW,
            id=id,
            expected_version=expected_version,
        )

    @strawberry.mutation(
        description="删除: hide a DRAFT, WITHDRAWN or RETURNED request (kept for audit)."
    )
    async def delete_coordination(
        self, info: Info[Context, None], id: RequestId, expected_version: ExpectedVersion = None
    ) -> DeleteCoordinationPayload:
        payload = await _by_id(
            info,
            service=coordinations.delete,
            action=Action.DELETE,
            payload=DeleteCoordinationPayload,
            outcome=Outcome.DELETE,
            id=id,
            expected_version=expected_version,
        )
        payload.deleted_id = None if payload.errors else id
        return payload

    @strawberry.mutation(
        description="海关处理 (customs only): record a receipt or decision (remark required to "
        "return or conclude)."
    )
    async def record_customs_receipt(
        self,
        info: Info[Context, None],
        input: Annotated[
            RecordCustomsReceiptInput,
            strawberry.argument(description="海关处理: the request and the outcome."),
        ],
    ) -> RecordCustomsReceiptPayload:
        async def change(session: AsyncSession, viewer: Viewer) -> int:
            return await coordinations.record_customs_receipt(
                session=session,
                viewer=viewer,
                coordination_no=input.coordination_no,
                outcome=input.outcome,
                remark=input.remark,
                expected_version=input.expected_version,
                now=info.context.now,
            )

        return await change_coordination(
            info,
            payload=RecordCustomsReceiptPayload,
            outcome=Outcome.RECORD_RECEIPT,
            role=role_for(OUTCOME_ACTIONS[input.outcome]),
            prefix=("input",),
            change=change,
        )
