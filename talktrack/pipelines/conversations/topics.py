"""Whether and where a topic came up in a conversation, whatever its channel.

A topic is one of three things, and each is found by what the platform already uses for it:

- an **objection type** (``competitor``, ``price`` ...): the stored objection moments of a call or of
  an analysed chat or e-mail thread (``chat_moments``); a call never run through the detector, and a
  thread not analysed yet or grown since, go through the moment detector on the customer's turns;
- a **key question** (``budget``, ``decision_maker`` ...): the SOP checker's key-question coverage
  on the rep's sentences, each paired with the customer's answer, as for a call;
- **free text** ("delivery delays"): the sentences nearest in meaning in the shared multilingual
  space, above :data:`TEXT_THRESHOLD`.

``objection:``, ``key_question:`` and ``text:`` prefixes force a kind; without one a configured
objection key or name comes first, then a key question key or name, else free text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from talktrack.models.moments import split_sentences
from talktrack.pipelines.conversations.load import Conversation, Turn
from talktrack.pipelines.semantic.sop import CallInput, rep_sentences

KINDS = ("objection", "key_question", "text")
# Cosine in the multilingual space at or above which a sentence counts as the free-text topic; chosen
# on the dev deals of a generated world (see talktrack.evaluation.conversations and docs/conversations.md).
TEXT_THRESHOLD = 0.28
MAX_PASSAGES = 5          # per conversation: enough to read where it came up, not the whole thread
MAX_TOPIC_CHARS = 300


class TopicError(ValueError):
    """A topic that is empty, too long or names an unknown objection type or key question."""


@dataclass(frozen=True)
class Topic:
    kind: str    # objection | key_question | text
    key: str     # the objection or key-question key, or the free text itself

    def to_dict(self) -> dict:
        return {"kind": self.kind, "key": self.key}


@dataclass(frozen=True)
class Passage:
    """Where a topic came up: the turn (and its sentence) and how sure the finder was."""

    seq: int
    role: str
    text: str
    score: float
    turn: Turn
    source: str   # stored_moment | detector | sop_checker | embedding

    def to_dict(self) -> dict:
        t = self.turn
        return {"seq": self.seq, "role": self.role, "text": self.text, "score": round(self.score, 4),
                "source": self.source, "kind": t.kind, "channel": t.channel, "start_s": t.start_s, "end_s": t.end_s,
                "sent_at": t.sent_at.isoformat() if t.sent_at else None, "message_id": t.ref}


def parse_topic(settings, raw: str) -> Topic:
    """The topic a caller typed: a prefix names the kind; else objection, key question, free text."""
    text = (raw or "").strip()
    if not text:
        raise TopicError("topic is empty: give an objection type, a key question or some words")
    if len(text) > MAX_TOPIC_CHARS:
        raise TopicError(f"topic is {len(text)} characters; at most {MAX_TOPIC_CHARS}")
    objections = {_fold(k): o.key for o in settings.objection_types for k in (o.key, o.name_en, o.name_zh)}
    questions = {_fold(k): key for key, q in settings.key_questions.items() for k in (key, q.name_en, q.name_zh)}
    kind, _, rest = text.partition(":")
    if rest and kind.strip() in KINDS:
        kind, rest = kind.strip(), rest.strip()
        if kind == "text":
            return Topic("text", rest)
        table = objections if kind == "objection" else questions
        if _fold(rest) not in table:
            known = settings.objection_keys if kind == "objection" else tuple(settings.key_questions)
            raise TopicError(f"unknown {kind} {rest!r}; known: {', '.join(known)}")
        return Topic(kind, table[_fold(rest)])
    if _fold(text) in objections:
        return Topic("objection", objections[_fold(text)])
    if _fold(text) in questions:
        return Topic("key_question", questions[_fold(text)])
    return Topic("text", text)


def _fold(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").split())


# --- objections -------------------------------------------------------------------------------------
def objection_passages(conversations: Sequence[Conversation], key: str, detector) -> dict[str, list[Passage]]:
    """Per conversation id, the customer turns raising objection ``key``."""
    hits = objection_hits(conversations, detector)
    return {conv_id: [p for label, p in found if label == key] for conv_id, found in hits.items()}


def objection_hits(conversations: Sequence[Conversation], detector) -> dict[str, list[tuple[str, Passage]]]:
    """Per conversation id, every objection raised as ``(type, passage)``: stored moments where a call
    has them, the detector (one batch for all the rest) elsewhere."""
    out: dict[str, list[tuple[str, Passage]]] = {}
    pending: list[tuple[str, Turn]] = []
    for conv in conversations:
        out[conv.id] = []
        if conv.moments is not None:
            turns = {t.seq: t for t in conv.turns}
            # a moment stored without its sentence (labelled, not detected) quotes its whole turn
            out[conv.id] = [(label, Passage(seq, turns[seq].role, text or turns[seq].text, score, turns[seq],
                                            "stored_moment"))
                            for seq, label, score, text in conv.moments if seq in turns]
        else:
            pending += [(conv.id, t) for t in conv.turns if t.role in ("customer", "unknown")]
    if pending and detector is not None:
        found = detector.detect([t.text for _, t in pending], roles=[t.role for _, t in pending])
        for (conv_id, turn), moments in zip(pending, found, strict=True):
            out[conv_id] += [(m.label, Passage(turn.seq, turn.role, m.text, m.score, turn, "detector"))
                             for m in moments if m.kind == "objection"]
    return out


# --- key questions ----------------------------------------------------------------------------------
def key_question_passages(conversations: Sequence[Conversation], key: str, checker, settings) -> dict[str, list[Passage]]:
    """Per conversation id, where a rep sentence (with the answer after it) covered key question ``key``.

    Coverage is checked against the conversation's stage SOP when that stage asks the question, else
    against the first stage's that does: a budget talk in a later stage still counts as budget talk."""
    home = next((s.key for s in settings.stages if key in s.key_questions), None)
    if home is None:
        raise TopicError(f"key question {key!r} belongs to no stage's SOP, so nothing checks it")
    inputs, owners = [], []
    for conv in conversations:
        stage_asks = any(s.key == conv.stage and key in s.key_questions for s in settings.stages)
        turns = [(t.seq, t.start_s or 0.0, t.end_s or 0.0, t.role, t.text) for t in conv.turns]
        sentences = rep_sentences(turns)
        if sentences:
            inputs.append(CallInput(conv.id, conv.deal_id, conv.stage if stage_asks else home, None,
                                    conv.language, sentences))
            owners.append(conv)
    out: dict[str, list[Passage]] = {conv.id: [] for conv in conversations}
    for conv, result in zip(owners, checker.check(inputs) if inputs else [], strict=True):
        turns = {t.seq: t for t in conv.turns}
        for step in result.steps:
            if step.key_question == key and step.covered and step.match and step.match.seq in turns:
                turn = turns[step.match.seq]
                out[conv.id].append(Passage(turn.seq, turn.role, step.match.snippet, step.match.similarity, turn,
                                            "sop_checker"))
    return out


# --- free text --------------------------------------------------------------------------------------
def text_passages(conversations: Sequence[Conversation], query: str, embedder,
                  threshold: float = TEXT_THRESHOLD) -> dict[str, list[Passage]]:
    """Per conversation id, the sentences at cosine >= ``threshold`` to ``query``, best first."""
    scored = sentence_scores(conversations, query, embedder)
    return {conv_id: [p for p in passages if p.score >= threshold] for conv_id, passages in scored.items()}


def sentence_scores(conversations: Sequence[Conversation], query: str, embedder) -> dict[str, list[Passage]]:
    """Every sentence of every turn with its cosine to ``query``, best first per conversation (the
    embedder returns unit vectors, so the inner product is the cosine)."""
    rows = [(conv.id, turn, s.text) for conv in conversations for turn in conv.turns
            for s in split_sentences(turn.text) if s.text.strip()]
    out: dict[str, list[Passage]] = {conv.id: [] for conv in conversations}
    if not rows:
        return out
    vectors = embedder.encode([query] + [text for _, _, text in rows])   # shape: (1 + sentences, dim)
    scores = vectors[1:] @ vectors[0]
    for (conv_id, turn, text), score in zip(rows, scores, strict=True):
        out[conv_id].append(Passage(turn.seq, turn.role, text, float(score), turn, "embedding"))
    for passages in out.values():
        passages.sort(key=lambda p: -p.score)
    return out


def best_per_turn(passages: list[Passage]) -> list[Passage]:
    """The best passage of each turn, best first, at most :data:`MAX_PASSAGES`."""
    seen: dict[int, Passage] = {}
    for p in sorted(passages, key=lambda p: -p.score):
        seen.setdefault(p.seq, p)
    return list(seen.values())[:MAX_PASSAGES]

