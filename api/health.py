"""``/healthz`` (the process answers) and ``/readyz`` (it can serve: database and storage).

With a replica, ``/readyz`` also says whether reads may use it (``"replica": "ok"``) or go to the
primary (``"degraded"``: down, not a standby, or lagging): the service is ready either way."""

import asyncio
import os
import secrets
from pathlib import Path

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from db.database import Database

CHECK_TIMEOUT_SECONDS = 2.0


async def healthz(_request: Request) -> Response:
    return PlainTextResponse("ok")


async def database_answers(database: Database) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready", never a 500
        return False
    return True


def storage_writable(directory: Path) -> bool:
    probe = directory / f".readyz-{secrets.token_hex(8)}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        os.unlink(probe)
    except OSError:
        return False
    return True


async def readyz(request: Request) -> Response:
    checks = {
        "database": await database_answers(request.app.state.database),
        "storage": await asyncio.to_thread(
            storage_writable, request.app.state.settings.storage_dir
        ),
    }
    ready = all(checks.values())
    body = {
        "status": "ready" if ready else "unavailable",
        **{k: "ok" if v else "failing" for k, v in checks.items()},
    }
    replica = request.app.state.database.replica
    if replica is not None:
        await replica.refresh(wait=True)
        body["replica"] = "ok" if replica.usable else "degraded"
    return JSONResponse(body, status_code=200 if ready else 503)
