"""The persisted-operation steps of the ``/graphql`` view (the rules are in ``api.persisted``).

``PersistedOperationsView`` sits between our endpoint (``api.graphql``) and Strawberry's view: it
turns a ``documentId`` into the persisted-query extension Strawberry does not read, replaces a hash
by its document before anything is parsed, answers ``PERSISTED_QUERY_NOT_FOUND`` (HTTP 200, also
under ``application/graphql-response+json``), and stores a newly registered document once it ran
(for an authenticated caller).
A request without ``extensions`` (and not in trusted-only mode) costs one attribute check here.
"""

import dataclasses

from cross_web import AsyncHTTPRequestAdapter
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from api.persisted import PersistedDocuments, Refusal, document_id
from schema.context import Context

JSON = "application/json"


class PersistedOperationsView(GraphQL[Context, None]):
    persisted: PersistedDocuments

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET naming a persisted document and no query text is an operation, not a visit.
        persisted = {"extensions", "documentId"} & set(request.query_params)
        return not persisted and super().should_render_graphql_ide(request)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData) and data.query is None and not data.extensions:
            # No query, no hash: perhaps a documentId (GraphQL over HTTP's persisted documents).
            raw = request.query_params if request.method == "GET" else None
            if raw is None and (request.content_type or "").split(";")[0].strip() == JSON:
                raw = self.parse_json(await request.get_body())
            extensions = document_id(raw)
            if extensions is not None:
                data = dataclasses.replace(data, extensions=extensions)
        return data

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        register = None
        if self.persisted.applies(request_data):
            try:
                resolved = await self.persisted.resolve(request_data, context.language)
            except Refusal as refusal:
                if refusal.status != 200:
                    raise
                sub_response.status_code = 200  # also under application/graphql-response+json
                error = GraphQLError(refusal.message, extensions={"code": refusal.code})
                return PreExecutionError(data=None, errors=[error])
            request_data, register = resolved.data, resolved.register
        result = await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )
        # Only a logged-in user's documents are stored, so that no anonymous client can fill the
        # table; an anonymous one still runs, and runs by hash once a user registered it.
        if (
            register is not None
            and not isinstance(result, PreExecutionError)
            and await context.viewer() is not None
        ):
            assert request_data.query is not None, "a query to register came with its text"
            await self.persisted.register(register, request_data.query, context.now)
        return result
