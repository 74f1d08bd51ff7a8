"""Which GraphQL errors a client may read as they are, how the rest is masked, and how errors are
logged.

A client reads errors about its request (syntax, validation, limits, our typed refusals such as
``UNAUTHENTICATED``). An exception raised anywhere else is *unexpected*: it is logged with its
stack and the request id, and the client gets ``Unexpected error.`` with that request id, never the
exception's text (which may hold SQL, a file path or a stack trace).
"""

import logging
import re
from typing import Any

from graphql import GraphQLError

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
UNEXPECTED_ERROR = "Unexpected error."

logger = logging.getLogger("xhsz.errors")

SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


def is_client_error(error: GraphQLError) -> bool:
    """Errors about the request itself (syntax, validation, our typed refusals) stay readable;
    an exception raised inside a resolver is masked so that no SQL, path or trace leaks."""
    original = error.original_error
    return original is None or isinstance(original, GraphQLError)


def masked(error: GraphQLError, request_id: str) -> GraphQLError:
    """What a client sees of an unexpected error: where it happened, and the id to report."""
    return GraphQLError(
        UNEXPECTED_ERROR,
        error.nodes,
        path=error.path,
        extensions={"code": INTERNAL_SERVER_ERROR, "requestId": request_id},
    )


def log(errors: list[GraphQLError], request_id: str) -> None:
    """Unexpected errors at ERROR with their stack; refusals of bad requests only at DEBUG."""
    for error in errors:
        if is_client_error(error):
            logger.debug("refused request %s: %s", request_id, error.message)
        else:
            path = ".".join(str(part) for part in error.path or ()) or "-"
            logger.error(
                "unexpected error in request %s at %s: %s",
                request_id,
                path,
                error.message,
                exc_info=error.original_error,
            )


def without_suggestion(message: str) -> str:
    """``Cannot query field 'x' on type 'Query'.`` without its ``Did you mean 'y'?``: the
    suggestions would spell out a schema whose introspection is turned off."""
    return SUGGESTION.sub("", message)


def request_id_of(context: Any) -> str:
    """The request id a context carries (``-`` outside an HTTP request)."""
    return str(getattr(context, "request_id", None) or "-")
