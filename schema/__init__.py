"""The GraphQL contract: types, inputs, queries and mutations, built into one schema.

Each domain module contributes its own ``…Query`` and ``…Mutation`` types; they are merged here.
"""

import dataclasses
import datetime as dt
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection
from strawberry.file_uploads.scalars import Upload, UploadDefinition
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from config.limits import QueryLimits
from schema import details, types
from schema.attachments import AttachmentMutation
from schema.certificates import CertificateQuery
from schema.coordinations import CoordinationMutation, CoordinationQuery
from schema.errors import log, request_id_of, without_suggestion
from schema.executor import strawberry_resolvers
from schema.executor.strawberry import StrawberryCompiledExecutor
from schema.form import FormQuery
from schema.guard import QueryChecks, QueryGuard
from schema.identity import IdentityMutation, IdentityQuery
from schema.listing import ListingQuery
from schema.nodes import NodeQuery
from schema.observability import OperationLabel
from schema.prepared import PreparedDocuments, PreparedExecution
from schema.reference import ReferenceQuery
from schema.sessions import SessionMutation
from schema.subscriptions import CoordinationSubscription, OverWebSocket

CACHE_SIZE = 1024

Query = merge_types(
    "Query",
    (
        IdentityQuery,
        NodeQuery,
        CoordinationQuery,
        ListingQuery,
        CertificateQuery,
        ReferenceQuery,
        FormQuery,
    ),
)
Mutation = merge_types(
    "Mutation", (IdentityMutation, SessionMutation, CoordinationMutation, AttachmentMutation)
)
Subscription = CoordinationSubscription  # the only one, so far
Query.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "查询: what may be read; every field needs a bearer token (UNAUTHENTICATED otherwise)."
)
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "变更: what may be changed; each returns a payload whose errors list the refusals (nothing "
    "changes then). Every mutation but login needs a bearer token."
)

# Strawberry's scalars, described for this contract (same parsing and serialising).
SCALARS: dict[object, Any] = {
    dt.date: dataclasses.replace(
        DateDefinition,
        description="日期: a calendar day, ISO 8601 YYYY-MM-DD (China Standard Time where it "
        "bounds a search).",
    ),
    dt.datetime: dataclasses.replace(
        DateTimeDefinition,
        description="日期时间: an instant, ISO 8601 with its UTC offset, e.g. "
        "2026-11-23T08:30:00+00:00 (UTC on the wire).",
    ),
    Upload: dataclasses.replace(
        UploadDefinition,
        description="上传文件: a file sent by the GraphQL multipart request spec (send a "
        "GraphQL-Require-Preflight header).",
    ),
}


class Schema(strawberry.Schema):
    """Logs errors our way (unexpected ones with their stack and request id) and, when asked to
    hide suggestions, removes every "Did you mean …" (Strawberry's own option covers only unknown
    fields, not arguments, types or enum values). ``prepared`` holds the documents validated
    before and ``run_prepared`` runs one of them (``schema/prepared.py``)."""

    prepared: PreparedDocuments
    run_prepared: PreparedExecution

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        context = execution_context.context if execution_context else None
        log(errors, request_id_of(context))

    @staticmethod
    def remove_field_suggestion(error: GraphQLError) -> None:
        error.message = without_suggestion(error.message)


def build_schema(
    *,
    limits: QueryLimits | None = None,
    introspection: bool = True,
    max_batch_operations: int = 0,
    compiled: bool = True,
) -> Schema:
    """The schema; ``introspection=False`` refuses ``__schema``/``__type`` and hides suggestions,
    ``max_batch_operations`` > 1 accepts JSON arrays of that many operations, ``compiled=False``
    completes every result with graphql-core alone and calls every resolver through Strawberry's
    own wrapper (``schema/executor``)."""
    checks = QueryChecks(limits or QueryLimits(), cache_size=CACHE_SIZE)
    extensions: list[Any] = [lambda: QueryGuard(checks), OperationLabel, OverWebSocket]
    if not introspection:
        extensions.insert(0, DisableIntrospection)
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            types.CustomsCertificateRequest,
            types.ApprovedExporterDeclarationRequest,
            types.RulingDeclarationRequest,
            types.CcpitCertificateRequest,
            details.Attachment,
        ],
        extensions=extensions,
        scalar_overrides=SCALARS,
        execution_context_class=StrawberryCompiledExecutor if compiled else None,
        config=StrawberryConfig(
            disable_field_suggestions=not introspection,
            batching_config=(
                {"max_operations": max_batch_operations} if max_batch_operations > 1 else None
            ),
        ),
    )
    if compiled:
        strawberry_resolvers.install(schema._schema, schema.schema_converter)
    schema.prepared = checks.prepared
    schema.run_prepared = PreparedExecution(
        schema=schema._schema,
        refusals=checks.request_refusals,
        process_errors=schema.process_errors,
        executor_class=schema.execution_context_class,
    )
    return schema
