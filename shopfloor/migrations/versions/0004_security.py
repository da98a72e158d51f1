"""Security: sessions that end, demo users marked, and the audit trail

Users gain a session version (a session cookie names the version it was issued for; a logout, a
password change or reset and a deactivation bump it) and a demo flag (set by `shopfloor demo`,
which refuses to run on a database holding any other user). The audit trail keeps who did what,
when and from which address: log-ins, lock-outs, user and role changes, tokens, deactivations.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import shopfloor.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('core_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('demo', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('core_audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', shopfloor.db.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['core_user.id'], name=op.f('fk_core_audit_event_actor_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subject_id'], ['core_user.id'], name=op.f('fk_core_audit_event_subject_id_core_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_audit_event'))
    )
    with op.batch_alter_table('core_audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_audit_event_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_audit_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_audit_event_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_audit_event_subject_id'), ['subject_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('core_audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_audit_event_subject_id'))
        batch_op.drop_index(batch_op.f('ix_core_audit_event_kind'))
        batch_op.drop_index(batch_op.f('ix_core_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_core_audit_event_actor_id'))
    op.drop_table('core_audit_event')
    with op.batch_alter_table('core_user', schema=None) as batch_op:
        batch_op.drop_column('demo')
        batch_op.drop_column('session_version')
