"""Chats and e-mails through the call analysis: messages read as utterances, then moments detected on them.

How a message becomes utterances (``chat_utterances``):

- the **speaker's role** is the one the import gave the sender from the participant mapping (a rep's
  WeCom id or e-mail → ``rep``, a contact's → ``customer``, an unmapped sender → ``unknown``);
- **one chat message is one utterance**, as one speaker turn of a call is; a voice message's transcript
  is one too, on channel ``voice_note`` (the customer *said* it);
- **quoted text is stripped**: an e-mail keeps only what it adds (up to the first quoted earlier mail or
  the sign-off, no ``>`` lines), a chat message loses its ``>`` lines (a WeCom quote-reply);
- **an e-mail is split into its paragraphs, a long paragraph into its sentences** (past
  :data:`EMAIL_SPLIT_CHARS`): a mail answering price, timeline and references is three turns' worth, and
  search should point at the passage that matters, not at a page. Paragraphs matter most: mail lines often
  end without a full stop ("Hi Ann," / "our budget is about 390k" / "the other vendor quoted less"), so
  joined they read as one run-on sentence that the moment detector scores as none of them (measured on a
  generated world's e-mails: objection macro F1 0.30 joined, 0.69 by paragraph; key-question F1 0.77 and
  0.96; ``talktrack eval semantic``'s ``chats``);
- files and images without words give no utterance.

:func:`analyse_chats` brings every conversation up to date (new messages since the last run, or another
moment model): it rewrites that thread's utterances and moments in one transaction per batch and stamps
it in ``chat_analysis``, so a second run does nothing and an interrupted one resumes. Example::

    summary = analyse_chats(catalog, load_detector(settings, workspace))
    summary.utterances, summary.moments
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import delete, insert, select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import ChatAnalysis, ChatConversation, ChatMessage, ChatMoment, ChatUtterance
from talktrack.core.clock import utcnow
from talktrack.core.progress import Progress
from talktrack.models.moments import split_sentences
from talktrack.pipelines.chat_import.email_files import new_text

EMAIL_SPLIT_CHARS = 400        # an e-mail paragraph longer than this is split into sentences (two chat messages' worth)
DETECTED_KINDS = ("objection", "move")
BATCH_CONVERSATIONS = 200


@dataclass(frozen=True)
class ChatAnalysisSummary:
    model: str
    conversations_pending: int
    utterances: int
    moments: int

    def to_dict(self) -> dict:
        return asdict(self)


def message_utterances(text: str | None, channel: str, msgtype: str) -> list[tuple[str, str]]:
    """``(channel, text)`` of the utterances one message gives (see the module doc).

    >>> message_utterances("> old line\\nToo pricey for us.", "chat", "text")
    [('chat', 'Too pricey for us.')]
    >>> message_utterances("Fine.", "chat", "voice")
    [('voice_note', 'Fine.')]
    """
    body = (text or "").replace("\r\n", "\n")
    own = "voice_note" if msgtype == "voice" else channel
    if channel != "email":
        body = " ".join(" ".join(line for line in body.split("\n") if not line.lstrip().startswith(">")).split())
        return [(own, body)] if body else []
    out = []
    for paragraph in new_text(body).split("\n"):
        paragraph = " ".join(paragraph.split())
        if len(paragraph) > EMAIL_SPLIT_CHARS:
            out += [(own, s.text.strip()) for s in split_sentences(paragraph) if s.text.strip()]
        elif paragraph:
            out.append((own, paragraph))
    return out


def analyse_chats(catalog: Catalog, detector, *, force: bool = False,
                  progress: Progress | None = None) -> ChatAnalysisSummary:
    """Read every stale chat or e-mail conversation into utterances and label their moments."""
    pending = _pending(catalog, detector.version, force)
    if progress:
        progress("chat moments", 0, len(pending))
    utterances = moments = 0
    for begin in range(0, len(pending), BATCH_CONVERSATIONS):
        batch = pending[begin:begin + BATCH_CONVERSATIONS]
        u, m = _analyse_batch(catalog, detector, batch)
        utterances, moments = utterances + u, moments + m
        if progress:
            progress("chat moments", begin + len(batch), len(pending))
    return ChatAnalysisSummary(detector.version, len(pending), utterances, moments)


def _pending(catalog: Catalog, version: str, force: bool) -> list[tuple[int, int]]:
    """(conversation pk, message count) of the conversations never analysed, grown since, or by another model."""
    with catalog.session() as session:
        rows = session.execute(
            select(ChatConversation.id, ChatConversation.message_count, ChatAnalysis.message_count,
                   ChatAnalysis.moments_model)
            .outerjoin(ChatAnalysis, ChatAnalysis.conversation_id == ChatConversation.id)
            .order_by(ChatConversation.id)).all()
    return [(pk, count) for pk, count, seen, model in rows if force or seen != count or model != version]


def _analyse_batch(catalog: Catalog, detector, batch: Sequence[tuple[int, int]]) -> tuple[int, int]:
    ids = [pk for pk, _ in batch]
    with catalog.session() as session:
        messages = session.execute(
            select(ChatMessage.id, ChatMessage.conversation_id, ChatMessage.channel, ChatMessage.msgtype,
                   ChatMessage.role, ChatMessage.text, ChatMessage.language, ChatMessage.sent_at)
            .where(ChatMessage.conversation_id.in_(ids))
            .order_by(ChatMessage.conversation_id, ChatMessage.sent_at, ChatMessage.id)).all()
        session.execute(delete(ChatMoment).where(ChatMoment.conversation_id.in_(ids)))
        session.execute(delete(ChatUtterance).where(ChatUtterance.conversation_id.in_(ids)))
        rows, seqs = [], dict.fromkeys(ids, 0)
        for mid, conv, channel, msgtype, role, text, language, sent_at in messages:
            for part, (own, words) in enumerate(message_utterances(text, channel, msgtype)):
                rows.append({"conversation_id": conv, "message_id": mid, "seq": seqs[conv], "part": part,
                             "channel": own, "role": role or "unknown", "text": words, "language": language or "en",
                             "sent_at": sent_at})
                seqs[conv] += 1
        if rows:
            session.execute(insert(ChatUtterance), rows)
        stored = session.execute(select(ChatUtterance.id, ChatUtterance.conversation_id, ChatUtterance.role,
                                        ChatUtterance.text)
                                 .where(ChatUtterance.conversation_id.in_(ids))
                                 .order_by(ChatUtterance.conversation_id, ChatUtterance.seq)).all()
        found = _moment_rows(detector, stored)
        if found:
            session.execute(insert(ChatMoment), found)
        now = utcnow()
        session.execute(delete(ChatAnalysis).where(ChatAnalysis.conversation_id.in_(ids)))
        session.execute(insert(ChatAnalysis), [{"conversation_id": pk, "message_count": count,
                                                "moments_model": detector.version, "analysed_at": now}
                                               for pk, count in batch])
    return len(rows), len(found)


def _moment_rows(detector, stored: Sequence[tuple]) -> list[dict]:
    """Objections on customer lines, moves on rep lines, both on an unmapped sender's (as for a call)."""
    if not stored:
        return []
    roles = [role if role in ("rep", "customer") else None for _, _, role, _ in stored]
    found = detector.detect([text for *_, text in stored], roles=roles)
    return [{"conversation_id": conv, "utterance_id": uid, "sentence": m.sentence, "kind": m.kind, "label": m.label,
             "score": m.score, "text": m.text}
            for (uid, conv, _, _), moments in zip(stored, found, strict=True) for m in moments
            if m.kind in DETECTED_KINDS]
