"""Coordination requests: read one, and the mutations that change them (each calls one service
and shapes the payload)."""

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from db import coordinations, queries
from db.errors import DomainError, ErrorCode
from db.identity import Viewer
from db.status import Role
from schema import ids, types
from schema.context import BadUserInput, Context
from schema.inputs import SaveCoordinationInput
from schema.messages import Outcome
from schema.payloads import SaveCoordinationPayload, change_coordination


def coordination_pk(global_id: strawberry.ID | str, field: str = "id") -> int:
    """The primary key a request ID names; a malformed or foreign ID is NOT_FOUND."""
    pk = ids.decode_pk(global_id, types.COORDINATION_TYPE_NAMES)
    if pk is None:
        raise DomainError.of(ErrorCode.NOT_FOUND, (field,))
    return pk


@strawberry.type
class CoordinationQuery:
    @strawberry.field(
        description="One request by ID or by coordination number (give exactly one); null if "
        "missing or not yours."
    )
    async def coordination(
        self,
        info: Info[Context, None],
        id: strawberry.ID | None = None,
        coordination_no: str | None = None,
    ) -> types.CoordinationRequest | None:
        viewer = await info.context.require_viewer()
        if (id is None) == (coordination_no is None):
            raise BadUserInput("Give exactly one of id and coordinationNo.", "id")
        pk = ids.decode_pk(id, types.COORDINATION_TYPE_NAMES) if id is not None else None
        if id is not None and pk is None:
            return None
        async with info.context.reading() as session:
            row = await queries.get_coordination(
                session, viewer, coordination_id=pk, coordination_no=coordination_no
            )
            return types.coordination(row, info.context.presentation(viewer)) if row else None


@strawberry.type
class CoordinationMutation:
    @strawberry.mutation(description="暂存: create a request (no id) or update an editable one.")
    async def save_coordination(
        self, info: Info[Context, None], input: SaveCoordinationInput
    ) -> SaveCoordinationPayload:
        async def change(session: AsyncSession, viewer: Viewer) -> int:
            return await coordinations.save(
                session=session,
                viewer=viewer,
                form=input.form(),
                coordination_id=coordination_pk(input.id) if input.id is not None else None,
                expected_version=input.expected_version,
                now=info.context.now,
            )

        return await change_coordination(
            info,
            payload=SaveCoordinationPayload,
            outcome=Outcome.SAVE,
            role=Role.ENTERPRISE,
            prefix=("input",),
            change=change,
        )
