"""Which GraphQL errors a client may read as they are; everything else is masked."""

from graphql import GraphQLError


def is_client_error(error: GraphQLError) -> bool:
    """Errors about the request itself (syntax, validation, our typed refusals) stay readable;
    an exception raised inside a resolver is masked so that no SQL, path or trace leaks."""
    original = error.original_error
    return original is None or isinstance(original, GraphQLError)
