"""issued quotes and stage-gate checks

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 18:30:00

Watermarked quotes/proposals (their id, deal, customer, version, the hashes and page fingerprints of
what was issued) and the gate check of each stage change (verified, unverified or refused, and what
was missing).
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'issued_quotes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('quote_id', sa.String(length=32), nullable=False),
        sa.Column('deal_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=300), nullable=True),
        sa.Column('source_sha256', sa.String(length=64), nullable=False),
        sa.Column('stamped_sha256', sa.String(length=64), nullable=False),
        sa.Column('page_count', sa.Integer(), nullable=False),
        sa.Column('fingerprints', sa.JSON(), nullable=False),
        sa.Column('issued_by', sa.String(length=200), nullable=True),
        sa.Column('issued_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_issued_quotes_customer_id_customers')),
        sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_issued_quotes_deal_id_deals'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_quotes')),
        sa.UniqueConstraint('deal_id', 'version', name=op.f('uq_issued_quotes_deal_id_version')),
        sa.UniqueConstraint('quote_id', name=op.f('uq_issued_quotes_quote_id')),
    )
    with op.batch_alter_table('issued_quotes') as batch_op:
        batch_op.create_index(batch_op.f('ix_issued_quotes_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_quotes_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_quotes_stamped_sha256'), ['stamped_sha256'], unique=False)
    op.create_table(
        'stage_gate_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('deal_id', sa.Integer(), nullable=False),
        sa.Column('stage_event_id', sa.Integer(), nullable=True),
        sa.Column('from_stage', sa.String(length=32), nullable=True),
        sa.Column('to_stage', sa.String(length=32), nullable=False),
        sa.Column('entered_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('missing', sa.JSON(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_stage_gate_checks_deal_id_deals'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['stage_event_id'], ['stage_events.id'],
                                name=op.f('fk_stage_gate_checks_stage_event_id_stage_events'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_gate_checks')),
        sa.UniqueConstraint('deal_id', 'to_stage', 'entered_at',
                            name=op.f('uq_stage_gate_checks_deal_id_to_stage_entered_at')),
    )
    with op.batch_alter_table('stage_gate_checks') as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_gate_checks_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stage_gate_checks_status'), ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('stage_gate_checks')
    op.drop_table('issued_quotes')
