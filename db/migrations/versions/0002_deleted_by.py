"""Record who deleted a request.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("coordinations") as batch:
        batch.add_column(
            sa.Column(
                "deleted_by_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                sa.ForeignKey("users.id", name=op.f("fk_coordinations_deleted_by_id_users")),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("coordinations") as batch:
        batch.drop_column("deleted_by_id")
