"""The migrations create exactly what the models describe, on the backend under test."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from db.database import Database
from db.models import Base


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_database_matches_the_models(database: Database) -> None:
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


@pytest.mark.postgres_only
async def test_codes_searched_by_prefix_compare_bytes_on_postgresql(database: Database) -> None:
    # Alembic does not compare collations, so this pins what the models and 0002 declare.
    async with database.engine.connect() as connection:
        found = await connection.execute(
            text(
                "SELECT column_name, collation_name FROM information_schema.columns "
                "WHERE table_name = 'coordinations' AND collation_name IS NOT NULL"
            )
        )
        collations = dict(found.all())
    assert collations == {
        "coordination_no": "C",
        "certificate_no": "C",
        "export_declaration_no": "C",
    }
