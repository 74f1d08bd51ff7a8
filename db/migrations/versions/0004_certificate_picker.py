"""an index for the certificate picker

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

``certificates(search, first, after)`` lists an enterprise's certificates newest first by keyset
(issue date, then number): one index range read backwards. The index starts with the enterprise,
so it also serves every lookup the single-column index on the enterprise served, which it
replaces.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_certificates_enterprise_issued',
        'certificates',
        ['enterprise_uscc', 'issued_on', 'certificate_no'],
        unique=False,
    )
    op.drop_index('ix_certificates_enterprise_uscc', table_name='certificates')


def downgrade() -> None:
    op.create_index(
        'ix_certificates_enterprise_uscc', 'certificates', ['enterprise_uscc'], unique=False
    )
    op.drop_index('ix_certificates_enterprise_issued', table_name='certificates')
