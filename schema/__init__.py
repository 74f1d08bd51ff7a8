"""The GraphQL contract: types, inputs, queries and mutations, built into one schema.

Each domain module contributes its own ``…Query`` and ``…Mutation`` types; they are merged here.
"""

import strawberry
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.tools import merge_types

from schema import types
from schema.coordinations import CoordinationMutation, CoordinationQuery
from schema.errors import is_client_error
from schema.identity import IdentityMutation, IdentityQuery
from schema.listing import ListingQuery
from schema.nodes import NodeQuery
from schema.reference import ReferenceQuery

CACHE_SIZE = 1024

Query = merge_types(
    "Query", (IdentityQuery, NodeQuery, CoordinationQuery, ListingQuery, ReferenceQuery)
)
Mutation = merge_types("Mutation", (IdentityMutation, CoordinationMutation))


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
    )
