"""Chats and e-mails, and who is who in them: customer contacts, the addresses that identify reps and
contacts (WeCom ids, phones, e-mails), messages grouped into conversations per deal, their files, and the
ids of revoked messages (so a re-import never brings one back).

A message is kept in the shape the call analysis reads an utterance in (text, speaker role, time, deal,
stage, channel), so moments and search can take chats as they take calls.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from talktrack.core.catalog.schema.base import Base

CHAT_CHANNELS = ("chat", "email")
IDENTITY_KINDS = ("wecom", "phone", "email")


class Contact(Base):
    """A person at a customer (the CRM's customers hold companies, not people)."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))


class Identity(Base):
    """One address (a WeCom user id, a phone, an e-mail) and the rep or contact it belongs to.

    A rep's CRM e-mail needs no row here: it is read from ``reps.email``.
    """

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(200))  # normalised: e-mail lower case, phone digits only
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)


class ChatConversation(Base):
    """Messages of one deal's thread with one contact (or one group room) without a long pause."""

    __tablename__ = "chat_conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(300), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    thread_key: Mapped[str] = mapped_column(String(300), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id", ondelete="SET NULL"))
    stage: Mapped[str | None] = mapped_column(String(32))  # the deal's stage at the first message
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime] = mapped_column(DateTime)
    message_count: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8), default="en")


class ChatMessage(Base):
    """One chat message or e-mail; ``external_id`` is its WeCom msgid or Message-ID (what re-imports key on)."""

    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(300), unique=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    msgtype: Mapped[str] = mapped_column(String(16))  # text, voice, file, image, mixed, email
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_conversations.id", ondelete="SET NULL"), index=True
    )
    thread_key: Mapped[str] = mapped_column(String(300), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(16), default="unknown")  # the sender: rep | customer | unknown
    sender: Mapped[str] = mapped_column(String(300))  # as written in the export
    receivers: Mapped[list | None] = mapped_column(JSON)
    room_id: Mapped[str | None] = mapped_column(String(128))
    sent_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    stage: Mapped[str | None] = mapped_column(String(32))  # the deal's stage when it was sent
    subject: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    voice_s: Mapped[float | None] = mapped_column(Float)  # a voice message: its length (the text is its transcript)
    source: Mapped[str] = mapped_column(Text)  # the file it was read from

    files: Mapped[list[MessageFile]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class MessageFile(Base):
    """A file, image or voice recording sent in a message; documents are evidence candidates."""

    __tablename__ = "message_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("chat_messages.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # file | image | voice
    name: Mapped[str | None] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(Text)  # a copy in the workspace; null when the export lacks the media
    size: Mapped[int | None] = mapped_column(Integer)
    md5: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    evidence_candidate: Mapped[bool] = mapped_column(Boolean, default=False)


class RevokedMessage(Base):
    """A message its sender took back: never stored, and removed if it was."""

    __tablename__ = "revoked_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(300), unique=True)  # the revoked message's msgid
    revoke_id: Mapped[str] = mapped_column(String(300), index=True)  # the revoke message's own msgid
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
