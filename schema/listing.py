"""``coordinations``: the 享惠受阻协调查询 list as a Relay connection with keyset cursors."""

import datetime as dt
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from db import listing
from db.listing import Direction, Filter, Order, OrderField, Page, Position
from db.models import CoordinationType
from db.status import Status
from schema import types
from schema.context import BadUserInput, Context
from schema.cursors import Cursors
from schema.paging import DEFAULT_FIRST, check_first
from schema.refusals import FIRST_OR_LAST, FOREIGN_CURSOR
from schema.selections import selected


@strawberry.input(description="排序: how to sort the list; the request's ID always breaks ties.")
class CoordinationOrder:
    field: OrderField = strawberry.field(
        default=OrderField.SUBMITTED_AT,
        description="排序字段: SUBMITTED_AT puts never-submitted drafts after the submitted "
        "requests, by creation time, in either direction.",
    )
    direction: Direction = strawberry.field(
        default=Direction.DESC, description="排序方向: DESC (newest first) by default."
    )


@strawberry.input(description="查询条件: conditions on the list; every one given must hold.")
class CoordinationFilter:
    coordination_no: str | None = strawberry.field(
        default=None, description="协调单号: starts with this (case-insensitive)."
    )
    certificate_no: str | None = strawberry.field(
        default=None,
        description="原产地证书号/原产地声明编号: starts with this (case-insensitive).",
    )
    export_declaration_no: str | None = strawberry.field(
        default=None, description="出口报关单号: starts with this (case-insensitive)."
    )
    status: list[Status] | None = strawberry.field(
        default=None, description="处理状态: any of these statuses (none or empty: all)."
    )
    type: list[CoordinationType] | None = strawberry.field(
        default=None, description="协调单类型: any of these types (none or empty: all)."
    )
    agreement_code: str | None = strawberry.field(
        default=None, description="优惠贸易协定代码: exactly this agreement, e.g. 22."
    )
    submitted_from: dt.date | None = strawberry.field(
        default=None,
        description="提交日期起: submitted on or after this day (YYYY-MM-DD, China Standard Time).",
    )
    submitted_to: dt.date | None = strawberry.field(
        default=None,
        description="提交日期止: submitted on or before this day (YYYY-MM-DD, China Standard "
        "Time).",
    )
    enterprise_uscc: str | None = strawberry.field(
        default=None,
        description="统一社会信用代码: only this enterprise's requests (for customs; "
        "enterprise users only ever see their own).",
    )

    def to_filter(self) -> Filter:
        def code(value: str | None) -> str | None:
            return value.strip().upper() or None if value is not None else None

        return Filter(
            coordination_no=code(self.coordination_no),
            certificate_no=code(self.certificate_no),
            export_declaration_no=code(self.export_declaration_no),
            statuses=frozenset(self.status or ()),
            types=frozenset(self.type or ()),
            agreement_code=(self.agreement_code or "").strip() or None,
            submitted_from=self.submitted_from,
            submitted_to=self.submitted_to,
            enterprise_uscc=code(self.enterprise_uscc),
        )


@strawberry.type(description="分页信息: where a page lies in the whole list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="是否有下一页: whether more items follow this page (ask with after: endCursor)."
    )
    has_previous_page: bool = strawberry.field(
        description="是否有上一页: whether items precede this page (ask with before: startCursor)."
    )
    start_cursor: str | None = strawberry.field(
        description="起始游标: the first item's cursor; null for an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="结束游标: the last item's cursor; null for an empty page."
    )


@strawberry.type(description="分页项: one request in a page, with its cursor (Relay edge).")
class CoordinationEdge:
    cursor: str = strawberry.field(
        description="游标: an opaque keyset cursor, valid only with the same filter and order."
    )
    node: types.CoordinationRequest = strawberry.field(description="协调申请: the request.")


@strawberry.type(description="协调申请分页: a page of requests (Relay connection).")
class CoordinationConnection:
    edges: list[CoordinationEdge] = strawberry.field(
        description="分页项: the page's requests with their cursors."
    )
    nodes: list[types.CoordinationRequest] = strawberry.field(
        description="协调申请: the page's requests (the edges' nodes, without cursors)."
    )
    page_info: PageInfo = strawberry.field(description="分页信息: where this page lies.")
    total: strawberry.Private[int | None]

    @strawberry.field(
        description="总数: how many requests match the filter, on every page (counted only "
        "when selected)."
    )
    def total_count(self) -> int:
        if self.total is None:
            raise RuntimeError("totalCount was not computed although selected")
        return self.total


def _page_size(first: int | None, last: int | None) -> tuple[int, bool]:
    if first is not None and last is not None:
        raise BadUserInput(FIRST_OR_LAST, "last")
    if last is not None:
        return check_first(last, "last"), True
    return check_first(DEFAULT_FIRST if first is None else first), False


@strawberry.type
class ListingQuery:
    @strawberry.field(
        description="享惠受阻协调查询: the requests the viewer may see, newest submission first. "
        "Keyset-paginated: `first`/`after` forward, `last`/`before` backward, 1–100 per page."
    )
    async def coordinations(
        self,
        info: Info[Context, None],
        filter: Annotated[
            CoordinationFilter | None,
            strawberry.argument(description="查询条件: conditions; none: every request."),
        ] = None,
        order_by: Annotated[
            CoordinationOrder | None,
            strawberry.argument(description="排序: none: by submission, newest first."),
        ] = None,
        first: Annotated[
            int | None,
            strawberry.argument(description="前N条: page size going forward, 1–100 (default 20)."),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="之后: the cursor after which the page starts."),
        ] = None,
        last: Annotated[
            int | None,
            strawberry.argument(
                description="后N条: page size going backward, 1–100 (not with first)."
            ),
        ] = None,
        before: Annotated[
            str | None,
            strawberry.argument(description="之前: the cursor before which the page ends."),
        ] = None,
    ) -> CoordinationConnection:
        viewer = await info.context.require_viewer()
        limit, backward = _page_size(first, last)
        wanted = Filter() if filter is None else filter.to_filter()
        order = Order() if order_by is None else Order(order_by.field, order_by.direction)
        cursors = Cursors.of(info.context.settings.secret_key, order, wanted)
        start, end = (_position(cursors, after, "after"), _position(cursors, before, "before"))
        selection = selected(info)
        presentation = info.context.presentation(viewer)

        async def read(
            session: AsyncSession,
        ) -> tuple[Page, bool, int | None, list[CoordinationEdge]]:
            found = await listing.page(
                session,
                viewer,
                filter=wanted,
                order=order,
                limit=limit,
                after=start,
                before=end,
                backward=backward,
                details=selection.details,
            )
            # The far side of a page is known only when it was read; otherwise ask, if wanted.
            outer, flag = (end, "hasNextPage") if backward else (start, "hasPreviousPage")
            outer_exists = (
                outer is not None
                and selection.requests(("pageInfo", flag))
                and await listing.exists_beyond(
                    session,
                    viewer,
                    filter=wanted,
                    order=order,
                    position=outer,
                    backward=not backward,
                )
            )
            total = (
                await listing.count(session, viewer, filter=wanted)
                if selection.requests(("totalCount",))
                else None
            )
            edges = [
                CoordinationEdge(
                    cursor=cursors.encode(listing.position(row, order)),
                    node=types.coordination(row, presentation),
                )
                for row in found.rows
            ]
            return found, outer_exists, total, edges

        found, outer_exists, total, edges = await info.context.query(read)
        return CoordinationConnection(
            edges=edges,
            nodes=[edge.node for edge in edges],
            page_info=PageInfo(
                has_next_page=outer_exists if backward else found.has_more,
                has_previous_page=found.has_more if backward else outer_exists,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total=total,
        )


def _position(cursors: Cursors, cursor: str | None, argument: str) -> Position | None:
    if cursor is None:
        return None
    found = cursors.decode(cursor)
    if found is None:
        raise BadUserInput(FOREIGN_CURSOR, argument)
    return found
