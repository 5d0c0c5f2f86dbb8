"""chats and e-mails

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 18:10:00

Customer contacts and the addresses that identify people in chats (WeCom ids, phones, e-mails);
chat and e-mail messages, grouped into conversations per deal, with their files; the ids of
revoked messages, so that a re-import never brings one back.
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'contacts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('external_id', sa.String(length=64), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_contacts_customer_id_customers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
        sa.UniqueConstraint('external_id', name=op.f('uq_contacts_external_id')),
    )
    with op.batch_alter_table('contacts') as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_customer_id'), ['customer_id'], unique=False)

    op.create_table(
        'identities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.Column('rep_id', sa.Integer(), nullable=True),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_identities_contact_id_contacts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], name=op.f('fk_identities_rep_id_reps'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identities')),
        sa.UniqueConstraint('kind', 'value', name=op.f('uq_identities_kind_value')),
    )
    with op.batch_alter_table('identities') as batch_op:
        batch_op.create_index(batch_op.f('ix_identities_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identities_rep_id'), ['rep_id'], unique=False)

    op.create_table(
        'chat_conversations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('external_id', sa.String(length=300), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('thread_key', sa.String(length=300), nullable=False),
        sa.Column('deal_id', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('rep_id', sa.Integer(), nullable=True),
        sa.Column('stage', sa.String(length=32), nullable=True),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=False),
        sa.Column('message_count', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'],
                                name=op.f('fk_chat_conversations_contact_id_contacts'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_chat_conversations_customer_id_customers'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_chat_conversations_deal_id_deals'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], name=op.f('fk_chat_conversations_rep_id_reps'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_conversations')),
        sa.UniqueConstraint('external_id', name=op.f('uq_chat_conversations_external_id')),
    )
    with op.batch_alter_table('chat_conversations') as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_conversations_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_conversations_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_conversations_thread_key'), ['thread_key'], unique=False)

    op.create_table(
        'chat_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('external_id', sa.String(length=300), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('msgtype', sa.String(length=16), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=True),
        sa.Column('thread_key', sa.String(length=300), nullable=False),
        sa.Column('deal_id', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('rep_id', sa.Integer(), nullable=True),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('sender', sa.String(length=300), nullable=False),
        sa.Column('receivers', sa.JSON(), nullable=True),
        sa.Column('room_id', sa.String(length=128), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.Column('stage', sa.String(length=32), nullable=True),
        sa.Column('subject', sa.Text(), nullable=True),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('voice_s', sa.Float(), nullable=True),
        sa.Column('source', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_chat_messages_contact_id_contacts'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['conversation_id'], ['chat_conversations.id'],
                                name=op.f('fk_chat_messages_conversation_id_chat_conversations'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_chat_messages_customer_id_customers'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_chat_messages_deal_id_deals'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], name=op.f('fk_chat_messages_rep_id_reps'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_messages')),
        sa.UniqueConstraint('external_id', name=op.f('uq_chat_messages_external_id')),
    )
    with op.batch_alter_table('chat_messages') as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_messages_channel'), ['channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_messages_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_messages_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_messages_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_messages_sent_at'), ['sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_messages_thread_key'), ['thread_key'], unique=False)

    op.create_table(
        'message_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('name', sa.Text(), nullable=True),
        sa.Column('path', sa.Text(), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('md5', sa.String(length=32), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('evidence_candidate', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['chat_messages.id'],
                                name=op.f('fk_message_files_message_id_chat_messages'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_files')),
    )
    with op.batch_alter_table('message_files') as batch_op:
        batch_op.create_index(batch_op.f('ix_message_files_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_files_sha256'), ['sha256'], unique=False)

    op.create_table(
        'revoked_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('external_id', sa.String(length=300), nullable=False),
        sa.Column('revoke_id', sa.String(length=300), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_revoked_messages')),
        sa.UniqueConstraint('external_id', name=op.f('uq_revoked_messages_external_id')),
    )
    with op.batch_alter_table('revoked_messages') as batch_op:
        batch_op.create_index(batch_op.f('ix_revoked_messages_revoke_id'), ['revoke_id'], unique=False)


def downgrade() -> None:
    for table in ('revoked_messages', 'message_files', 'chat_messages', 'chat_conversations', 'identities',
                  'contacts'):
        op.drop_table(table)
