"""The ``/graphql`` endpoint: Strawberry's ASGI view with our per-request context, and the
GraphQL-over-HTTP rules it enforces.

- POST bodies are JSON (``application/json``, UTF-8); anything else is 415, so that no HTML form
  (``application/x-www-form-urlencoded``, ``text/plain``: the "simple" requests a browser sends
  cross-site without asking) can reach a mutation.
- File uploads (the GraphQL multipart request spec) are on, and guarded against cross-site request
  forgery: ``multipart/form-data`` is "simple" too, so such a request must carry a header that only
  a preflighted (same-origin or CORS-approved) request can have: ``GraphQL-Require-Preflight`` or
  ``Apollo-Require-Preflight``. Body sizes are limited before this view reads anything
  (``api.limits``).
- Mutations only over POST: a mutation sent with GET is 405 (``Allow: POST``), as are queries over
  GET when ``XHSZ_GRAPHQL_GET`` is off.
- Responses are ``application/json``, or ``application/graphql-response+json`` when the client
  prefers it; then a request that could not run at all (syntax, validation, limits) is a 400.
- A request that fails before execution gets no ``data`` entry, as the GraphQL spec says.
- Unexpected errors are masked here, the last step before the wire, whatever raised them; a
  database that cannot be reached is a 503 with ``Retry-After`` and ``SERVICE_UNAVAILABLE``.
- HTTP-level refusals are JSON too: ``{"errors": [{"message", "extensions": {"code"}}]}``.
- Every message is in the client's language (``Accept-Language``; Chinese by default), and every
  response says which in ``Content-Language``; codes are the same in every language.
- Persisted operations (automatic persisted queries, trusted documents) are resolved before
  anything is parsed, by the view this one extends (``api.persisted_view``).
- A WebSocket on the same path speaks ``graphql-transport-ws`` (``api.transport``), for
  subscriptions only; a handshake from a page on another origin that ``XHSZ_CORS_ORIGINS`` does
  not list is refused (403).
"""

import datetime as dt
import json
import re
import uuid
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, GraphQLFormattedError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from api import graphiql, multipart, prepared
from api.downloads import DownloadLinks
from api.media import GRAPHQL_RESPONSE_JSON, JSON, MULTIPART, media_type, preferred_response_type
from api.observability import GRAPHIQL, observation_of
from api.persisted import PersistedDocuments, Refusal
from api.persisted_view import PersistedOperationsView
from api.principals import Principals
from api.refusals import Refused, content_language, error_body, language_of
from api.security import graphiql_policy, request_id
from api.storage import LocalStorage
from api.subscriptions import Hub
from api.tokens import Tokens
from api.transport import TextFrames, TransportHandler
from config.settings import Settings
from db.database import Database
from schema import Schema
from schema.context import Context
from schema.errors import (
    RETRY_AFTER_SECONDS,
    SERVICE_UNAVAILABLE,
    is_client_error,
    is_unavailable,
    masked,
    unavailable,
)
from schema.guard import GRAPHQL_VALIDATION_FAILED
from schema.messages import Language, Text
from schema.refusals import (
    BAD_REQUEST,
    JSON_NOT_OBJECT,
    JSON_UNPARSABLE,
    MUTATIONS_OVER_POST,
    OPERATIONS_OVER_POST,
    POST_BODY_TYPE,
    PREFLIGHT_REQUIRED,
    STRAWBERRY_REASONS,
    UNKNOWN_OPERATION,
    message_in,
)

PREFLIGHT_HEADERS = ("graphql-require-preflight", "apollo-require-preflight")

HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


UNKNOWN_OPERATION_REASON = re.compile(r'Unknown operation named "(.*)"\.', re.DOTALL)


def strawberry_refusal(status: int, reason: str, headers: dict[str, str]) -> Refused:
    """One of Strawberry's own refusals, in our words (by the reason it gives)."""
    text: Text = STRAWBERRY_REASONS.get(reason, BAD_REQUEST)
    params: dict[str, str] = {}
    if found := UNKNOWN_OPERATION_REASON.fullmatch(reason):
        text, params = UNKNOWN_OPERATION, {"name": found.group(1)}
    elif reason not in STRAWBERRY_REASONS:
        text = (BAD_REQUEST[0], reason)  # a refusal we have no words for: its own in English
    return Refused(status, text, params, headers)


def _codes(response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse]) -> set[str]:
    """The error codes of a response (of every operation of a batch)."""
    responses = response_data if isinstance(response_data, list) else [response_data]
    return {
        str(extensions.get("code"))
        for item in responses
        for error in item.get("errors") or ()
        if isinstance(error, dict) and isinstance(extensions := error.get("extensions"), dict)
    }


class GraphQLEndpoint(PersistedOperationsView):
    graphql_transport_ws_handler_class = TransportHandler
    websocket_adapter_class = TextFrames  # type: ignore[assignment]

    def __init__(
        self,
        schema: Schema,
        *,
        database: Database,
        settings: Settings,
        tokens: Tokens,
        principals: Principals,
        storage: LocalStorage,
        links: DownloadLinks,
        hub: Hub,
        persisted: PersistedDocuments,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=settings.graphql_get,
            multipart_uploads_enabled=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=dt.timedelta(seconds=hub.limits.init_timeout_seconds),
            max_subscriptions_per_connection=None,  # api.transport counts them itself
            # A WebSocket handshake's Origin: the page's own, none (not a browser), or a listed
            # one; any other is refused with 403 (Strawberry's check, before anything runs).
            allowed_origins=settings.cors_origins,
        )
        self.hub = hub
        self.prepared = schema.prepared
        self.run_prepared = schema.run_prepared
        self.database = database
        self.settings = settings
        self.tokens = tokens
        self.principals = principals
        self.storage = storage
        self.links = links
        self.persisted = persisted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            websocket = WebSocket(scope, receive=receive, send=send)
            websocket.state.request_id = uuid.uuid4().hex  # the connection's, for the log
            await self.run(websocket)
            return
        request = Request(scope, receive)
        try:
            response = await prepared.respond(self, request) or await self.run(request)
        except Refused as refused:
            response = self.refusal(request, refused)
        except Refusal as refusal:  # a persisted operation's (api.persisted), already localized
            message = (refusal.message, refusal.message)
            response = self.refusal(request, Refused(refusal.status, message, code=refusal.code))
        except HTTPException as error:  # Strawberry's own refusals
            response = self.refusal(
                request,
                strawberry_refusal(error.status_code, error.reason, self.allow(error.status_code)),
            )
        await response(scope, receive, send)

    def allow(self, status: int) -> dict[str, str]:
        """The ``Allow`` header a 405 needs (as for a query over GET, below)."""
        if status != 405:
            return {}
        return {"Allow": "GET, POST" if self.allow_queries_via_get else "POST"}

    def refusal(self, request: Request, refused: Refused) -> Response:
        code = refused.code or HTTP_CODES.get(refused.status, "BAD_REQUEST")
        observation_of(request.scope).graphql_errors.append(code)
        language = language_of(request.headers)
        body = error_body(refused.message(language), code)
        return Response(
            self.encode_json(body),
            status_code=refused.status,
            headers={**refused.headers, **content_language(language)},
            media_type=f"{preferred_response_type(request.headers.get('accept'))}; charset=utf-8",
        )

    def encode_json(self, data: object) -> bytes:
        # UTF-8, compact: Chinese stays readable (and a third shorter than \\u escapes); the same
        # bytes as json.dumps(ensure_ascii=False, separators=(",", ":")), several times faster.
        return orjson.dumps(data)

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        if not any(request.headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
            raise Refused(400, PREFLIGHT_REQUIRED)
        operations: dict[str, str] = await multipart.read_form(
            request, self.parse_json, self.decode_json
        )
        return operations

    async def run(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().run(request, *args, **kwargs)
        finally:
            if isinstance(request, Request):
                await request.close()  # the uploaded files' temporary copies

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            # Not only malformed JSON: bytes that are not UTF-8, a number of 5,000 digits, arrays
            # nested 100,000 deep.
            raise Refused(400, JSON_UNPARSABLE) from None

    def parse_json(self, data: str | bytes) -> Any:
        # Also parses GET's ``variables`` and ``extensions``: those, like a body, must be objects
        # (or, for a batch, a list of them); Strawberry would fail on a bare number or string.
        value = super().parse_json(data)
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, dict) for item in items):
            raise Refused(400, JSON_NOT_OBJECT)
        return value

    async def get_context(self, request: Request | WebSocket, response: Response | Any) -> Context:
        return Context(
            request=request,
            response=response,
            database=self.database,
            settings=self.settings,
            tokens=self.tokens,
            principals=self.principals,
            storage=self.storage,
            links=self.links,
            language=language_of(request.headers),
            hub=self.hub,
        )

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            kind, parameters = media_type(request.content_type)
            accepted = kind == JSON or (kind == MULTIPART and self.multipart_uploads_enabled)
            if not accepted or parameters.get("charset", "utf-8") != "utf-8":
                raise Refused(415, POST_BODY_TYPE)
        return await super().parse_http_body(request)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            return await super().execute_single(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=root_value,
                request_data=request_data,
            )
        except HTTPException as error:
            if isinstance(error.__cause__, InvalidOperationTypeError):
                allowed = "GET, POST" if self.allow_queries_via_get else "POST"
                raise Refused(
                    405,
                    MUTATIONS_OVER_POST if self.allow_queries_via_get else OPERATIONS_OVER_POST,
                    headers={"Allow": allowed},
                ) from error
            raise

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {}
        if not isinstance(result, PreExecutionError):
            response["data"] = result.data
        if result.errors:
            rid = request_id(request)
            language = language_of(request.headers)
            shown = [
                error
                if is_client_error(error)
                else unavailable(error, rid, language)
                if is_unavailable(error)
                else masked(error, rid, language)
                for error in result.errors
            ]
            formatted = [_formatted(error, language) for error in shown]
            observation_of(request.scope).graphql_errors.extend(
                str(error.get("extensions", {}).get("code")) for error in formatted
            )
            errors: list[object] = list(formatted)
            response["errors"] = errors
        if result.extensions:
            response["extensions"] = result.extensions
        return response

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = preferred_response_type(request.headers.get("accept"))
        sub_response.headers.update(content_language(language_of(request.headers)))
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        response_type = sub_response.media_type or JSON
        response.headers["content-type"] = f"{response_type}; charset=utf-8"
        not_run = isinstance(response_data, dict) and "data" not in response_data
        if response_type == GRAPHQL_RESPONSE_JSON and not_run and not sub_response.status_code:
            response.status_code = 400
        if _codes(response_data) & {SERVICE_UNAVAILABLE}:
            response.status_code = 503
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    async def render_graphql_ide(self, request: Request) -> Response:
        observation_of(request.scope).operation = GRAPHIQL
        page = graphiql.page(language_of(request.headers))
        page.headers["Content-Security-Policy"] = graphiql_policy(request)
        return page


def _formatted(error: GraphQLError, language: Language) -> GraphQLFormattedError:
    """The error as JSON, its message in the client's language where we wrote it. graphql-core's
    own refusals of the variables (coerced as execution starts, with no code) are validation
    errors like the rest of its messages, which stay as graphql-core writes them."""
    formatted = error.formatted.copy()
    formatted["message"] = message_in(error, language)
    if "code" not in (error.extensions or {}):  # every error of ours has one
        formatted["extensions"] = {**(error.extensions or {}), "code": GRAPHQL_VALIDATION_FAILED}
    return formatted
