"""Schemathesis fuzzes every query and mutation of the running app, in its GraphQL mode.

A real uvicorn server on the test run's own (throwaway) database, a bearer token of a fresh
enterprise user, a bounded number of examples per operation. The check is ``not_a_server_error``:
no 5xx, and no GraphQL error that is not about the request itself (business refusals come back in
a payload's ``errors``; malformed requests as validation errors or ``BAD_USER_INPUT``).
"""

from collections.abc import Iterator

import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from config.settings import Settings
from schema import build_schema
from tests.servers import uvicorn_server
from tests.support import Factory

EXAMPLES = 50

# A JSON request cannot carry a file: whatever it sends for an Upload must be refused cleanly.
schemathesis.graphql.scalar(
    "Upload", st.text(max_size=20).map(lambda text: graphql.StringValueNode(value=text))
)
SDL = build_schema()._schema
SESSION_ENDING = {"Mutation.logout", "Mutation.logoutEverywhere"}
"""Not fuzzed: they take no arguments, and each call revokes the token every later example needs
(tests/e2e/test_sessions.py covers them)."""
OPERATIONS = [
    f"{root.name}.{field}"
    for root in (SDL.query_type, SDL.mutation_type)
    if root
    for field in root.fields
    if f"{root.name}.{field}" not in SESSION_ENDING
]


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    environment = {
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
    }
    with uvicorn_server(environment) as url:
        yield url


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_fuzzing_finds_no_server_error(
    base_url: str, factory: Factory, operation: str
) -> None:
    alice = await factory.enterprise_user()
    headers = {"Authorization": f"Bearer {alice.token}"}
    schema = schemathesis.graphql.from_url(f"{base_url}/graphql", headers=headers)
    type_name, field = operation.split(".")
    target = schema[type_name][field]

    @given(case=target.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    fuzz()
