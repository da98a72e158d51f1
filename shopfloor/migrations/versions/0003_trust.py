"""Records you can trust: cancelled activities, corrected reception lines, ids SQLite never reuses

Activities gain who cancelled them, when and why (an activity with effects outside itself is
cancelled, its effects reversed, never deleted). On SQLite, the tables whose rows the suite
deletes and whose ids appear in links are rebuilt with AUTOINCREMENT, so a deleted id is never
handed to a new row (PostgreSQL sequences never reuse one already).

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import shopfloor.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# The tables whose rows are deleted (directly or with the activity, evidence or sheet they
# belong to) and that have an id of their own.
AUTOINCREMENT_TABLES = (
    'core_activity', 'core_attachment', 'core_evidence', 'core_evidence_event', 'core_review',
    'improvement_action', 'improvement_cause', 'improvement_cause_vote', 'improvement_standard_step',
    'improvement_why', 'maint_work_order', 'qse_audit_question', 'qse_finding', 'qse_nc_lot', 'qse_planning_task',
    'qse_regulatory_review_item', 'stock_count_line', 'stock_pick_line', 'stock_reception_anomaly',
    'stock_reception_line', 'stock_round_line', 'stock_shipment_line', 'stock_shipment_pick',
    'stock_slotting_line',
)

CANCEL_FK = 'fk_core_activity_cancelled_by_id_core_user'
LINE_FK = 'fk_stock_reception_line_corrected_by_id_core_user'


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _rebuild_kwargs(autoincrement: bool) -> dict:
    if not _sqlite():
        return {}
    return {'recreate': 'always', 'table_kwargs': {'sqlite_autoincrement': autoincrement}}


def _check_foreign_keys_off() -> None:
    """Rebuilding drops each table: with foreign keys enforced, SQLite would first delete its rows
    and cascade to every child. env.py turns enforcement off on the migration connection."""
    if op.get_bind().exec_driver_sql('PRAGMA foreign_keys').scalar():
        raise RuntimeError('PRAGMA foreign_keys must be OFF while SQLite tables are rebuilt.')


def _check_foreign_keys_hold() -> None:
    broken = op.get_bind().exec_driver_sql('PRAGMA foreign_key_check').fetchall()
    if broken:
        raise RuntimeError(f'Foreign keys broken by the rebuild: {broken[:5]}')


def upgrade() -> None:
    if _sqlite():
        _check_foreign_keys_off()
    with op.batch_alter_table('core_activity', schema=None, **_rebuild_kwargs(True)) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', shopfloor.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f(CANCEL_FK), 'core_user', ['cancelled_by_id'], ['id'])
    # a reception line corrected before put-away: who, when, why, and the quantity first received;
    # corrected down to nothing (received by mistake), it keeps its row at 0
    with op.batch_alter_table('stock_reception_line', schema=None, **_rebuild_kwargs(True)) as batch_op:
        batch_op.add_column(sa.Column('received_qty', sa.Numeric(precision=14, scale=3), nullable=True))
        batch_op.add_column(sa.Column('corrected_at', shopfloor.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('corrected_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('correction_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f(LINE_FK), 'core_user', ['corrected_by_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_stock_reception_line_qty_positive'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_stock_reception_line_qty_not_negative'), 'qty >= 0')
    if _sqlite():
        for table in AUTOINCREMENT_TABLES:
            if table in ('core_activity', 'stock_reception_line'):
                continue
            with op.batch_alter_table(table, schema=None, **_rebuild_kwargs(True)):
                pass
        _check_foreign_keys_hold()


def downgrade() -> None:
    if _sqlite():
        _check_foreign_keys_off()
        for table in AUTOINCREMENT_TABLES:
            if table in ('core_activity', 'stock_reception_line'):
                continue
            with op.batch_alter_table(table, schema=None, **_rebuild_kwargs(False)):
                pass
    with op.batch_alter_table('stock_reception_line', schema=None, **_rebuild_kwargs(False)) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_stock_reception_line_qty_not_negative'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_stock_reception_line_qty_positive'), 'qty > 0')
        batch_op.drop_constraint(batch_op.f(LINE_FK), type_='foreignkey')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('corrected_by_id')
        batch_op.drop_column('corrected_at')
        batch_op.drop_column('received_qty')
    with op.batch_alter_table('core_activity', schema=None, **_rebuild_kwargs(False)) as batch_op:
        batch_op.drop_constraint(batch_op.f(CANCEL_FK), type_='foreignkey')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_by_id')
        batch_op.drop_column('cancelled_at')
    if _sqlite():
        _check_foreign_keys_hold()
