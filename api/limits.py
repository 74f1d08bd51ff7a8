"""Request body limits for ``/graphql``, enforced before and while the body is read.

Neither Strawberry nor Starlette limits a body: the multipart parser would spool any size to
disk, and a JSON body is read whole into memory. So this ASGI middleware sits in front:

- a body announced (``Content-Length``) larger than its limit is answered 413 without reading it;
- otherwise (also for chunked bodies, which announce nothing) every chunk is counted as the app
  reads it, and the first one past the limit stops the request with 413.

The limit is the file limit plus a margin for a multipart upload, and the JSON limit for anything
else. The rest of a refused body never reaches the app: the server discards it as it arrives, and
keeps the connection open meanwhile, because most clients read the response only once they have
sent their whole body, and a connection closed under them loses the 413 (a "connection reset"
instead). A proxy in front (nginx ``client_max_body_size``) can spare the bandwidth as well.
"""

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability import observation_of


class BodyTooLarge(Exception):  # not a ValueError: no parser on the way may swallow it
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, *, path: str, json_bytes: int, multipart_bytes: int) -> None:
        self.app = app
        self.path = path
        self.json_bytes = json_bytes
        self.multipart_bytes = multipart_bytes

    def limit(self, headers: Headers) -> int:
        content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        return self.multipart_bytes if content_type == "multipart/form-data" else self.json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.limit(headers)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(scope, limit)(scope, receive, send)
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if started:  # cannot happen: the app answers only after reading the whole body
                raise
            await _too_large(scope, limit)(scope, receive, send)


def _too_large(scope: Scope, limit: int) -> JSONResponse:
    observation_of(scope).graphql_errors.append("PAYLOAD_TOO_LARGE")
    error = {
        "message": f"The request body is larger than {limit} bytes.",
        "extensions": {"code": "PAYLOAD_TOO_LARGE", "limit": limit},
    }
    return JSONResponse({"errors": [error]}, status_code=413)
