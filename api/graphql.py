"""The ``/graphql`` endpoint: Strawberry's ASGI view with our per-request context.

File uploads (the GraphQL multipart request spec) are on, and guarded against cross-site request
forgery: ``multipart/form-data`` is a "simple" content type that any web page may POST with the
user's cookies, so such a request must carry a header that only a preflighted (same-origin or
CORS-approved) request can have: ``GraphQL-Require-Preflight`` or ``Apollo-Require-Preflight``.
Body sizes are limited before this view reads anything (``api.limits``).
"""

import json
from typing import Any

import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api import graphiql
from api.downloads import DownloadLinks
from api.settings import Settings
from api.storage import LocalStorage
from api.tokens import Tokens
from db.database import Database
from schema.context import Context
from schema.messages import Language

PREFLIGHT_HEADERS = ("graphql-require-preflight", "apollo-require-preflight")


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        database: Database,
        settings: Settings,
        tokens: Tokens,
        storage: LocalStorage,
        links: DownloadLinks,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=True,
        )
        self.database = database
        self.settings = settings
        self.tokens = tokens
        self.storage = storage
        self.links = links

    def encode_json(self, data: object) -> bytes:
        # Chinese stays readable in responses (and a third shorter than \\u escapes).
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.page()

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        if not any(request.headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
            raise HTTPException(
                400,
                "Multipart requests need a non-empty GraphQL-Require-Preflight (or "
                "Apollo-Require-Preflight) header, as protection against cross-site requests.",
            )
        return await super().parse_multipart(request)

    async def run(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().run(request, *args, **kwargs)
        finally:
            if isinstance(request, Request):
                await request.close()  # the uploaded files' temporary copies

    async def get_context(self, request: Request | WebSocket, response: Response | Any) -> Context:
        assert isinstance(request, Request), "no subscriptions: websockets never get here"
        return Context(
            request=request,
            response=response,
            database=self.database,
            settings=self.settings,
            tokens=self.tokens,
            storage=self.storage,
            links=self.links,
            language=Language.from_accept_language(request.headers.get("accept-language")),
        )
