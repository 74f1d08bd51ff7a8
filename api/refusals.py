"""HTTP refusals in the client's language: ``Refused`` (raised before any GraphQL runs), the JSON
body every refusal on ``/graphql`` has, and the ``Content-Language`` every response that carries a
message says it is written in. The texts are in ``schema.refusals``."""

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Scope

from schema.messages import Language, Text, pick
from schema.refusals import METHOD_NOT_ALLOWED, NOT_FOUND, write

STARLETTE_REFUSALS = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED}

CONTENT_LANGUAGE = "Content-Language"


class Refused(Exception):
    """A request refused at the HTTP level, before any GraphQL ran."""

    def __init__(
        self,
        status: int,
        text: Text,
        params: Mapping[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(text[1])
        self.status = status
        self.text = text
        self.params = dict(params or {})
        self.headers = headers or {}
        self.code = code  # else the HTTP status's

    def message(self, language: Language) -> str:
        return write(self.text, language, self.params)


def language_of(headers: Headers | Mapping[str, str]) -> Language:
    """The language a request prefers (``Accept-Language``, q-values honoured); Chinese else."""
    return Language.from_accept_language(headers.get("accept-language"))


def scope_language(scope: Scope) -> Language:
    return language_of(Headers(scope=scope))


def content_language(language: Language) -> dict[str, str]:
    return {CONTENT_LANGUAGE: language.tag}


def error_body(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    """``{"errors": [{"message", "extensions": {"code", …}}]}``, as every ``/graphql`` refusal."""
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


async def http_exception(request: Request, error: Exception) -> Response:
    """Starlette's own refusals (no such route 404, a route's other methods 405) in plain text,
    in the client's language, as Starlette writes them otherwise in English."""
    assert isinstance(error, HTTPException)
    language = language_of(request.headers)
    text = STARLETTE_REFUSALS.get(error.status_code)
    message = pick(text, language) if text else error.detail
    headers = {**(error.headers or {}), **content_language(language)}
    return PlainTextResponse(message, error.status_code, headers=headers)
