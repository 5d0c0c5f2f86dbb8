"""call feature rows

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 18:20:00

One precomputed row of conversation features per call, stamped with the call version it was
built from, so that scoring a never-seen deal reads rows instead of every utterance.
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'call_feature_rows',
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=64), nullable=True),
        sa.Column('moments_model', sa.String(length=64), nullable=True),
        sa.Column('call_updated_at', sa.DateTime(), nullable=True),
        sa.Column('features', sa.JSON(), nullable=True),
        sa.Column('answers', sa.JSON(), nullable=True),
        sa.Column('built_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_feature_rows_call_id_calls'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('call_id', name=op.f('pk_call_feature_rows')),
    )


def downgrade() -> None:
    op.drop_table('call_feature_rows')
