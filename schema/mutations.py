"""Mutations: each fetches nothing itself, calls one service and shapes the payload."""

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from db import coordinations
from db.errors import DomainError, ErrorCode
from db.identity import Viewer
from db.status import Role
from schema import ids
from schema.context import Context
from schema.inputs import SaveCoordinationInput
from schema.login import login
from schema.messages import Outcome
from schema.payloads import SaveCoordinationPayload, change_coordination
from schema.types import COORDINATION_TYPE_NAMES


def coordination_pk(global_id: strawberry.ID | str, field: str = "id") -> int:
    """The primary key a request ID names; a malformed or foreign ID is NOT_FOUND."""
    pk = ids.decode_pk(global_id, COORDINATION_TYPE_NAMES)
    if pk is None:
        raise DomainError.of(ErrorCode.NOT_FOUND, (field,))
    return pk


@strawberry.type
class Mutation:
    login = strawberry.mutation(resolver=login, description="Log in; returns a bearer token.")

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
