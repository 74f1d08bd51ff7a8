"""One structured log line and one set of metrics per request.

``AccessLog`` wraps the whole app. It puts an ``Observation`` in the request's state, which the
GraphQL layer fills in as it learns things (the operation, the viewer, the error codes it
returned, the bytes it stored); when the response is sent it writes one JSON line to the
``xhsz.access`` logger and updates the Prometheus metrics.
"""

import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import metrics

logger = logging.getLogger("xhsz.access")

GRAPHIQL = "http:graphiql"
CLIENT_CLOSED = 499  # nginx's status for a request its client closed before the answer
HTTP_ROUTES = {"/healthz": "http:healthz", "/readyz": "http:readyz", "/metrics": "http:metrics"}


@dataclass
class Observation:
    """What one request did, as the layers below learn it."""

    operation: str | None = None
    viewer: str | None = None
    role: str | None = None
    graphql_errors: list[str] = field(default_factory=list)
    user_errors: list[str] = field(default_factory=list)
    upload_bytes: int = 0
    disconnected: bool = False  # the client went away before its request was complete

    def outcome(self, status: int) -> str:
        if self.disconnected:
            return "disconnected"
        if status >= 500 or "INTERNAL_SERVER_ERROR" in self.graphql_errors:
            return "error"
        if status >= 400 or self.graphql_errors:
            return "refused"
        return "user_error" if self.user_errors else "ok"


def observation_of(scope: Scope) -> Observation:
    """The observation of the request ``scope`` belongs to (a blank one outside ``AccessLog``)."""
    found = scope.get("state", {}).get("observation")
    return found if isinstance(found, Observation) else Observation()


def _operation(path: str, observation: Observation) -> str:
    if observation.operation:
        return observation.operation
    if path in HTTP_ROUTES:
        return HTTP_ROUTES[path]
    if path.startswith("/attachments/"):
        return "http:download"
    if path == "/graphql":
        # Refused before any operation was known (its error codes say why); the GraphiQL page
        # labels itself ``http:graphiql``.
        return "http:graphql"
    if path.startswith("/graphiql/"):
        return GRAPHIQL
    return "http:other"


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        observation = Observation()
        scope.setdefault("state", {})["observation"] = observation
        started = time.perf_counter()
        status: int | None = None

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if status is None:  # nothing was answered: the client left, or we failed
                status = CLIENT_CLOSED if observation.disconnected else 500
            self._record(scope, observation, status, time.perf_counter() - started)

    @staticmethod
    def _record(scope: Scope, observation: Observation, status: int, seconds: float) -> None:
        operation = _operation(scope["path"], observation)
        outcome = observation.outcome(status)
        metrics.REQUESTS.labels(operation, outcome).inc()
        metrics.LATENCY.labels(operation).observe(seconds)
        for code in observation.graphql_errors:
            metrics.GRAPHQL_ERRORS.labels(code).inc()
        for code in observation.user_errors:
            metrics.USER_ERRORS.labels(code).inc()
        if observation.upload_bytes:
            metrics.UPLOAD_BYTES.inc(observation.upload_bytes)
        logger.info(
            "request",
            extra={
                "request_id": scope.get("state", {}).get("request_id"),
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "operation": operation,
                "viewer": observation.viewer,
                "role": observation.role,
                "duration_ms": round(seconds * 1000, 2),
                "outcome": outcome,
                "errors": observation.graphql_errors + observation.user_errors or None,
            },
        )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's extra fields."""

    STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": os.getpid(),
        }
        entry.update(
            (key, value)
            for key, value in record.__dict__.items()
            if key not in self.STANDARD and value is not None
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


JsonFormatter.converter = time.gmtime


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """Logging for ``xhsz serve``: JSON lines on stderr for our loggers and uvicorn's."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": handler},
        "loggers": {
            "xhsz": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # Strawberry's WebSocket handler logs a subscription task's unexpected exception.
            "strawberry": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }
