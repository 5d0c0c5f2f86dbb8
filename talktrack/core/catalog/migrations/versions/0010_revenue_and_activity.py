"""revenue and activity: product lines, contracts, collections, marketing spend, leads, visits, field entries

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 18:40:00

What the management figures (healthy contract value, renewal vs new, concentration, LTV/CAC,
data credibility) are computed from, imported from the CRM by its ids.
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column('id', sa.Integer(), nullable=False)


def _external_id() -> sa.Column:
    return sa.Column('external_id', sa.String(length=64), nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        'product_lines', _id(), _external_id(),
        sa.Column('name_en', sa.String(length=200), nullable=True),
        sa.Column('name_zh', sa.String(length=200), nullable=True),
        sa.Column('gross_margin', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_product_lines')),
        sa.UniqueConstraint('external_id', name=op.f('uq_product_lines_external_id')),
    )
    op.create_table(
        'contracts', _id(), _external_id(),
        sa.Column('deal_id', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Float(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('discount_pct', sa.Float(), nullable=False),
        sa.Column('payment_terms_days', sa.Integer(), nullable=False),
        sa.Column('contract_type', sa.String(length=16), nullable=False),
        sa.Column('product_line_id', sa.Integer(), nullable=True),
        sa.Column('renewal_of', sa.String(length=64), nullable=True),
        sa.Column('signed_at', sa.Date(), nullable=False),
        _fk('contracts', 'customer_id', 'customers'), _fk('contracts', 'deal_id', 'deals'),
        _fk('contracts', 'product_line_id', 'product_lines'), _fk('contracts', 'rep_id', 'reps'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
        sa.UniqueConstraint('external_id', name=op.f('uq_contracts_external_id')),
    )
    op.create_table(
        'collections', _id(), _external_id(),
        sa.Column('contract_id', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.Date(), nullable=False),
        sa.Column('amount', sa.Float(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        _fk('collections', 'contract_id', 'contracts', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_collections')),
        sa.UniqueConstraint('external_id', name=op.f('uq_collections_external_id')),
    )
    op.create_table(
        'marketing_spend', _id(),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('amount', sa.Float(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_marketing_spend')),
        sa.UniqueConstraint('source', 'month', 'currency', name=op.f('uq_marketing_spend_source_month_currency')),
    )
    op.create_table(
        'leads', _id(), _external_id(),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('deal_id', sa.Integer(), nullable=True),
        _fk('leads', 'customer_id', 'customers'), _fk('leads', 'deal_id', 'deals'), _fk('leads', 'rep_id', 'reps'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_leads')),
        sa.UniqueConstraint('external_id', name=op.f('uq_leads_external_id')),
    )
    op.create_table(
        'visits', _id(), _external_id(),
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('visited_on', sa.Date(), nullable=False),
        sa.Column('logged', sa.String(length=8), nullable=False),
        _fk('visits', 'customer_id', 'customers'), _fk('visits', 'rep_id', 'reps'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
        sa.UniqueConstraint('external_id', name=op.f('uq_visits_external_id')),
    )
    op.create_table(
        'field_entries', _id(),
        sa.Column('entity', sa.String(length=16), nullable=False),
        sa.Column('record_external_id', sa.String(length=64), nullable=False),
        sa.Column('field', sa.String(length=64), nullable=False),
        sa.Column('entry', sa.String(length=8), nullable=False),
        sa.Column('captured_from', sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_field_entries')),
        sa.UniqueConstraint('entity', 'record_external_id', 'field',
                            name=op.f('uq_field_entries_entity_record_external_id_field')),
    )
    for table, column in (('contracts', 'deal_id'), ('contracts', 'customer_id'), ('contracts', 'rep_id'),
                          ('contracts', 'product_line_id'), ('contracts', 'signed_at'),
                          ('collections', 'contract_id'), ('leads', 'source'), ('leads', 'rep_id'),
                          ('visits', 'rep_id'), ('visits', 'visited_on')):
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)


def downgrade() -> None:
    for table in ('field_entries', 'visits', 'leads', 'marketing_spend', 'collections', 'contracts', 'product_lines'):
        op.drop_table(table)
