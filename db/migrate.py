"""Apply the Alembic migrations shipped in ``db/migrations`` (``xhsz migrate``, ``xhsz serve``)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

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
    async with database.write_engine.begin() as connection:
        if not database.is_sqlite:
            # Serialise concurrent migrators (several workers starting at once).
            await connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7300112)")
        await connection.run_sync(_upgrade, url, revision)


def _upgrade(connection: Connection, url: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
