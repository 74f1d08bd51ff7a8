"""The Starlette application: ``create_app(settings)`` wires database, storage, schema, routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from api import collector, graphiql, health, metrics
from api.cors import CorsMiddleware
from api.downloads import DownloadLinks, Downloads
from api.graphql import GraphQLEndpoint
from api.limits import BodyLimit
from api.observability import AccessLog
from api.persisted import PersistedDocuments, load_manifest
from api.principals import Principals
from api.refusals import http_exception
from api.security import SecurityMiddleware
from api.storage import LocalStorage
from api.subscriptions import Hub
from api.tokens import Tokens
from config.settings import Settings
from db.database import Database
from schema import build_schema


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    database = Database(
        settings.database_url,
        pool_size=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout,
        replica_url=settings.database_replica_url or None,
        replica_max_lag=settings.replica_max_lag_seconds,
    )
    tokens = Tokens(
        secret=settings.secret_key,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl=settings.token_ttl,
    )
    principals = Principals(settings.principal_cache_seconds)
    storage = LocalStorage(settings.storage_dir)
    links = DownloadLinks.from_secret(
        settings.secret_key, settings.download_url_ttl, settings.public_url
    )
    hub = Hub(database, settings.subscription_limits)
    schema = build_schema(
        limits=settings.query_limits,
        introspection=settings.introspection,
        max_batch_operations=settings.max_batch_operations,
        compiled=settings.compiled_executor,
    )
    persisted = PersistedDocuments(
        database,
        trusted=load_manifest(settings.trusted_documents) if settings.trusted_documents else None,
        trusted_only=settings.trusted_documents_only,
    )
    graphql = GraphQLEndpoint(
        schema,
        database=database,
        settings=settings,
        tokens=tokens,
        principals=principals,
        storage=storage,
        links=links,
        hub=hub,
        persisted=persisted,
    )
    downloads = Downloads(database=database, storage=storage, links=links)
    metrics.watch_pool(database)
    metrics.watch_replica(database)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        collector.tune_once()
        yield
        await hub.stop()
        await database.dispose()

    app = Starlette(
        routes=[
            # Every method reaches the endpoint, which answers the others 405 in JSON.
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),  # subscriptions (graphql-transport-ws)
            Route("/healthz", health.healthz, methods=["GET"]),
            Route("/readyz", health.readyz, methods=["GET"]),
            Route("/metrics", metrics.endpoint, methods=["GET"]),
            *graphiql.routes,
            Route("/attachments/{attachment_id:int}", downloads.serve, methods=["GET"]),
            Route("/attachments/{attachment_id:int}/preview", downloads.preview, methods=["GET"]),
        ],
        # Outermost first: every request is logged and measured, and every response gets a
        # request id and the security headers, 413s too.
        middleware=[
            Middleware(AccessLog),
            # Outside the security middleware, so that its last-resort 500/503 reaches a
            # cross-origin page too; only there when origins are configured (no cost otherwise).
            *(
                [Middleware(CorsMiddleware, origins=settings.cors_origins)]
                if settings.cors_origins
                else []
            ),
            Middleware(SecurityMiddleware),
            Middleware(
                BodyLimit,
                path="/graphql",
                json_bytes=settings.max_json_bytes,
                multipart_bytes=settings.max_multipart_bytes,
                timeout=settings.request_body_timeout.total_seconds(),
            ),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: http_exception},
    )
    app.state.settings = settings
    app.state.schema = schema
    app.state.database = database
    app.state.tokens = tokens
    app.state.principals = principals
    app.state.storage = storage
    app.state.links = links
    app.state.hub = hub
    app.state.persisted = persisted
    return app
