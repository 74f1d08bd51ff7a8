"""The outermost middleware: a request id, security headers on every response, and a last-resort
answer for an exception nothing else caught.

Every response carries ``X-Request-ID`` (also in masked errors and in the log), ``nosniff``, a
``Referrer-Policy``, framing denied, ``Cache-Control: no-store`` (API answers and downloads are
per-user data) and a Content Security Policy. The default policy allows nothing, which is right
for JSON and files; the GraphiQL page sends its own (``graphiql_policy``), and tightening it when
GraphiQL's assets are served by the app itself means changing ``GRAPHIQL_ASSET_ORIGIN`` only.
"""

import base64
import hashlib
import json
import logging
import re
import uuid

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.errors import INTERNAL_SERVER_ERROR, UNEXPECTED_ERROR

logger = logging.getLogger("xhsz.errors")

REQUEST_ID_HEADER = "X-Request-ID"

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

# Where the GraphiQL page loads React, GraphiQL and its explorer from; "'self'" once the app
# serves them.
GRAPHIQL_ASSET_ORIGIN = "https://unpkg.com"

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "content-security-policy": API_POLICY,
}

INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def graphiql_policy(html: str) -> str:
    """The policy the GraphiQL page works under: its scripts and styles from the asset origin,
    its inline script by hash, fonts and icon as data URIs, queries to this origin only."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {GRAPHIQL_ASSET_ORIGIN} {hashes}",
            # GraphiQL and the page itself set inline styles.
            f"style-src {GRAPHIQL_ASSET_ORIGIN} 'unsafe-inline'",
            "font-src data:",
            "img-src 'self' data:",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


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
        except Exception:
            logger.exception("unexpected error in request %s (%s)", rid, scope.get("path"))
            if started:
                raise
            body = json.dumps(
                {
                    "errors": [
                        {
                            "message": UNEXPECTED_ERROR,
                            "extensions": {"code": INTERNAL_SERVER_ERROR, "requestId": rid},
                        }
                    ]
                }
            ).encode()
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
