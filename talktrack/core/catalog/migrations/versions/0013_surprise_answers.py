"""surprise answers: reps' answers to the daily brief's question

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 21:45:00

One row per answer to "which customer surprised you today?" (API, workbench, voice note or import).
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'surprise_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.Column('answered_on', sa.Date(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_surprise_answers_customer_id_customers')),
        sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], name=op.f('fk_surprise_answers_rep_id_reps')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_surprise_answers')),
    )
    for column in ('rep_id', 'answered_on'):
        with op.batch_alter_table('surprise_answers') as batch_op:
            batch_op.create_index(batch_op.f(f'ix_surprise_answers_{column}'), [column], unique=False)


def downgrade() -> None:
    op.drop_table('surprise_answers')
