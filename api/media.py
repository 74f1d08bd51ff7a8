"""Media types of GraphQL over HTTP: reading ``Content-Type`` and choosing the response's."""

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
MULTIPART = "multipart/form-data"


def media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """``text/plain; charset=UTF-8`` → (``text/plain``, {``charset``: ``utf-8``})."""
    kind, *parameters = (header or "").split(";")
    found = {}
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        found[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), found


def preferred_response_type(accept: str | None) -> str:
    """``application/graphql-response+json`` when the client asks for it at least as strongly as
    for ``application/json``; ``application/json`` otherwise (also for ``*/*`` and no header)."""
    quality = {JSON: 0.0, GRAPHQL_RESPONSE_JSON: 0.0}
    for item in (accept or "").split(","):
        kind, parameters = media_type(item)
        if kind in quality:
            try:
                quality[kind] = max(quality[kind], float(parameters.get("q", "1")))
            except ValueError:
                continue
    if quality[GRAPHQL_RESPONSE_JSON] > 0 and quality[GRAPHQL_RESPONSE_JSON] >= quality[JSON]:
        return GRAPHQL_RESPONSE_JSON
    return JSON
