"""The question a director asks: "did the last three conversations with this customer touch the competitor?"

:func:`topic_in_conversations` reads the deal's customer's last N conversations on every channel
(calls, chats, e-mail threads; voice messages inside chats are marked) and says for each whether
and where the topic came up, with the passages. The finders are in :mod:`.topics`, the catalog
reads in :mod:`.load`; the models (moment detector, SOP checker, embedder) are passed in, so the
service hands over the ones it already keeps loaded::

    >>> answer = topic_in_conversations(catalog, settings, "DEAL-0007", "competitor", last=3,
    ...                                 models=TopicModels(detector, sop_checker, embedder))
    >>> [(c["channel"], c["topic_found"]) for c in answer["conversations"]]
    [('chat', True), ('call', False), ('email', False)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from talktrack.pipelines.conversations.load import Conversation, ConversationsError, customer_conversations
from talktrack.pipelines.conversations.topics import (
    TEXT_THRESHOLD,
    Passage,
    Topic,
    TopicError,
    best_per_turn,
    key_question_passages,
    objection_passages,
    parse_topic,
    text_passages,
)

__all__ = ["ConversationsError", "TEXT_THRESHOLD", "Topic", "TopicError", "TopicModels", "find_topic",
           "parse_topic", "topic_in_conversations"]

MAX_LAST = 50


@dataclass(frozen=True)
class TopicModels:
    """What finds a topic: the moment detector, the SOP checker and the multilingual sentence embedder.
    Only the one the topic's kind needs is used; the others may be None."""

    detector: object | None = None
    checker: object | None = None
    embedder: object | None = None


def find_topic(conversations: list[Conversation], topic: Topic, models: TopicModels, settings,
               threshold: float = TEXT_THRESHOLD) -> dict[str, list[Passage]]:
    """Per conversation id, the passages where ``topic`` came up (empty: it did not)."""
    if topic.kind == "objection":
        return objection_passages(conversations, topic.key, models.detector)
    if topic.kind == "key_question":
        return key_question_passages(conversations, topic.key, models.checker, settings)
    return text_passages(conversations, topic.key, models.embedder, threshold)


def topic_in_conversations(catalog, settings, deal_id: str, topic: str | None, *, last: int, models: TopicModels,
                           readable: Callable[[str | None], bool] | None = None,
                           threshold: float = TEXT_THRESHOLD) -> dict:
    """The answer of ``GET /v1/deals/{id}/conversations`` and ``talktrack conversations``.

    Without a topic (None) it is the list alone (the deal page before anything is asked): no model runs,
    and ``topic``, ``found_in`` and each ``topic_found`` are None."""
    if not 1 <= last <= MAX_LAST:
        raise TopicError(f"last = {last}: between 1 and {MAX_LAST}")
    parsed = parse_topic(settings, topic) if topic is not None else None
    info, conversations = customer_conversations(catalog, deal_id, last, readable)
    found = find_topic(conversations, parsed, models, settings, threshold) if parsed else {}
    rows = []
    for conv in conversations:
        passages = best_per_turn(found.get(conv.id, []))
        rows.append(conv.summary() | {"topic_found": bool(passages) if parsed else None,
                                      "passages": [p.to_dict() for p in sorted(passages, key=lambda p: p.seq)]})
    options = {"threshold": threshold} if parsed and parsed.kind == "text" else {}
    return {"deal_id": deal_id, "customer_id": info.customer_id, "customer": info.customer_name, "last": last,
            "topic": parsed.to_dict() | options if parsed else None, "count": len(rows),
            "found_in": sum(r["topic_found"] for r in rows) if parsed else None, "conversations": rows}
