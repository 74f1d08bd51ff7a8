"""indexes for the coordination list

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

One index per (scope, status, sort key) so that every list query is a union of index range scans
(db/listing.py), two for agreements (some are rare), two for the prefix searches, and byte-order
collation on PostgreSQL for the codes searched by prefix (a prefix is then exactly an index range,
whatever the database's locale).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED = sa.text("deleted_at IS NULL")

LIST_INDEXES = {
    'ix_coordinations_list_enterprise_submitted': ['enterprise_id', 'status', 'submitted_at', 'id'],
    'ix_coordinations_list_enterprise_created': ['enterprise_id', 'status', 'created_at', 'id'],
    'ix_coordinations_list_enterprise_number': ['enterprise_id', 'status', 'coordination_no', 'id'],
    'ix_coordinations_list_submitted': ['status', 'submitted_at', 'id'],
    'ix_coordinations_list_created': ['status', 'created_at', 'id'],
    'ix_coordinations_list_number': ['status', 'coordination_no', 'id'],
    'ix_coordinations_list_enterprise_agreement': ['enterprise_id', 'status', 'agreement_code'],
    'ix_coordinations_list_agreement': ['status', 'agreement_code'],
}
SEARCH_INDEXES = {
    'ix_coordinations_certificate_no': ['certificate_no'],
    'ix_coordinations_export_declaration_no': ['export_declaration_no'],
}
CODES = {'coordination_no': 18, 'certificate_no': 40, 'export_declaration_no': 18}


def upgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        for column, length in CODES.items():
            op.alter_column(
                'coordinations', column,
                type_=sa.String(length, collation='C'), existing_type=sa.String(length),
                existing_nullable=False,
            )
    for name, columns in LIST_INDEXES.items():
        op.create_index(
            name, 'coordinations', columns, unique=False,
            sqlite_where=LISTED, postgresql_where=LISTED,
        )
    for name, columns in SEARCH_INDEXES.items():
        op.create_index(name, 'coordinations', columns, unique=False)


def downgrade() -> None:
    for name in [*SEARCH_INDEXES, *LIST_INDEXES]:
        op.drop_index(name, 'coordinations')
    if op.get_context().dialect.name == 'postgresql':
        for column, length in CODES.items():
            op.alter_column(
                'coordinations', column,
                type_=sa.String(length), existing_type=sa.String(length, collation='C'),
                existing_nullable=False,
            )
