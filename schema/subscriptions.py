"""``Subscription.coordinationEvents`` (SPEC §10): the changes to the requests the viewer may see,
as they are committed. The worker's hub (``api.subscriptions``) decides who receives what; this
module only shapes each delivery for its subscriber (language, role, download links dated now).
"""

import datetime as dt
from collections.abc import AsyncGenerator, Iterator
from typing import TYPE_CHECKING, Annotated

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import Info
from strawberry.types.graphql import OperationType

from api import metrics
from db.clock import utcnow
from db.events import EventKind
from db.status import Status
from schema import ids, types
from schema.context import Context
from schema.messages import OVER_WEBSOCKET, pick
from schema.presentation import Presentation

if TYPE_CHECKING:  # api.subscriptions uses this package's messages
    from api.subscriptions import Delivery

BAD_REQUEST = "BAD_REQUEST"

KIND_DESCRIPTIONS = {
    EventKind.CREATED: "新建: the request was first saved (暂存); status DRAFT, version 1.",
    EventKind.SAVED: "暂存: the form was saved again.",
    EventKind.SUBMITTED: "申报: submitted to customs (PENDING).",
    EventKind.WITHDRAWN: "撤回: taken back by the enterprise (WITHDRAWN).",
    EventKind.DELETED: "删除: deleted; `coordination` is null and nobody can read it any more.",
    EventKind.CUSTOMS_DECISION: "海关处理: customs recorded a receipt or decision (the status "
    "says which).",
    EventKind.ATTACHMENT_ADDED: "上传附件: a file was uploaded to a slot.",
    EventKind.ATTACHMENT_REMOVED: "删除附件: a file was removed from a slot.",
}

strawberry.enum(
    EventKind,
    name="CoordinationEventKind",
    description="事件类型: what a change did to a request.",
)
for _value in EventKind.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = KIND_DESCRIPTIONS[EventKind(_value.value)]


@strawberry.type(
    description="协调单事件: one committed change to a request, as it happened (kind, status and "
    "version are those the change produced), and the request as it is now."
)
class CoordinationEvent:
    kind: EventKind = strawberry.field(description="事件类型: what happened.")
    coordination_id: strawberry.ID = strawberry.field(
        description="协调单ID: the request's global ID (as `Coordination.id`)."
    )
    coordination_no: str = strawberry.field(description="协调单号: the request's number.")
    status: Status = strawberry.field(description="处理状态: the status after this change.")
    version: int = strawberry.field(description="版本: the version this change produced.")
    at: dt.datetime = strawberry.field(description="时间: when the change was made (UTC).")
    coordination: types.CoordinationRequest | None = strawberry.field(
        description="协调单: the request as it is when the event is delivered; null once deleted."
    )


def coordination_event(delivery: "Delivery", presentation: Presentation) -> CoordinationEvent:
    event, row = delivery.event, delivery.row
    return CoordinationEvent(
        kind=event.kind,
        coordination_id=strawberry.ID(ids.encode(types.OBJECT_TYPES[row.type].__name__, row.id)),
        coordination_no=event.coordination_no,
        status=event.status,
        version=event.version,
        at=event.at,
        coordination=None if delivery.deleted else types.coordination(row, presentation),
    )


class OverWebSocket(SchemaExtension):
    """Refuses a subscription sent over HTTP (Strawberry would run one, even streamed as
    multipart): ours need a WebSocket connection, its authentication and its limits."""

    def on_validate(self) -> Iterator[None]:
        # After QueryGuard's checks (listed before this one), before Strawberry looks at them.
        execution = self.execution_context
        context = execution.context
        if (
            not execution.pre_execution_errors
            and execution.operation_type is OperationType.SUBSCRIPTION
            and getattr(context, "connection", 1) is None
        ):
            message = pick(OVER_WEBSOCKET, context.language)
            execution.pre_execution_errors = [
                GraphQLError(message, extensions={"code": BAD_REQUEST})
            ]
        yield


@strawberry.type(
    name="Subscription",
    description="订阅: live updates, over WebSocket (graphql-transport-ws) on /graphql.",
)
class CoordinationSubscription:
    @strawberry.subscription(
        description="协调单事件订阅: every change to the requests you may see (an enterprise user: "
        "its enterprise's; customs: all), sent once committed, in commit order per request. Over "
        "WebSocket (graphql-transport-ws) on /graphql, with the token in connection_init's "
        'payload: {"Authorization": "Bearer …"}.'
    )
    async def coordination_events(
        self,
        info: Info[Context, None],
        coordination_no: Annotated[
            str | None,
            strawberry.argument(
                description="协调单号: only this request's events (all the viewer's when omitted)."
            ),
        ] = None,
    ) -> AsyncGenerator[CoordinationEvent, None]:
        context = info.context
        assert context.connection is not None, "over HTTP refused by OverWebSocket"
        viewer = await context.require_viewer()
        wanted = coordination_no.strip().upper() if coordination_no else None
        async with context.hub.subscribe(viewer, context.connection, wanted) as subscription:
            async for delivery in subscription:
                yield coordination_event(delivery, context.presentation(viewer, now=utcnow()))
                metrics.EVENTS_SENT.inc()
