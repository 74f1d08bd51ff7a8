"""The outermost middleware: a request id, security headers on every response, and a last-resort
answer for an exception nothing else caught (503 when the database could not be reached).

Every response carries ``X-Request-ID`` (also in masked errors and in the log), ``nosniff``, a
``Referrer-Policy``, framing denied, ``Cache-Control: no-store`` (API answers and downloads are
per-user data) and a Content Security Policy. The default policy allows nothing, which is right
for JSON and files; the GraphiQL page sends its own (``GRAPHIQL_POLICY``): everything from the app
itself, which serves GraphiQL's assets.
"""

import logging
import re
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.refusals import content_language, error_body, language_of
from schema.errors import (
    INTERNAL_SERVER_ERROR,
    RETRY_AFTER_SECONDS,
    log_unavailable,
    unavailable_error,
    unreachable_database,
)
from schema.messages import pick
from schema.refusals import UNEXPECTED_ERROR

logger = logging.getLogger("xhsz.errors")

REQUEST_ID_HEADER = "X-Request-ID"

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

GRAPHIQL_POLICY = "; ".join(
    [
        "default-src 'none'",
        # The page, React, GraphiQL and its explorer all come from the app itself (api.graphiql).
        "script-src 'self'",
        # GraphiQL and its editor set inline styles.
        "style-src 'self' 'unsafe-inline'",
        "font-src data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)
"""The GraphiQL page's policy: nothing from elsewhere, no inline script."""

HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def graphiql_policy(request: Request) -> str:
    """``GRAPHIQL_POLICY``, with the page's own WebSocket origin named for its subscriptions:
    CSP 3 counts ``ws:``/``wss:`` on the page's host as ``'self'``, older browsers (Safari before
    15.4) do not. A ``Host`` that is not a plain host and port is left out, never written into
    the header."""
    host = request.headers.get("host", "")
    if not HOST.fullmatch(host):
        return GRAPHIQL_POLICY
    scheme = "wss" if request.url.scheme == "https" else "ws"
    return GRAPHIQL_POLICY.replace("connect-src 'self'", f"connect-src 'self' {scheme}://{host}")


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "content-security-policy": API_POLICY,
}


def request_id(request: Request) -> str:
    """The id the middleware gave this request."""
    return str(getattr(request.state, "request_id", None) or "-")


class SecurityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (name.encode(), value.encode())
                    for name, value in SECURITY_HEADERS.items()
                    if name.encode() not in present
                ]
                extra.append((REQUEST_ID_HEADER.lower().encode(), rid.encode()))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exception:
            cause = unreachable_database(exception)
            if cause is None:
                logger.exception("unexpected error in request %s (%s)", rid, scope.get("path"))
            else:
                log_unavailable(cause, rid)
            if started:
                raise
            request = Request(scope)
            response = _unexpected(request, rid) if cause is None else _unavailable(request, rid)
            await response(scope, receive, send_with_headers)


def _unexpected(request: Request, rid: str) -> JSONResponse:
    language = language_of(request.headers)
    return JSONResponse(
        error_body(pick(UNEXPECTED_ERROR, language), INTERNAL_SERVER_ERROR, requestId=rid),
        status_code=500,
        headers=content_language(language),
    )


def _unavailable(request: Request, rid: str) -> JSONResponse:
    """The database could not be reached (a download, say): 503, try again shortly."""
    language = language_of(request.headers)
    return JSONResponse(
        {"errors": [unavailable_error(language, rid)]},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS), **content_language(language)},
    )
