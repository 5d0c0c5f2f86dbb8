"""anomaly cases: the breaker's audit cases and their transitions

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 18:50:00

A fired anomaly rule opens a case (team or region, month, evidence, travel-reimbursement freeze);
every transition of a case is a row of anomaly_case_events.
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'anomaly_cases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_key', sa.String(length=64), nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('scope_key', sa.String(length=100), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('frozen_month', sa.String(length=7), nullable=False),
        sa.Column('freeze', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('evidence', sa.JSON(), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('opened_by', sa.String(length=200), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('closed_by', sa.String(length=200), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_anomaly_cases')),
        sa.UniqueConstraint('rule_key', 'scope', 'scope_key', 'month',
                            name=op.f('uq_anomaly_cases_rule_key_scope_scope_key_month')),
    )
    op.create_table(
        'anomaly_case_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['anomaly_cases.id'], name=op.f('fk_anomaly_case_events_case_id_anomaly_cases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_anomaly_case_events')),
    )
    for table, column in (('anomaly_cases', 'scope_key'), ('anomaly_cases', 'month'), ('anomaly_cases', 'status'),
                          ('anomaly_case_events', 'case_id')):
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)


def downgrade() -> None:
    for table in ('anomaly_case_events', 'anomaly_cases'):
        op.drop_table(table)
