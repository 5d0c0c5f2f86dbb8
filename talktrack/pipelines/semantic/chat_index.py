"""The chat side of the utterance index: chat and e-mail utterances under negative ids, their filters, their hits.

One index holds every channel, so a query ranks a call line and a chat message on one scale. A call
utterance keeps its catalog id; a chat utterance (``chat_utterances``) is stored as ``-id``. The FAISS
ids are text-group ids (:mod:`.text_groups`), never these, so a negative utterance id is only a key in
the manifest and in the allowed-id arrays, and the sign says which table to read a hit from.

The filters mean the same as for a call: ``rep``/``team`` the conversation's rep, ``outcome`` its deal's
status, ``stage`` the deal's stage when the message was sent, dates the message's time.
"""

from __future__ import annotations

from datetime import datetime
from datetime import time as dtime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import aliased

from talktrack.core.catalog.schema import ChatConversation, ChatMessage, ChatUtterance, Deal, Rep, Team
from talktrack.core.catalog.schema.chat_text import TEXT_CHANNELS

CHAT_CHANNELS = tuple(c for c in TEXT_CHANNELS if c != "call")


def index_key(chat_utterance_id: int) -> int:
    """The id a chat utterance has in the index (negative: a call utterance's ids are positive)."""
    return -int(chat_utterance_id)


def chat_rows(session):
    """``(index key, text, language)`` of every chat utterance."""
    for uid, text, language in session.execute(select(ChatUtterance.id, ChatUtterance.text, ChatUtterance.language)):
        yield index_key(uid), text, language


def allowed_chat_ids(session, *, channel=None, role=None, rep=None, team=None, outcome=None, stage=None,
                     date_from=None, date_to=None, language=None) -> np.ndarray:
    """Index keys of the chat utterances that pass the filters (one SQL query)."""
    query = (select(ChatUtterance.id)
             .join(ChatConversation, ChatConversation.id == ChatUtterance.conversation_id))
    if channel is not None:
        query = query.where(ChatUtterance.channel == channel)
    if role is not None:
        query = query.where(ChatUtterance.role == role)
    if language is not None:
        query = query.where(ChatUtterance.language == language)
    if outcome is not None:
        query = query.join(Deal, ChatConversation.deal_id == Deal.id).where(Deal.status == outcome)
    if rep is not None or team is not None:
        owner = aliased(Rep)
        query = query.join(owner, ChatConversation.rep_id == owner.id)
        if rep is not None:
            query = query.where(owner.external_id == rep)
        if team is not None:
            query = query.join(Team, owner.team_id == Team.id).where(Team.external_id == team)
    if stage is not None:
        query = (query.join(ChatMessage, ChatMessage.id == ChatUtterance.message_id)
                 .where(ChatMessage.stage == stage))
    if date_from is not None:
        query = query.where(ChatUtterance.sent_at >= datetime.combine(date_from, dtime.min))
    if date_to is not None:
        query = query.where(ChatUtterance.sent_at <= datetime.combine(date_to, dtime.max))
    return -np.fromiter(session.scalars(query), dtype=np.int64)


def chat_hit_rows(session, keys: list[int]) -> dict[int, dict]:
    """Index key -> the fields of a search hit, for the chat utterances among ``keys``."""
    ids = [-key for key in keys if key < 0]
    if not ids:
        return {}
    owner = aliased(Rep)
    rows = session.execute(
        select(ChatUtterance, ChatConversation.external_id, ChatMessage.external_id, ChatMessage.sender,
               Deal.external_id, owner.external_id, Deal.status)
        .join(ChatConversation, ChatConversation.id == ChatUtterance.conversation_id)
        .join(ChatMessage, ChatMessage.id == ChatUtterance.message_id)
        .outerjoin(Deal, ChatConversation.deal_id == Deal.id)
        .outerjoin(owner, ChatConversation.rep_id == owner.id)
        .where(ChatUtterance.id.in_(ids))).all()
    out = {}
    for u, conversation, message, sender, deal, rep, status in rows:
        out[index_key(u.id)] = dict(utterance_id=index_key(u.id), seq=u.seq, call_id=None, deal_id=deal, rep_id=rep,
                                    start_s=0.0, end_s=0.0, speaker=sender, role=u.role, text=u.text,
                                    language=u.language, outcome=status, channel=u.channel,
                                    conversation_id=conversation, message_id=message,
                                    sent_at=u.sent_at.isoformat(timespec="seconds"))
    return out
