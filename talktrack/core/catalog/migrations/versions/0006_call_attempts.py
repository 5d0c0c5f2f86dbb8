"""call attempts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 07:00:00

Each try at processing a call's recording is kept (attempt number, file, status, reason), so a
failed re-upload no longer replaces a call's good transcript and an operator sees the history.
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'call_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('audio_path', sa.Text(), nullable=True),
        sa.Column('content_hash', sa.String(length=64), nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_attempts_call_id_calls'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_call_attempts')),
        sa.UniqueConstraint('call_id', 'attempt', name=op.f('uq_call_attempts_call_id_attempt')),
    )
    with op.batch_alter_table('call_attempts') as batch_op:
        batch_op.create_index(batch_op.f('ix_call_attempts_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_attempts_content_hash'), ['content_hash'], unique=False)


def downgrade() -> None:
    op.drop_table('call_attempts')
