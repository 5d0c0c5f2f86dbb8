"""job heartbeat

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 17:30:00

A running job's worker stamps ``heartbeat_at`` while it works, so any process (on any host)
can tell a job whose worker died from one still being worked on.
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs') as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs') as batch_op:
        batch_op.drop_column('heartbeat_at')
