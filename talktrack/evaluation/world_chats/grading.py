"""How an import of generated chats agrees with their truth: conversations grouped exactly, deal and stage
right, revoked messages gone, unregistered participants reported. Plain JSON, for tests and evaluations."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import ChatConversation, ChatMessage, Deal


def grade_import(catalog: Catalog, truth: dict, unmapped_reported: set[str]) -> dict:
    with catalog.session() as session:
        rows = session.execute(
            select(ChatMessage.external_id, ChatMessage.conversation_id, ChatConversation.stage, Deal.external_id)
            .join(ChatConversation, ChatConversation.id == ChatMessage.conversation_id, isouter=True)
            .join(Deal, Deal.id == ChatConversation.deal_id, isouter=True)
        ).all()
    by_id = {external_id: (conversation, stage, deal) for external_id, conversation, stage, deal in rows}
    sizes: dict[int, int] = defaultdict(int)
    for _, conversation, _, _ in rows:
        sizes[conversation] += 1
    exact = deal_right = stage_right = found = expected = 0
    for conv in truth["conversations"]:
        ids = conv["message_ids"]
        expected += len(ids)
        stored = [by_id[i] for i in ids if i in by_id]
        found += len(stored)
        groups = {conversation for conversation, _, _ in stored}
        if len(stored) == len(ids) and len(groups) == 1 and sizes[next(iter(groups))] == len(ids):
            exact += 1
        if stored and stored[0][2] == conv["deal_id"]:
            deal_right += 1
        if stored and stored[0][1] == conv["stage"]:
            stage_right += 1
    total = len(truth["conversations"])
    return {
        "conversations": total, "grouped_exactly": exact, "deal_right": deal_right, "stage_right": stage_right,
        "messages_expected": expected, "messages_found": found,
        "revoked_still_stored": sum(message_id in by_id for message_id in truth["revoked"]),
        "unmapped_reported": len(set(truth["unmapped"]) & unmapped_reported), "unmapped_expected": len(truth["unmapped"]),
    }
