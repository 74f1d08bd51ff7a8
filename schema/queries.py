"""Queries: authenticate, fetch through ``db.queries`` or reference data, shape the answer."""

import strawberry
from strawberry.types import Info

from db import queries, reference
from db.identity import Viewer
from schema import ids, types
from schema.context import BadUserInput, Context

DEFAULT_FIRST = 20
MAX_FIRST = 100


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_FIRST:
        raise BadUserInput(f"first must be between 1 and {MAX_FIRST}.", "first")
    return first


def _presentation(context: Context, viewer: Viewer) -> types.Presentation:
    return types.Presentation(role=viewer.role, language=context.language)


@strawberry.type
class Query:
    @strawberry.field(description="The logged-in user.")
    async def viewer(self, info: Info[Context, None]) -> types.Viewer:
        return types.Viewer.of(await info.context.require_viewer())

    @strawberry.field(description="Any object by its global ID; null if missing or not yours.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> types.Node | None:
        viewer = await info.context.require_viewer()
        decoded = ids.decode(id)
        if decoded is None:
            return None
        type_name, pk = decoded
        presentation = _presentation(info.context, viewer)
        async with info.context.reading() as session:
            if type_name in types.COORDINATION_TYPE_NAMES:
                row = await queries.get_coordination(session, viewer, coordination_id=pk)
                node = types.coordination(row, presentation) if row else None
                return node if type(node).__name__ == type_name else None
            if type_name == types.Attachment.__name__:
                found = await queries.get_attachment(session, viewer, pk)
                return types.attachment(found) if found else None
        return None

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
            return types.coordination(row, _presentation(info.context, viewer)) if row else None

    @strawberry.field(description="China's preferential trade agreements for exports.")
    async def trade_agreements(self, info: Info[Context, None]) -> list[types.TradeAgreement]:
        await info.context.require_viewer()
        return [types.trade_agreement(a.code) for a in reference.agreements()]

    @strawberry.field(
        description="Countries by code or name (中文 or English), optionally an "
        "agreement's partners only."
    )
    async def countries(
        self,
        info: Info[Context, None],
        search: str | None = None,
        agreement_code: str | None = None,
        first: int = DEFAULT_FIRST,
    ) -> list[types.Country]:
        await info.context.require_viewer()
        found = reference.search_countries(
            search=search, agreement_code=agreement_code, limit=check_first(first)
        )
        return [types.country(c.code) for c in found]

    @strawberry.field(description="Ports of a country (alpha-3) by UN/LOCODE or name.")
    async def ports(
        self,
        info: Info[Context, None],
        country_code: str,
        search: str | None = None,
        first: int = DEFAULT_FIRST,
    ) -> list[types.Port]:
        await info.context.require_viewer()
        found = reference.search_ports(
            country_code=country_code, search=search, limit=check_first(first)
        )
        return [types.port(p.code) for p in found]
