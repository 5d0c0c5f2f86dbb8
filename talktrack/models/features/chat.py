"""Per-deal chat and e-mail features for the deal scorer: one definition that the batch table
(:func:`talktrack.models.features.deal.build_deal_table`) and the never-scored rows
(:mod:`talktrack.models.features.deal_rows`) both call, so the two paths cannot drift apart.

Why a deal's chats matter beside its calls: a customer who answers a WeCom message within the hour
and wrote last week is engaged in a way no call count shows; one who stopped replying three weeks
ago is not. Only messages sent strictly before the deal's cut-off count (``sent_at < cutoff``,
as calls' ``started_at``), and everything is read from the message rows themselves, never from a
conversation's summary (its ``ended_at`` and ``message_count`` may lie past the cut-off).

| column | definition |
|---|---|
| ``chat__messages`` / ``chat__emails`` | chat messages (WeCom, plain exports, voice messages) / e-mails |
| ``chat__conversations`` | conversations with at least one message before the cut-off |
| ``chat__customer_share`` | customer messages / messages by the rep or the customer (unmapped senders left out) |
| ``chat__reply_latency_h`` | median hours from a rep message to the customer's next message in the same conversation |
| ``chat__days_since_customer`` | days from the customer's last message to the cut-off |
| ``chat__objections__<type>`` | messages raising an objection of that type (chat moments: customer and unmapped senders) |

Unknown is NaN, never 0, as for calls: a catalog with no chat or e-mail at all has not captured
that channel, so every chat column is NaN there — the scorer leaves all-NaN columns out of its
fit, and a world without chats scores exactly as before these features existed. Once chats are
imported, a deal without any has 0 messages (and NaN share, latency and recency). Objection counts
are NaN until the chat analysis has run once (no ``chat_analysis`` row), as a call's objections
are unknown without moments.

Example::

    inputs = read_chat_inputs(connection, [12, 13])          # the deals' messages and objections
    chat_row(inputs, 12, cutoff, settings.objection_keys)    # {"chat__messages": 7.0, ...}
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select

from talktrack.core.catalog.schema import ChatAnalysis, ChatMessage, ChatMoment, ChatUtterance

NAN = float("nan")
OBJECTION_PREFIX = "chat__objections__"
BASE_COLUMNS = ("chat__messages", "chat__emails", "chat__conversations", "chat__customer_share",
                "chat__reply_latency_h", "chat__days_since_customer")

# statements built once: a never-scored deal runs them
_PRESENT = select(select(ChatMessage.id).limit(1).scalar_subquery(),
                  select(ChatAnalysis.conversation_id).limit(1).scalar_subquery())
_ALL_MESSAGES = (select(ChatMessage.deal_id, ChatMessage.id, ChatMessage.conversation_id, ChatMessage.channel,
                        ChatMessage.role, ChatMessage.sent_at)
                 .where(ChatMessage.deal_id.is_not(None))
                 .order_by(ChatMessage.deal_id, ChatMessage.sent_at, ChatMessage.id))
_ALL_OBJECTIONS = (select(ChatMessage.deal_id, ChatMessage.id, ChatMessage.sent_at, ChatMoment.label)
                   .join(ChatUtterance, ChatUtterance.id == ChatMoment.utterance_id)
                   .join(ChatMessage, ChatMessage.id == ChatUtterance.message_id)
                   .where(ChatMoment.kind == "objection", ChatMessage.deal_id.is_not(None))
                   .distinct().order_by(ChatMessage.deal_id, ChatMessage.id, ChatMoment.label))
_OF_DEALS = ChatMessage.deal_id.in_(bindparam("deal_pks", expanding=True))
_MESSAGES, _OBJECTIONS = _ALL_MESSAGES.where(_OF_DEALS), _ALL_OBJECTIONS.where(_OF_DEALS)


def chat_columns(objection_types: Sequence[str]) -> tuple[str, ...]:
    """The chat columns, in table order, for the configured objection types."""
    return BASE_COLUMNS + tuple(f"{OBJECTION_PREFIX}{kind}" for kind in objection_types)


@dataclass(frozen=True)
class ChatInputs:
    """What the chat features of some deals are computed from (per deal pk, in time order).

    ``messages``: (message id, conversation id, channel, role, sent_at);
    ``objections``: (message id, sent_at, objection type), one per message and type."""

    has_chats: bool
    has_analysis: bool
    messages: dict[int, list[tuple]] = field(default_factory=dict)
    objections: dict[int, list[tuple]] = field(default_factory=dict)


def read_chat_inputs(connection, deal_pks: Sequence[int] | None = None) -> ChatInputs:
    """The chat messages and chat objections of ``deal_pks`` (a few small indexed reads), or of every
    deal (None: the batch table reads them all at once rather than name thousands of ids)."""
    any_message, any_analysis = connection.execute(_PRESENT).one()
    has_chats, has_analysis = any_message is not None, any_analysis is not None
    if not has_chats or (deal_pks is not None and len(deal_pks) == 0):
        return ChatInputs(has_chats, has_analysis)
    params = {} if deal_pks is None else {"deal_pks": [int(pk) for pk in deal_pks]}
    messages: dict[int, list[tuple]] = {}
    for deal_pk, *rest in connection.execute(_ALL_MESSAGES if deal_pks is None else _MESSAGES, params):
        messages.setdefault(deal_pk, []).append(tuple(rest))
    objections: dict[int, list[tuple]] = {}
    if has_analysis:
        for deal_pk, *rest in connection.execute(_ALL_OBJECTIONS if deal_pks is None else _OBJECTIONS, params):
            objections.setdefault(deal_pk, []).append(tuple(rest))
    return ChatInputs(has_chats, has_analysis, messages, objections)


def chat_row(inputs: ChatInputs, deal_pk: int, cutoff: datetime, objection_types: Sequence[str]) -> dict[str, float]:
    """One deal's chat columns as of ``cutoff`` (see the module doc for each definition)."""
    columns = chat_columns(objection_types)
    if not inputs.has_chats:
        return dict.fromkeys(columns, NAN)
    before = [m for m in inputs.messages.get(deal_pk, ()) if m[4] < cutoff]
    roles = [m[3] for m in before]
    spoken = sum(role in ("rep", "customer") for role in roles)
    customer = [m[4] for m in before if m[3] == "customer"]
    row = {
        "chat__messages": float(sum(m[2] != "email" for m in before)),
        "chat__emails": float(sum(m[2] == "email" for m in before)),
        "chat__conversations": float(len({m[1] for m in before})),
        "chat__customer_share": len(customer) / spoken if spoken else NAN,
        "chat__reply_latency_h": _median_reply_hours(before),
        "chat__days_since_customer": (cutoff - max(customer)).total_seconds() / 86400.0 if customer else NAN,
    }
    raised = [kind for _, sent_at, kind in inputs.objections.get(deal_pk, ()) if sent_at < cutoff]
    for kind in objection_types:
        row[f"{OBJECTION_PREFIX}{kind}"] = float(raised.count(kind)) if inputs.has_analysis else NAN
    return row


def _median_reply_hours(messages: list[tuple]) -> float:
    """Median hours between a rep message and the customer message right after it (same conversation;
    messages of unmapped senders are skipped), NaN when the customer never answered the rep."""
    last: dict[object, tuple[str, datetime]] = {}
    gaps = []
    for _, conversation, _, role, sent_at in messages:
        if role not in ("rep", "customer"):
            continue
        previous = last.get(conversation)
        if role == "customer" and previous is not None and previous[0] == "rep":
            gaps.append((sent_at - previous[1]).total_seconds() / 3600.0)
        last[conversation] = (role, sent_at)
    return statistics.median(gaps) if gaps else NAN


def chat_reason(feature: str, value: float) -> str | None:
    """A chat feature's value in a manager's words (None: not a chat feature)."""
    if feature.startswith(OBJECTION_PREFIX):
        kind = feature.removeprefix(OBJECTION_PREFIX).replace("_", " ")
        return f"customer raised {value:.0f} {kind} objection(s) in chats and e-mails"
    template = _TEMPLATES.get(feature)
    return None if template is None or math.isnan(value) else template(value)


_TEMPLATES = {
    "chat__messages": lambda v: f"{v:.0f} chat message(s) with the customer",
    "chat__emails": lambda v: f"{v:.0f} e-mail(s) with the customer",
    "chat__conversations": lambda v: f"{v:.0f} chat/e-mail conversation(s)",
    "chat__customer_share": lambda v: f"customer wrote {v:.0%} of the chat messages",
    "chat__reply_latency_h": lambda v: f"customer answers chats in a median {v:.1f} h",
    "chat__days_since_customer": lambda v: f"customer last wrote {v:.0f} days ago",
}

# Lineage (see talktrack.models.features.deal.FEATURE_INPUTS): imported chat messages, and the chat
# moments the analysis detects on them.
_MESSAGE_INPUTS = ("chat_messages", "deals.closed_at")
FEATURE_INPUTS: dict[str, tuple[str, ...]] = {
    **{name: _MESSAGE_INPUTS for name in BASE_COLUMNS},
    f"{OBJECTION_PREFIX}*": _MESSAGE_INPUTS + ("chat_moments",),
}
