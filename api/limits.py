"""Request body limits for ``/graphql``, enforced before and while the body is read: its size, the
time it may take to arrive, and what happens when its client goes away.

Neither Strawberry nor Starlette limits a body: the multipart parser would spool any size to
disk, a JSON body is read whole into memory, and nothing times out a body that stops arriving
(uvicorn's keep-alive timeout only starts once a response is sent). So this ASGI middleware sits
in front:

- a body announced (``Content-Length``) larger than its limit is answered 413 without reading it;
- otherwise (also for chunked bodies, which announce nothing) every chunk is counted as the app
  reads it, and the first one past the limit stops the request with 413;
- the whole body must arrive within ``timeout`` seconds of the request's start, or the request is
  stopped with 408 and the connection closed (``Connection: close``): a client that sends half a
  body and falls silent, or trickles it byte by byte, holds a connection for that long at most;
- a client that disconnects before its body is complete is not an error: nothing is answered (no
  one is listening), and the request is logged and counted with the outcome ``disconnected``
  (status 499, nginx's "client closed request").

The limit is the file limit plus a margin for a multipart upload, and the JSON limit for anything
else. The rest of a body refused with 413 never reaches the app: the server discards it as it
arrives, and keeps the connection open meanwhile, because most clients read the response only
once they have sent their whole body, and a connection closed under them loses the 413 (a
"connection reset" instead). A proxy in front (nginx ``client_max_body_size``) can spare the
bandwidth as well.
"""

import asyncio

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability import observation_of
from api.refusals import content_language, error_body, scope_language
from schema.refusals import BODY_TOO_LARGE, BODY_TOO_SLOW, write


class BodyRefused(Exception):  # not a ValueError: no parser on the way may swallow it
    """Raised from ``receive`` to stop the app reading a body it must not have."""


class BodyTooLarge(BodyRefused):
    pass


class BodyTooSlow(BodyRefused):
    pass


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        path: str,
        json_bytes: int,
        multipart_bytes: int,
        timeout: float,
    ) -> None:
        self.app = app
        self.path = path
        self.json_bytes = json_bytes
        self.multipart_bytes = multipart_bytes
        self.timeout = timeout

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

        deadline = asyncio.get_running_loop().time() + self.timeout
        received = 0
        complete = disconnected = started = False

        async def guarded_receive() -> Message:
            nonlocal received, complete, disconnected
            if complete:  # the app waits for a disconnect: no deadline for that
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
                complete = not message.get("more_body", False)
            elif message["type"] == "http.disconnect":
                disconnected = True
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracked_send)
        except BodyRefused as refused:
            if started:  # cannot happen: the app answers only after reading the whole body
                raise
            if isinstance(refused, BodyTooLarge):
                await _too_large(scope, limit)(scope, receive, send)
            else:
                await _too_slow(scope, self.timeout)(scope, receive, send)
        except ClientDisconnect:
            if started or not disconnected:  # not raised for the client going away
                raise
            observation_of(scope).disconnected = True


def _too_large(scope: Scope, limit: int) -> JSONResponse:
    observation_of(scope).graphql_errors.append("PAYLOAD_TOO_LARGE")
    language = scope_language(scope)
    message = write(BODY_TOO_LARGE, language, {"limit": limit})
    return JSONResponse(
        error_body(message, "PAYLOAD_TOO_LARGE", limit=limit),
        status_code=413,
        headers=content_language(language),
    )


def _too_slow(scope: Scope, timeout: float) -> JSONResponse:
    observation_of(scope).graphql_errors.append("REQUEST_TIMEOUT")
    language = scope_language(scope)
    message = write(BODY_TOO_SLOW, language, {"timeout": f"{timeout:g}"})
    # Closed: what is left of the body may still come, and the connection has been held enough.
    return JSONResponse(
        error_body(message, "REQUEST_TIMEOUT"),
        status_code=408,
        headers={"Connection": "close", **content_language(language)},
    )
