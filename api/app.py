"""The Starlette application: ``create_app(settings)`` wires database, schema and routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from api import graphiql, health
from api.graphql import GraphQLEndpoint
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
    graphql = GraphQLEndpoint(build_schema(), database=database, settings=settings, tokens=tokens)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await database.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", health.healthz, methods=["GET"]),
            Route("/readyz", health.readyz, methods=["GET"]),
            *graphiql.routes,
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.tokens = tokens
    return app
