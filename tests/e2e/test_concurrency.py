"""Numbering and saves under concurrency, within one process and across processes."""

import asyncio
import re

import httpx

from config.settings import Settings
from tests.servers import uvicorn_server
from tests.support import SAVE, Api, Factory, graphql_data, valid_input

NUMBER = re.compile(r"XT\d{8}(\d{8})")


def _sequences(numbers: list[str]) -> list[int]:
    return sorted(int(NUMBER.fullmatch(n).group(1)) for n in numbers)  # type: ignore[union-attr]


async def test_concurrent_saves_get_unique_consecutive_numbers(api: Api, factory: Factory) -> None:
    actors = [await factory.enterprise_user() for _ in range(5)]

    async def create(index: int) -> str:
        saved = await api.create(actors[index % 5], valid_input("CCPIT_CERTIFICATE"))
        return str(saved["coordinationNo"])

    numbers = await asyncio.gather(*(create(i) for i in range(40)))
    sequences = _sequences(numbers)
    assert sequences == list(range(sequences[0], sequences[0] + 40))


async def test_saves_through_two_server_processes_get_unique_numbers(
    factory: Factory, settings: Settings
) -> None:
    actors = [await factory.enterprise_user() for _ in range(4)]
    environment = {
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
    }
    with uvicorn_server(environment) as first, uvicorn_server(environment) as second:
        async with httpx.AsyncClient(timeout=60) as http:

            async def create(index: int) -> str:
                actor = actors[index % len(actors)]
                response = await http.post(
                    f"{(first, second)[index % 2]}/graphql",
                    json={"query": SAVE, "variables": {"input": valid_input("CCPIT_CERTIFICATE")}},
                    headers={"Authorization": f"Bearer {actor.token}"},
                )
                payload = graphql_data(response)["saveCoordination"]
                assert payload["errors"] == []
                return str(payload["coordination"]["coordinationNo"])

            numbers = await asyncio.gather(*(create(i) for i in range(100)))
    sequences = _sequences(numbers)
    assert sequences == list(range(sequences[0], sequences[0] + 100))
