"""The GraphQL contract: types, inputs, queries and mutations, built into one schema."""

import strawberry
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig

from schema import types
from schema.errors import is_client_error
from schema.mutations import Mutation
from schema.queries import Query

CACHE_SIZE = 1024


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[
            types.CustomsCertificateRequest,
            types.ApprovedExporterDeclarationRequest,
            types.RulingDeclarationRequest,
            types.CcpitCertificateRequest,
            types.Attachment,
        ],
        extensions=[
            lambda: ParserCache(maxsize=CACHE_SIZE),
            lambda: ValidationCache(maxsize=CACHE_SIZE),
            lambda: MaskErrors(should_mask_error=lambda error: not is_client_error(error)),
        ],
        config=StrawberryConfig(),
    )
