"""The short way for a JSON POST of a document the full way validated before.

``GraphQLEndpoint`` asks this first. It answers only a request that the full way would read the
same: a POST of ``application/json`` (UTF-8) whose body is one JSON object with nothing but
``query`` (a string), ``variables`` (an object or null) and ``operationName`` (a string or null),
naming a query or mutation the schema has prepared (``schema/prepared.py``). Then it runs the same
context, execution, result processing and response the full way would, without Strawberry's HTTP
view around them. Anything else (a batch, an upload, GET, extensions such as a persisted query's
hash, JSON that only Python's parser accepts, a document not seen yet) returns None, and the full
way answers. A text is prepared only after the full way ran it, so the prepared way allows nothing
the full way refuses: in trusted-documents-only mode (``api.persisted``) only manifest texts are.
"""

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from api.media import JSON, media_type
from schema.prepared import POST_OPERATIONS

if TYPE_CHECKING:
    from api.graphql import GraphQLEndpoint

REQUEST_KEYS = frozenset({"query", "variables", "operationName"})


async def respond(endpoint: "GraphQLEndpoint", request: Request) -> Response | None:
    if request.method != "POST":
        return None
    kind, parameters = media_type(request.headers.get("content-type"))
    if kind != JSON or parameters.get("charset", "utf-8") != "utf-8":
        return None
    try:
        data: Any = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict or not data.keys() <= REQUEST_KEYS:
        return None
    query = data.get("query")
    variables = data.get("variables")
    operation_name = data.get("operationName")
    if (
        type(query) is not str
        or (variables is not None and type(variables) is not dict)
        or (operation_name is not None and type(operation_name) is not str)
    ):
        return None
    prepared = endpoint.prepared.get(query, operation_name)
    if prepared is None or prepared.operation_type not in POST_OPERATIONS:
        return None
    sub_response = await endpoint.get_sub_response(request)
    context = await endpoint.get_context(request, response=sub_response)
    result = await endpoint.run_prepared.execute(prepared, variables, context)
    response_data = await endpoint.process_result(request, result)
    return endpoint.create_response(response_data, sub_response)
