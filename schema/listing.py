"""``coordinations``: the 享惠受阻协调查询 list as a Relay connection with keyset cursors."""

import datetime as dt

import strawberry
from strawberry.types import Info

from db import listing
from db.listing import Direction, Filter, Order, OrderField, Position
from db.models import CoordinationType
from db.status import Status
from schema import types
from schema.context import BadUserInput, Context
from schema.cursors import Cursors
from schema.paging import DEFAULT_FIRST, check_first
from schema.selections import selected

strawberry.enum(OrderField, name="CoordinationOrderField")
strawberry.enum(Direction, name="OrderDirection")


@strawberry.input(description="How to sort the list; the request's ID always breaks ties.")
class CoordinationOrder:
    field: OrderField = strawberry.field(
        default=OrderField.SUBMITTED_AT,
        description="SUBMITTED_AT puts never-submitted drafts after the submitted requests, "
        "by creation time, in either direction.",
    )
    direction: Direction = Direction.DESC


@strawberry.input(description="Conditions on the list; every one given must hold.")
class CoordinationFilter:
    coordination_no: str | None = strawberry.field(
        default=None, description="协调单号 starts with this (case-insensitive)."
    )
    certificate_no: str | None = strawberry.field(
        default=None, description="原产地证书号/原产地声明编号 starts with this (case-insensitive)."
    )
    export_declaration_no: str | None = strawberry.field(
        default=None, description="出口报关单号 starts with this (case-insensitive)."
    )
    status: list[Status] | None = strawberry.field(
        default=None, description="Any of these statuses (none or empty: all)."
    )
    type: list[CoordinationType] | None = strawberry.field(
        default=None, description="Any of these types (none or empty: all)."
    )
    agreement_code: str | None = None
    submitted_from: dt.date | None = strawberry.field(
        default=None, description="Submitted on or after this day (China Standard Time)."
    )
    submitted_to: dt.date | None = strawberry.field(
        default=None, description="Submitted on or before this day (China Standard Time)."
    )
    enterprise_uscc: str | None = strawberry.field(
        default=None,
        description="统一社会信用代码 (for customs; enterprise users only ever see their own).",
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


@strawberry.type(description="Where a page lies in the whole list (Relay).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class CoordinationEdge:
    cursor: str
    node: types.CoordinationRequest


@strawberry.type(description="A page of requests (Relay connection).")
class CoordinationConnection:
    edges: list[CoordinationEdge]
    nodes: list[types.CoordinationRequest]
    page_info: PageInfo
    total: strawberry.Private[int | None]

    @strawberry.field(description="How many requests match the filter, on every page.")
    def total_count(self) -> int:
        if self.total is None:
            raise RuntimeError("totalCount was not computed although selected")
        return self.total


def _page_size(first: int | None, last: int | None) -> tuple[int, bool]:
    if first is not None and last is not None:
        raise BadUserInput("Give first or last, not both.", "last")
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
        filter: CoordinationFilter | None = None,
        order_by: CoordinationOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CoordinationConnection:
        viewer = await info.context.require_viewer()
        limit, backward = _page_size(first, last)
        wanted = Filter() if filter is None else filter.to_filter()
        order = Order() if order_by is None else Order(order_by.field, order_by.direction)
        cursors = Cursors.of(info.context.settings.secret_key, order, wanted)
        start, end = (_position(cursors, after, "after"), _position(cursors, before, "before"))
        selection = selected(info)
        presentation = info.context.presentation(viewer)

        async with info.context.reading() as session:
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
        raise BadUserInput(
            f"{argument} is not a cursor of this query: it comes from another filter or order, "
            "or was altered.",
            argument,
        )
    return found
