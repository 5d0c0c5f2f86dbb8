"""scale indexes: the columns the call list filters, the dashboard and scoring read by

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 21:40:00

At 100k calls a filter or a MAX() on an unindexed column reads the whole table (issue 20):
the call list by stage or language, "now" for scoring (the newest stage event, call start and
close), the stage clocks' events up to a date.
"""

from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

INDEXES = (
    ('calls', 'started_at'), ('calls', 'stage'), ('calls', 'language'),
    ('deals', 'closed_at'), ('stage_events', 'entered_at'),
)


def upgrade() -> None:
    for table, column in INDEXES:
        op.create_index(op.f(f'ix_{table}_{column}'), table, [column])


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        op.drop_index(op.f(f'ix_{table}_{column}'), table_name=table)
