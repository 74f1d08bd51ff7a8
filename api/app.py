"""The Starlette application: ``create_app(settings)`` wires database, schema and routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from api.graphql import GraphQLEndpoint
from api.security import SecurityMiddleware
from api.settings import Settings
from api.tokens import Tokens
from db.database import Database
from schema import build_schema


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    database = Database(settings.database_url, pool_size=settings.database_pool_size)
    tokens = Tokens(
        secret=settings.secret_key,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl=settings.token_ttl,
    )
    schema = build_schema(
        limits=settings.query_limits,
        introspection=settings.introspection,
        max_batch_operations=settings.max_batch_operations,
    )
    graphql = GraphQLEndpoint(schema, database=database, settings=settings, tokens=tokens)

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await database.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        middleware=[Middleware(SecurityMiddleware)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.tokens = tokens
    return app
