"""Messages of a thread into conversations: a new one starts after a pause longer than ``import.chat_gap_h``.

Conversations are rebuilt for every thread an import touched, so adding the messages of a later export
in the middle of a thread regroups it the same way importing everything at once would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from talktrack.core.catalog.schema import ChatConversation, ChatMessage


def regroup(session: Session, thread_keys: Iterable[str], gap_h: float) -> int:
    """Rebuild the conversations of ``thread_keys``; the number of conversations written."""
    written = 0
    gap = timedelta(hours=gap_h)
    for key in sorted(set(thread_keys)):
        messages = list(session.scalars(
            select(ChatMessage).where(ChatMessage.thread_key == key).order_by(ChatMessage.sent_at, ChatMessage.id)
        ))
        for message in messages:
            message.conversation_id = None
        session.flush()
        session.execute(delete(ChatConversation).where(ChatConversation.thread_key == key))
        for group in split_by_gap(messages, gap):
            conversation = _conversation(key, group)
            session.add(conversation)
            session.flush()
            for message in group:
                message.conversation_id = conversation.id
            written += 1
    session.flush()
    return written


def split_by_gap(messages: list[ChatMessage], gap: timedelta) -> list[list[ChatMessage]]:
    groups: list[list[ChatMessage]] = []
    for message in messages:
        if groups and message.sent_at - groups[-1][-1].sent_at <= gap:
            groups[-1].append(message)
        else:
            groups.append([message])
    return groups


def _conversation(key: str, group: list[ChatMessage]) -> ChatConversation:
    first = group[0]
    languages = Counter(message.language for message in group)
    return ChatConversation(
        external_id=f"{key}:{first.external_id}"[:300], channel=first.channel, thread_key=key,
        deal_id=first.deal_id, customer_id=first.customer_id, contact_id=first.contact_id,
        rep_id=next((m.rep_id for m in group if m.rep_id is not None), None), stage=first.stage,
        started_at=first.sent_at, ended_at=group[-1].sent_at, message_count=len(group),
        language=languages.most_common(1)[0][0],
    )
