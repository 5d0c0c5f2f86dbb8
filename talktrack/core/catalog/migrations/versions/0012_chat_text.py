"""chat text: chat messages read as utterances, their moments, and when each thread was analysed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:40:00

Chats and e-mails go through the same analysis as calls (issue 19 item 2): chat_utterances (one
message, or one part of a long e-mail, with the sender's role), chat_moments (objections and moves
found in them) and chat_analysis (the message count and moment model a thread was last read with).
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'chat_utterances',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('part', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['chat_conversations.id'],
                                name=op.f('fk_chat_utterances_conversation_id_chat_conversations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_id'], ['chat_messages.id'],
                                name=op.f('fk_chat_utterances_message_id_chat_messages'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_utterances')),
        sa.UniqueConstraint('conversation_id', 'seq', name=op.f('uq_chat_utterances_conversation_id_seq')),
    )
    with op.batch_alter_table('chat_utterances') as batch_op:
        batch_op.create_index('ix_chat_utterances_channel_role', ['channel', 'role'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_utterances_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_utterances_message_id'), ['message_id'], unique=False)

    op.create_table(
        'chat_moments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('utterance_id', sa.Integer(), nullable=False),
        sa.Column('sentence', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('label', sa.String(length=48), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['conversation_id'], ['chat_conversations.id'],
                                name=op.f('fk_chat_moments_conversation_id_chat_conversations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['utterance_id'], ['chat_utterances.id'],
                                name=op.f('fk_chat_moments_utterance_id_chat_utterances'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_moments')),
    )
    with op.batch_alter_table('chat_moments') as batch_op:
        batch_op.create_index('ix_chat_moments_kind_label', ['kind', 'label'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_moments_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_moments_utterance_id'), ['utterance_id'], unique=False)

    op.create_table(
        'chat_analysis',
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('message_count', sa.Integer(), nullable=False),
        sa.Column('moments_model', sa.String(length=64), nullable=False),
        sa.Column('analysed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['chat_conversations.id'],
                                name=op.f('fk_chat_analysis_conversation_id_chat_conversations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_chat_analysis')),
    )


def downgrade() -> None:
    op.drop_table('chat_analysis')
    with op.batch_alter_table('chat_moments') as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_moments_utterance_id'))
        batch_op.drop_index(batch_op.f('ix_chat_moments_conversation_id'))
        batch_op.drop_index('ix_chat_moments_kind_label')
    op.drop_table('chat_moments')
    with op.batch_alter_table('chat_utterances') as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_utterances_message_id'))
        batch_op.drop_index(batch_op.f('ix_chat_utterances_conversation_id'))
        batch_op.drop_index('ix_chat_utterances_channel_role')
    op.drop_table('chat_utterances')
