"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:

    op.create_table('certificates',
    sa.Column('certificate_no', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.Enum('CUSTOMS_CO', 'CCPIT_CO', 'APPROVED_EXPORTER_DECLARATION', 'RULING_DECLARATION', name='certificatekind', native_enum=False, length=32), nullable=False),
    sa.Column('agreement_code', sa.String(length=4), nullable=False),
    sa.Column('enterprise_uscc', sa.String(length=18), nullable=False),
    sa.Column('import_country_code', sa.String(length=3), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('certificate_no', name=op.f('pk_certificates'))
    )
    op.create_index(op.f('ix_certificates_enterprise_uscc'), 'certificates', ['enterprise_uscc'], unique=False)

    op.create_table('coordination_counters',
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('last_value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_coordination_counters'))
    )
    op.create_table('enterprises',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises')),
    sa.UniqueConstraint('uscc', name=op.f('uq_enterprises_uscc'))
    )
    op.create_table('login_failures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    op.create_index('ix_login_failures_client_at', 'login_failures', ['client', 'at'], unique=False)
    op.create_index('ix_login_failures_username_at', 'login_failures', ['username', 'at'], unique=False)

    op.create_table('certificate_export_declarations',
    sa.Column('certificate_no', sa.String(length=40), nullable=False),
    sa.Column('export_declaration_no', sa.String(length=18), nullable=False),
    sa.ForeignKeyConstraint(['certificate_no'], ['certificates.certificate_no'], name=op.f('fk_certificate_export_declarations_certificate_no_certificates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('certificate_no', 'export_declaration_no', name=op.f('pk_certificate_export_declarations'))
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('ENTERPRISE', 'CUSTOMS', name='role', native_enum=False, length=32), nullable=False),
    sa.Column('enterprise_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('token_version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_users_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('coordinations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('coordination_no', sa.String(length=18), nullable=False),
    sa.Column('type', sa.Enum('CUSTOMS_CERTIFICATE', 'APPROVED_EXPORTER_DECLARATION', 'RULING_DECLARATION', 'CCPIT_CERTIFICATE', name='coordinationtype', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('DRAFT', 'PENDING', 'WITHDRAWN', 'RECEIPT_FAILED', 'RETURNED', 'ACCEPTED', 'CONCLUDED', name='status', native_enum=False, length=32), nullable=False),
    sa.Column('enterprise_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('certificate_no', sa.String(length=40), nullable=False),
    sa.Column('agreement_code', sa.String(length=4), nullable=False),
    sa.Column('export_declaration_no', sa.String(length=18), nullable=False),
    sa.Column('import_declaration_no', sa.String(length=64), nullable=False),
    sa.Column('import_country_code', sa.String(length=3), nullable=True),
    sa.Column('import_port_code', sa.String(length=5), nullable=True),
    sa.Column('approved_exporter_no', sa.String(length=40), nullable=True),
    sa.Column('ruling_no', sa.String(length=40), nullable=True),
    sa.Column('contact_name', sa.String(length=50), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('customs_remark', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_coordinations_created_by_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_coordinations_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coordinations')),
    sa.UniqueConstraint('coordination_no', name=op.f('uq_coordinations_coordination_no'))
    )
    op.create_index('uq_coordinations_active_certificate_declaration', 'coordinations', ['certificate_no', 'export_declaration_no'], unique=True, sqlite_where=sa.text("status IN ('PENDING', 'ACCEPTED')"), postgresql_where=sa.text("status IN ('PENDING', 'ACCEPTED')"))

    op.create_table('attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('coordination_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('slot', sa.Enum('ORIGIN_PROOF', 'IMPORT_DECLARATION', 'OTHER_1', 'OTHER_2', name='attachmentslot', native_enum=False, length=32), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coordination_id'], ['coordinations.id'], name=op.f('fk_attachments_coordination_id_coordinations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('coordination_id', 'slot', name=op.f('uq_attachments_coordination_id')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_attachments_storage_key'))
    )
    op.create_table('status_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('coordination_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_status', sa.Enum('DRAFT', 'PENDING', 'WITHDRAWN', 'RECEIPT_FAILED', 'RETURNED', 'ACCEPTED', 'CONCLUDED', name='status', native_enum=False, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('DRAFT', 'PENDING', 'WITHDRAWN', 'RECEIPT_FAILED', 'RETURNED', 'ACCEPTED', 'CONCLUDED', name='status', native_enum=False, length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_username', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.Enum('ENTERPRISE', 'CUSTOMS', name='role', native_enum=False, length=32), nullable=False),
    sa.Column('remark', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['coordination_id'], ['coordinations.id'], name=op.f('fk_status_changes_coordination_id_coordinations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_changes'))
    )
    op.create_index(op.f('ix_status_changes_coordination_id'), 'status_changes', ['coordination_id'], unique=False)

    # ### end Alembic commands ###

def downgrade() -> None:

    op.drop_index(op.f('ix_status_changes_coordination_id'), 'status_changes')

    op.drop_table('status_changes')
    op.drop_table('attachments')
    op.drop_index('uq_coordinations_active_certificate_declaration', 'coordinations')

    op.drop_table('coordinations')
    op.drop_table('users')
    op.drop_table('certificate_export_declarations')
    op.drop_index('ix_login_failures_username_at', 'login_failures')
    op.drop_index('ix_login_failures_client_at', 'login_failures')

    op.drop_table('login_failures')
    op.drop_table('enterprises')
    op.drop_table('coordination_counters')
    op.drop_index(op.f('ix_certificates_enterprise_uscc'), 'certificates')

    op.drop_table('certificates')

