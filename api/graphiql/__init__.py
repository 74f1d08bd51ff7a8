"""GraphiQL served by the app itself, from packages pinned in ``package.json`` and installed by
``scripts/setup`` (``npm ci``), so the IDE works on an intranet with no CDN.

Only the files named in ``ASSETS`` are served, from ``node_modules`` or this folder.
"""

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from api.refusals import content_language
from schema.messages import Language, pick
from schema.refusals import GRAPHIQL_MISSING

HERE = Path(__file__).parent
MODULES = HERE / "node_modules"
ASSETS_PATH = "/graphiql"
ASSETS = {
    "react.production.min.js": MODULES / "react/umd/react.production.min.js",
    "react-dom.production.min.js": MODULES / "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": MODULES / "graphiql/graphiql.min.js",
    "graphiql.min.css": MODULES / "graphiql/graphiql.min.css",
    "explorer.umd.js": MODULES / "@graphiql/plugin-explorer/dist/index.umd.js",
    "explorer.css": MODULES / "@graphiql/plugin-explorer/dist/style.css",
    "page.js": HERE / "page.js",
    "page.css": HERE / "page.css",
}
MISSING = """<!doctype html><meta charset="utf-8"><title>GraphiQL</title><p>{message}</p>"""


def installed() -> bool:
    return all(path.is_file() for path in ASSETS.values())


def page(language: Language) -> HTMLResponse:
    """The IDE's HTML page (503 with instructions when the assets are not installed)."""
    if not installed():
        message = MISSING.format(message=pick(GRAPHIQL_MISSING, language))
        return HTMLResponse(message, status_code=503, headers=content_language(language))
    html = (HERE / "index.html").read_text(encoding="utf-8").replace("{{assets}}", ASSETS_PATH)
    return HTMLResponse(html)


async def asset(request: Request) -> Response:
    path = ASSETS.get(request.path_params["name"])
    if path is None or not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


routes = [Route(f"{ASSETS_PATH}/{{name}}", asset, methods=["GET"])]
