"""``node(id)``: any object by its Relay global ID, null when missing or not the viewer's."""

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from db import queries
from schema import basics, details, ids, types
from schema.context import Context
from schema.selections import details_below


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="节点查询: any object (a request or an attachment) by its global ID; null if "
        "missing or not yours."
    )
    async def node(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="全局ID: the object's ID.")],
    ) -> basics.Node | None:
        viewer = await info.context.require_viewer()
        decoded = ids.decode(id)
        if decoded is None:
            return None
        type_name, pk = decoded
        presentation = info.context.presentation(viewer)
        if type_name in types.COORDINATION_TYPE_NAMES:
            wanted = details_below(info)

            async def coordination(session: AsyncSession) -> basics.Node | None:
                row = await queries.get_coordination(
                    session, viewer, coordination_id=pk, details=wanted
                )
                node = types.coordination(row, presentation) if row else None
                return node if type(node).__name__ == type_name else None

            return await info.context.query(coordination)
        if type_name == details.Attachment.__name__:

            async def attachment(session: AsyncSession) -> basics.Node | None:
                found = await queries.get_attachment(session, viewer, pk)
                return details.attachment(found, presentation) if found else None

            return await info.context.query(attachment)
        return None
