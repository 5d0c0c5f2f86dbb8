"""Chats and e-mails read the way calls are: utterances, detected moments, and when a thread was analysed.

A call's words live in ``utterances``, keyed to a call; a chat's messages keep their own rows
(``chat_messages``: sender, receivers, files) and are *read* into ``chat_utterances`` so that moments,
the utterance index, mining and key-question coverage take them as they take a call's lines. They are a
table of their own rather than call-less rows of ``utterances`` because every call metric (talk ratio,
a rep's call count, the deal scorer's call features) joins utterances to calls and must not start
counting chat messages.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from talktrack.core.catalog.schema.base import Base

# What a search's ``channel`` filter names; a call's utterances are ``call``, a voice message's
# transcript inside a chat is ``voice_note``.
TEXT_CHANNELS = ("call", "chat", "email", "voice_note")


class ChatUtterance(Base):
    """One message of a chat (or one part of a long e-mail), as an utterance: the sender's role, the text
    without quoted earlier mails, and its place in the conversation."""

    __tablename__ = "chat_utterances"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"), Index("ix_chat_utterances_channel_role",
                                                                         "channel", "role"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("chat_messages.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)     # order in the conversation
    part: Mapped[int] = mapped_column(Integer, default=0)  # order inside its message (e-mails are split)
    channel: Mapped[str] = mapped_column(String(16))   # chat | email | voice_note
    role: Mapped[str] = mapped_column(String(16), default="unknown")
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    sent_at: Mapped[datetime] = mapped_column(DateTime)


class ChatMoment(Base):
    """A detected objection or rep move in one sentence of a chat utterance (as ``moments`` for a call)."""

    __tablename__ = "chat_moments"
    __table_args__ = (Index("ix_chat_moments_kind_label", "kind", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversations.id", ondelete="CASCADE"), index=True)
    utterance_id: Mapped[int] = mapped_column(ForeignKey("chat_utterances.id", ondelete="CASCADE"), index=True)
    sentence: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(48))
    score: Mapped[float] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)


class ChatAnalysis(Base):
    """When a conversation was last read into utterances and moments: a re-import that adds messages
    (another ``message_count``) or a new moment model (another ``moments_model``) makes it stale."""

    __tablename__ = "chat_analysis"

    conversation_id: Mapped[int] = mapped_column(ForeignKey("chat_conversations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    message_count: Mapped[int] = mapped_column(Integer)
    moments_model: Mapped[str] = mapped_column(String(64))
    analysed_at: Mapped[datetime] = mapped_column(DateTime)
