"""The ``/graphql`` endpoint: Strawberry's ASGI view with our per-request context."""

import json
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api import graphiql
from api.settings import Settings
from api.tokens import Tokens
from db.database import Database
from schema.context import Context
from schema.messages import Language


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        database: Database,
        settings: Settings,
        tokens: Tokens,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self.database = database
        self.settings = settings
        self.tokens = tokens

    def encode_json(self, data: object) -> bytes:
        # Chinese stays readable in responses (and a third shorter than \\u escapes).
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.page()

    async def get_context(self, request: Request | WebSocket, response: Response | Any) -> Context:
        assert isinstance(request, Request), "no subscriptions: websockets never get here"
        return Context(
            request=request,
            response=response,
            database=self.database,
            settings=self.settings,
            tokens=self.tokens,
            language=Language.from_accept_language(request.headers.get("accept-language")),
        )
