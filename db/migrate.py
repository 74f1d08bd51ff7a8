"""Apply the Alembic migrations shipped in ``db/migrations`` (``xhsz migrate``, ``xhsz serve``)."""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the database to ``revision``; several processes may run it at once on PostgreSQL."""
    url = database.url.render_as_string(hide_password=False)
    async with database.write_engine.connect() as connection:
        if database.is_sqlite:
            # SQLite changes a table by rebuilding it (Alembic's batch mode), which foreign keys
            # would refuse; they can only be switched off outside a transaction.
            await _sqlite_foreign_keys(connection, on=False)
        try:
            async with connection.begin():
                if not database.is_sqlite:
                    # Serialise concurrent migrators (several workers starting at once).
                    await connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7300112)")
                await connection.run_sync(_upgrade, url, revision)
                if database.is_sqlite:
                    violations = (
                        await connection.exec_driver_sql("PRAGMA foreign_key_check")
                    ).all()
                    if violations:
                        raise RuntimeError(f"migration broke foreign keys: {violations[:5]}")
        finally:
            if database.is_sqlite:
                await _sqlite_foreign_keys(connection, on=True)


async def _sqlite_foreign_keys(connection: AsyncConnection, *, on: bool) -> None:
    raw: Any = (await connection.get_raw_connection()).driver_connection
    await raw.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def _upgrade(connection: Connection, url: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
