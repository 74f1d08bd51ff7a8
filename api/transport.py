"""The ``graphql-transport-ws`` protocol on ``/graphql`` (WebSocket): Strawberry's handler with our
authentication, limits, pings and ways to end a connection.

- ``connection_init``'s payload carries the token, ``{"Authorization": "Bearer …"}``, checked as
  an HTTP request's header is (``schema.context``); without a valid one the socket is closed with
  4403. It may carry ``Accept-Language`` too (else the handshake's header decides).
- Only subscriptions run over the socket (queries and mutations go over HTTP, with its rules);
  ``subscriptions_per_connection`` at once (one more gets an ``error`` message,
  ``TOO_MANY_SUBSCRIPTIONS``), ``connections_per_user`` per worker (one more is closed, 4429).
- The server pings every ``ping_seconds`` (graphql-ws clients answer by themselves); uvicorn's
  WebSocket pings find dead peers below that.
- The hub (``api.subscriptions``) ends connections: 4403 on revocation or expiry, 1013 for a
  slow consumer, 1012 when events may have been missed. A database that cannot be reached at
  ``connection_init`` is 1013 too.
"""

import asyncio
import logging
from collections.abc import AsyncGenerator, Iterable, Mapping
from contextlib import aclosing, suppress
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema import BaseSchema
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.subscriptions import Connection, Hub
from schema.context import Context
from schema.errors import is_client_error, masked
from schema.messages import Closing, Language
from schema.refusals import message_in

logger = logging.getLogger("xhsz.subscriptions")
SUBSCRIPTIONS_ONLY: Iterable[OperationType] = (OperationType.SUBSCRIPTION,)


class _SubscriptionsOnly:
    """The schema as the handler sees it: it streams subscriptions and refuses the rest."""

    def __init__(self, schema: BaseSchema) -> None:
        self.schema = schema

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["allowed_operation_types"] = SUBSCRIPTIONS_ONLY
        return await self.schema.stream(*args, **kwargs)


class TextFrames(ASGIWebSocketAdapter):
    """Messages as text frames, as the protocol wants (the view encodes JSON to bytes, which
    Strawberry would send as binary frames; graphql-ws and gql refuse those)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error


class TransportHandler(BaseGraphQLTransportWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = _SubscriptionsOnly(self.schema)  # type: ignore[assignment]
        self.hub: Hub = self.context.hub
        self.connection: Connection | None = None
        self._ending: asyncio.Task[None] | None = None
        self._pinging: asyncio.Task[None] | None = None

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            if self._pinging is not None:
                self._pinging.cancel()
            if self.connection is not None:
                self.hub.leave(self.connection)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self.websocket.close(4400, "Invalid connection init payload")
            return
        if self.connection_init_received:
            await self.websocket.close(4429, "Too many initialisation requests")
            return
        self.connection_init_received = True
        context = self.context
        context.connection_params = payload
        language = next((v for k, v in payload.items() if k.lower() == "accept-language"), None)
        if isinstance(language, str):
            context.language = Language.from_accept_language(language)
        try:
            viewer = await context.viewer()
        except Exception:  # the database cannot be reached, or worse: logged, never shown
            logger.exception("could not authenticate a subscription connection")
            await self._close(Closing.UNAVAILABLE)
            return
        if viewer is None:
            await self._close(Closing.FORBIDDEN)
            return
        connection = Connection(
            user_id=viewer.user_id,
            token_version=context.token_version,
            token_expires=context.token_expires,
            language=context.language,
            close=self.end,
            token_id=context.token_id,
        )
        if not self.hub.admit(connection):
            await self._close(Closing.TOO_MANY_CONNECTIONS)
            return
        self.connection = context.connection = connection
        logger.info(
            "subscription connected", extra={"viewer": viewer.username, "role": viewer.role.value}
        )
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True
        self._pinging = asyncio.create_task(self._ping())

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = self.hub.limits.subscriptions_per_connection
        operation_id = message["id"]
        if (
            self.connection_acknowledged
            and operation_id not in self.operations
            and len(self.operations) >= limit
        ):
            refusal = Closing.TOO_MANY_SUBSCRIPTIONS.message(self.context.language, max=limit)
            error = GraphQLError(refusal, extensions={"code": Closing.TOO_MANY_SUBSCRIPTIONS.name})
            await self.send_message(
                {"id": operation_id, "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def _send_result_stream(self, operation: Any, result_source: Any) -> None:
        await super()._send_result_stream(operation, self._masked(result_source))

    async def _masked(self, results: Any) -> AsyncGenerator[Any, None]:
        """Results with unexpected errors masked, as over HTTP (``api.graphql``): no SQL, path or
        trace reaches a client; the log has them under the connection's request id."""
        async with aclosing(results):
            async for result in results:
                if isinstance(result, ExecutionResult) and result.errors:
                    rid, language = self.context.request_id, self.context.language
                    result.errors = [
                        _in_language(error, language)
                        if is_client_error(error)
                        else masked(error, rid, language)
                        for error in result.errors
                    ]
                yield result

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self.hub.limits.ping_seconds)
            try:
                await self.send_message({"type": "ping"})
            except Exception:  # the socket is gone; the receiving loop ends the connection
                return

    def end(self, closing: Closing) -> None:
        """Close this connection for ``closing``'s reason (once), without waiting for it."""
        if self._ending is None:
            self._ending = asyncio.create_task(self._end(closing))

    async def _end(self, closing: Closing) -> None:
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        await self._close(closing)

    async def _close(self, closing: Closing) -> None:
        assert closing.code is not None
        reason = closing.message(self.context.language, max=self._limit(closing))
        with suppress(Exception):  # already closed by the client, or gone
            await self.websocket.close(closing.code, reason)

    def _limit(self, closing: Closing) -> int:
        limits = self.hub.limits
        if closing is Closing.TOO_MANY_CONNECTIONS:
            return limits.connections_per_user
        return limits.subscriptions_per_connection


def _in_language(error: GraphQLError, language: Language) -> GraphQLError:
    """A refusal of ours (``schema.refusals``) in the connection's language; others as they are."""
    message = message_in(error, language)
    if message == error.message:
        return error
    return GraphQLError(message, error.nodes, path=error.path, extensions=error.extensions)
