"""mentoring points: sessions, key points, the points ledger, the audit trail, HR exports

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 00:30:00

A senior rep's mentoring session on a recorded call, its timestamped annotations, the append-only
points ledger (a reversal is a new row), every transition in mentoring_events, and the monthly exports
for HR keyed by export id.
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mentoring_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('mentor_id', sa.Integer(), nullable=False),
        sa.Column('mentee_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(), nullable=True),
        sa.Column('reviewed_by', sa.String(length=200), nullable=True),
        sa.Column('review_note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_mentoring_sessions_call_id_calls')),
        sa.ForeignKeyConstraint(['mentor_id'], ['reps.id'], name=op.f('fk_mentoring_sessions_mentor_id_reps')),
        sa.ForeignKeyConstraint(['mentee_id'], ['reps.id'], name=op.f('fk_mentoring_sessions_mentee_id_reps')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_sessions')),
    )
    op.create_table(
        'mentoring_annotations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('at_s', sa.Float(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['mentoring_sessions.id'],
                                name=op.f('fk_mentoring_annotations_session_id_mentoring_sessions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_annotations')),
    )
    op.create_table(
        'mentoring_points',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('reverses_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['session_id'], ['mentoring_sessions.id'],
                                name=op.f('fk_mentoring_points_session_id_mentoring_sessions')),
        sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], name=op.f('fk_mentoring_points_rep_id_reps')),
        sa.ForeignKeyConstraint(['reverses_id'], ['mentoring_points.id'],
                                name=op.f('fk_mentoring_points_reverses_id_mentoring_points')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_points')),
        sa.UniqueConstraint('reverses_id', name=op.f('uq_mentoring_points_reverses_id')),
    )
    op.create_table(
        'mentoring_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('export_id', sa.String(length=64), nullable=True),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['mentoring_sessions.id'],
                                name=op.f('fk_mentoring_events_session_id_mentoring_sessions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_events')),
    )
    op.create_table(
        'mentoring_exports',
        sa.Column('export_id', sa.String(length=64), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('url', sa.Text(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('export_id', name=op.f('pk_mentoring_exports')),
    )
    for table, column in (('mentoring_sessions', 'call_id'), ('mentoring_sessions', 'mentor_id'),
                          ('mentoring_sessions', 'mentee_id'), ('mentoring_sessions', 'status'),
                          ('mentoring_annotations', 'session_id'), ('mentoring_points', 'session_id'),
                          ('mentoring_points', 'rep_id'), ('mentoring_points', 'month'),
                          ('mentoring_events', 'session_id'), ('mentoring_events', 'export_id'),
                          ('mentoring_exports', 'month'), ('mentoring_exports', 'status')):
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)


def downgrade() -> None:
    for table in ('mentoring_exports', 'mentoring_events', 'mentoring_points', 'mentoring_annotations',
                  'mentoring_sessions'):
        op.drop_table(table)
