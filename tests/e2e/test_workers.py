"""``xhsz serve --workers 2`` on PostgreSQL: nothing depends on process-local state.

500 requests are created concurrently through both workers, then submitted concurrently: every
coordination number is unique, every version and history consistent, no 5xx, both workers served,
and a scrape of /metrics counts the requests of both."""

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from config.settings import Settings
from db.models import Coordination, StatusChange
from tests.servers import xhsz_serve
from tests.support import (
    SAVE,
    SUBMIT,
    Actor,
    Factory,
    attach,
    graphql_data,
    register_certificate,
    valid_input,
)

REQUESTS = 500
IN_FLIGHT = 64
NUMBER = re.compile(r"XT\d{8}(\d{8})")

pytestmark = pytest.mark.postgres_only


async def test_two_workers_serve_500_concurrent_creates_and_submits(
    factory: Factory, settings: Settings, tmp_path: Path
) -> None:
    actors = [await factory.enterprise_user() for _ in range(10)]
    forms = []
    for index in range(REQUESTS):
        actor = actors[index % len(actors)]
        values = valid_input("CUSTOMS_CERTIFICATE", certificateNo=f"KW{index:08d}")
        await register_certificate(factory.database, actor, values)
        forms.append((actor, values))
    environment = {
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    statuses: list[int] = []
    # At most IN_FLIGHT requests at once, so that a request's timeout runs only while it is sent
    # (gathered all at once, the last ones waited for the client's pool under its 120 s timeout).
    in_flight = asyncio.Semaphore(IN_FLIGHT)
    with xhsz_serve(environment, workers=2) as server:
        limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as http:

            async def call(actor: Actor, query: str, variables: dict[str, object]) -> Any:
                async with in_flight:
                    response = await http.post(
                        "/graphql",
                        json={"query": query, "variables": variables},
                        headers={"Authorization": f"Bearer {actor.token}"},
                    )
                statuses.append(response.status_code)
                return graphql_data(response)

            created = await asyncio.gather(
                *(call(actor, SAVE, {"input": values}) for actor, values in forms)
            )
            saved = [data["saveCoordination"] for data in created]
            assert all(payload["errors"] == [] for payload in saved)
            ids = [payload["coordination"]["id"] for payload in saved]
            for coordination_id in ids:
                await attach(factory.database, coordination_id)

            submitted = await asyncio.gather(
                *(
                    call(actor, SUBMIT, {"id": coordination_id, "v": 1})
                    for (actor, _), coordination_id in zip(forms, ids, strict=True)
                )
            )
            scraped = (await http.get("/metrics")).text
        log = server.log_text()

    assert all(status < 500 for status in statuses)
    assert all(data["submitCoordination"]["errors"] == [] for data in submitted)
    numbers = [payload["coordination"]["coordinationNo"] for payload in saved]
    assert len(set(numbers)) == REQUESTS
    sequences = sorted(int(NUMBER.fullmatch(n).group(1)) for n in numbers)  # type: ignore[union-attr]
    assert sequences == list(range(sequences[0], sequences[0] + REQUESTS))

    async with factory.database.reader() as session:
        versions = (
            await session.execute(
                select(Coordination.status, Coordination.version, func.count()).group_by(
                    Coordination.status, Coordination.version
                )
            )
        ).all()
        history = await session.scalar(select(func.count()).select_from(StatusChange))
    assert [(status.value, version, count) for status, version, count in versions] == [
        ("PENDING", 2, REQUESTS)
    ]
    assert history == 2 * REQUESTS

    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    served_by = {line["pid"] for line in lines if line.get("logger") == "xhsz.access"}
    assert len(served_by) == 2, "both workers answered requests"
    total = sum(
        float(value)
        for value in re.findall(r"^xhsz_requests_total\{[^}]*\} (\S+)$", scraped, re.MULTILINE)
    )
    assert total >= 2 * REQUESTS, "one scrape reports both workers' requests"
