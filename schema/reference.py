"""Reference-data queries: trade agreements, countries and ports for the form's pickers."""

import strawberry
from strawberry.types import Info

from db import reference
from schema import types
from schema.context import Context
from schema.paging import DEFAULT_FIRST, check_first


@strawberry.type
class ReferenceQuery:
    @strawberry.field(description="China's preferential trade agreements for exports.")
    async def trade_agreements(self, info: Info[Context, None]) -> list[types.TradeAgreement]:
        await info.context.require_viewer()
        return [types.trade_agreement(a.code) for a in reference.agreements()]

    @strawberry.field(
        description="Countries by code or name (中文 or English), optionally only an agreement's "
        "partners."
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
