"""Reference-data queries: trade agreements, countries and ports for the form's pickers."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from db import reference
from schema import basics
from schema.context import Context
from schema.paging import DEFAULT_FIRST, check_first


@strawberry.type
class ReferenceQuery:
    @strawberry.field(
        description="优惠贸易协定列表: China's preferential trade agreements for exports."
    )
    async def trade_agreements(self, info: Info[Context, None]) -> list[basics.TradeAgreement]:
        await info.context.require_viewer()
        return [basics.trade_agreement(a.code) for a in reference.agreements()]

    @strawberry.field(
        description="国家/地区查询: countries by code or name (中文 or English), optionally only "
        "an agreement's partners."
    )
    async def countries(
        self,
        info: Info[Context, None],
        search: Annotated[
            str | None,
            strawberry.argument(
                description="关键字: part of the alpha-3 code or of the Chinese or English name "
                "(the seed's 模糊录入, case-insensitive); none: all."
            ),
        ] = None,
        agreement_code: Annotated[
            str | None,
            strawberry.argument(
                description="优惠贸易协定代码: only this agreement's partner parties."
            ),
        ] = None,
        first: Annotated[
            int, strawberry.argument(description="前N条: at most this many, 1–100.")
        ] = DEFAULT_FIRST,
    ) -> list[basics.Country]:
        await info.context.require_viewer()
        found = reference.search_countries(
            search=search, agreement_code=agreement_code, limit=check_first(first)
        )
        return [basics.country(c.code) for c in found]

    @strawberry.field(
        description="口岸查询: ports of a country (alpha-3) by UN/LOCODE or name, seaports first."
    )
    async def ports(
        self,
        info: Info[Context, None],
        country_code: Annotated[
            str,
            strawberry.argument(
                description="国家/地区代码: ISO 3166-1 alpha-3 code of the country, e.g. KOR."
            ),
        ],
        search: Annotated[
            str | None,
            strawberry.argument(
                description="关键字: part of the UN/LOCODE or of the name; none: all."
            ),
        ] = None,
        first: Annotated[
            int, strawberry.argument(description="前N条: at most this many, 1–100.")
        ] = DEFAULT_FIRST,
    ) -> list[basics.Port]:
        await info.context.require_viewer()
        found = reference.search_ports(
            country_code=country_code, search=search, limit=check_first(first)
        )
        return [basics.port(p.code) for p in found]
