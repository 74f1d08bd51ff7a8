"""Which GraphQL errors a client may read as they are, how the rest is masked, and how errors are
logged.

A client reads errors about its request (syntax, validation, limits, our typed refusals such as
``UNAUTHENTICATED``). An exception raised anywhere else is *unexpected*: it is logged with its
stack and the request id, and the client gets ``Unexpected error.`` (in Chinese by default) with
that request id, never the exception's text (which may hold SQL, a file path or a stack trace).

One kind of exception is expected, though not the client's doing: the database could not be
reached (PostgreSQL refused the connection, or the pool had none free in time). The client gets
``SERVICE_UNAVAILABLE`` (HTTP 503 with ``Retry-After``) and the log one warning: nothing is wrong
with the code, and the next request succeeds as soon as connections are available again.
"""

import logging
import re
from typing import Any

from asyncpg.exceptions import CannotConnectNowError, TooManyConnectionsError
from graphql import GraphQLError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from schema.messages import SERVICE_UNAVAILABLE_MESSAGE, Language, pick
from schema.refusals import UNEXPECTED_ERROR

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
RETRY_AFTER_SECONDS = 5

UNREACHABLE_DATABASE: tuple[type[BaseException], ...] = (
    TooManyConnectionsError,  # max_connections, or a role's or database's CONNECTION LIMIT
    CannotConnectNowError,  # starting up, shutting down, in recovery
    ConnectionRefusedError,  # nothing listens where PostgreSQL should
    PoolTimeoutError,  # every connection of the pool busy for the whole pool timeout
)

logger = logging.getLogger("xhsz.errors")

SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


def is_client_error(error: GraphQLError) -> bool:
    """Errors about the request itself (syntax, validation, our typed refusals) stay readable;
    an exception raised inside a resolver is masked so that no SQL, path or trace leaks."""
    original = error.original_error
    return original is None or isinstance(original, GraphQLError)


def masked(error: GraphQLError, request_id: str, language: Language) -> GraphQLError:
    """What a client sees of an unexpected error: where it happened, and the id to report."""
    return GraphQLError(
        pick(UNEXPECTED_ERROR, language),
        error.nodes,
        path=error.path,
        extensions={"code": INTERNAL_SERVER_ERROR, "requestId": request_id},
    )


def unreachable_database(error: BaseException | None) -> BaseException | None:
    """Why the database could not be reached, if that is what ``error`` (or what it was raised
    from: SQLAlchemy wraps the driver's errors) comes down to."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, UNREACHABLE_DATABASE):
            return error
        seen.add(id(error))
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return None


def is_unavailable(error: GraphQLError) -> bool:
    return unreachable_database(error.original_error) is not None


def unavailable_error(language: Language, request_id: str) -> dict[str, Any]:
    """The error a client gets while the database cannot be reached (as JSON)."""
    return {
        "message": pick(SERVICE_UNAVAILABLE_MESSAGE, language),
        "extensions": {"code": SERVICE_UNAVAILABLE, "requestId": request_id},
    }


def unavailable(error: GraphQLError, request_id: str, language: Language) -> GraphQLError:
    """``error`` as the client sees it when the database could not be reached."""
    body = unavailable_error(language, request_id)
    return GraphQLError(
        body["message"], error.nodes, path=error.path, extensions=body["extensions"]
    )


def log_unavailable(cause: BaseException, request_id: str) -> None:
    """One warning, without a stack: an outage of the database is not a bug of ours."""
    logger.warning(
        "database unavailable in request %s: %s: %s", request_id, type(cause).__name__, cause
    )


def log(errors: list[GraphQLError], request_id: str) -> None:
    """Unexpected errors at ERROR with their stack; an unreachable database once per request at
    WARNING; refusals of bad requests only at DEBUG."""
    unreachable = [
        cause for error in errors if (cause := unreachable_database(error.original_error))
    ]
    if unreachable:
        log_unavailable(unreachable[0], request_id)
    for error in errors:
        if is_client_error(error):
            logger.debug("refused request %s: %s", request_id, error.message)
        elif is_unavailable(error):
            continue
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
