"""Cross-origin requests (CORS) from the front ends' origins, ``XHSZ_CORS_ORIGINS``.

Only ``/graphql`` and the attachment links (``/attachments/…``: downloads and previews) take part.
For an origin on the list (compared exactly, as the browser writes it):

- a preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered here, 204, with the
  methods (GET, POST), the request headers a GraphQL client sends (``ALLOWED_HEADERS``), how long
  the browser may remember that (``MAX_AGE_SECONDS``) and ``Vary: Origin``;
- every other response carries ``Access-Control-Allow-Origin: <that origin>``, exposes
  ``X-Request-ID`` (so that a front end can quote it) and varies on ``Origin``.

An origin that is not listed gets no ``Access-Control-*`` header at all (its preflight goes on to
the route, which answers ``OPTIONS`` 405), so the browser refuses to let its page read anything.
Tokens are bearer headers, never cookies: there is no ``Access-Control-Allow-Credentials``.

Starlette's ``CORSMiddleware`` is not used: it answers a preflight from a disallowed origin (or
for a header it does not list) 400 *with* ``Access-Control-Allow-Methods``/``-Headers``/
``-Max-Age``, and applies to every path.
"""

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOWED_METHODS = "GET, POST"
ALLOWED_HEADERS = ", ".join(
    [
        "Authorization",
        "Content-Type",
        "Accept",
        "Accept-Language",
        "GraphQL-Require-Preflight",
        "Apollo-Require-Preflight",
    ]
)
EXPOSED_HEADERS = "X-Request-ID"
MAX_AGE_SECONDS = 600
"""How long a browser may reuse a preflight's answer (Chromium caps it at 7,200 s)."""

PATHS = ("/graphql",)
PREFIXES = ("/attachments/",)


def takes_part(path: str) -> bool:
    """Whether ``path`` is one cross-origin pages may call."""
    return path in PATHS or path.startswith(PREFIXES)


class CorsMiddleware:
    def __init__(self, app: ASGIApp, *, origins: tuple[str, ...]) -> None:
        self.app = app
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not takes_part(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or origin not in self.origins:
            await self.app(scope, receive, _varying(send))
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await _preflight(origin, send)
            return
        await self.app(scope, receive, _allowing(origin, send))


async def _preflight(origin: str, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
                (b"access-control-max-age", str(MAX_AGE_SECONDS).encode()),
                (b"vary", b"Origin"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            given = message.get("headers", [])
            headers = [(name, value) for name, value in given if not _is_vary(name)]
            vary = [value for name, value in given if _is_vary(name)]
            values = [part.strip() for value in vary for part in value.split(b",") if part.strip()]
            if b"origin" not in (value.lower() for value in values):
                values.append(b"Origin")
            message["headers"] = [*headers, *extra, (b"vary", b", ".join(values))]
        await send(message)

    return sending


def _is_vary(name: bytes) -> bool:
    return name.lower() == b"vary"


def _varying(send: Send) -> Send:
    """The response to a request from no or an unlisted origin: only ``Vary: Origin`` (a cache
    must not hand it to a listed origin, nor the other way round)."""
    return _with_headers(send, [])


def _allowing(origin: str, send: Send) -> Send:
    return _with_headers(
        send,
        [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
        ],
    )
