"""Chats and e-mails through the semantic layer, graded by the chat world's truth, per channel beside calls.

``talktrack eval semantic`` generates the world's chat threads and e-mails (``talktrack world chats``),
imports them, reads them into utterances and detects their moments with the detector trained for the
calls, then grades two things against ``chat_truth.json``:

- **moments**: each customer message with words is one unit; its truth is the objection type the
  generator wrote into it (else ``none``), its prediction the best-scored objection moment of its
  utterances. Per-type F1 and their macro mean per channel (chat, email), as the calls' sentence-level
  figure is computed (:func:`talktrack.evaluation.semantic.moments.prf`);
- **key-question coverage**: each conversation and each key question of its stage's SOP is one pair;
  truth: the rep asked it there, prediction: the SOP checker covers it in the conversation's rep
  messages (each with the customer's next message as its answer, as a call's rep turn).

The calls' figures (``moments.trained.macro_f1``, ``key_questions.key_questions.overall``) sit beside
them in the report, so a chat figure is never read alone.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import ChatConversation, ChatMessage, ChatMoment, ChatUtterance
from talktrack.evaluation.semantic.moments import prf
from talktrack.evaluation.semantic.sop import _prf  # the calls' key-question counts, scored the same way

NONE = "none"


def evaluate_chats(world_dir: Path, catalog: Catalog, settings, workspace, out_dir: Path, *, seed: int,
                   progress=None) -> dict:
    """Generate, import, analyse and grade the world's chats (see the module doc)."""
    from talktrack.evaluation.world_chats import TRUTH_FILE, generate_chats
    from talktrack.pipelines.chat_import import import_chats
    from talktrack.pipelines.semantic.chat_text import analyse_chats
    from talktrack.pipelines.semantic.moments import load_detector

    chats_dir = Path(out_dir) / "chats"
    generate_chats(world_dir, chats_dir, seed=seed, voice=0, gap_h=settings.import_.chat_gap_h,
                   stage_questions={s.key: tuple(s.key_questions) for s in settings.stages})
    imported = import_chats(catalog, settings, chats_dir, files_dir=Path(out_dir) / "chat-files")
    summary = analyse_chats(catalog, load_detector(settings, workspace), progress=progress)
    truth = json.loads((chats_dir / TRUTH_FILE).read_text(encoding="utf-8"))
    return {"chats": str(chats_dir), "imported": imported.totals() | {"conversations": imported.conversations},
            "analysis": summary.to_dict(),
            "moments": grade_chat_moments(catalog, truth, settings.objection_keys),
            "key_questions": grade_chat_key_questions(catalog, settings, workspace, truth)}


def grade_chat_moments(catalog: Catalog, truth: dict, objection_types) -> dict:
    """Per channel: per objection type precision/recall/F1 over customer messages, and their macro F1."""
    labels = {item["message_id"]: item["type"] for conv in truth["conversations"] for item in conv["objections"]}
    with catalog.session() as session:
        messages = session.execute(select(ChatMessage.id, ChatMessage.external_id, ChatMessage.channel)
                                   .where(ChatMessage.role == "customer", ChatMessage.text.is_not(None))).all()
        found = session.execute(select(ChatUtterance.message_id, ChatMoment.label, ChatMoment.score)
                                .join(ChatUtterance, ChatUtterance.id == ChatMoment.utterance_id)
                                .where(ChatMoment.kind == "objection")).all()
    best: dict[int, tuple[float, str]] = {}
    for message, label, score in found:
        best[message] = max(best.get(message, (-1.0, NONE)), (float(score), label))
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pk, external, channel in messages:
        pair = (labels.get(external, NONE), best.get(pk, (0.0, NONE))[1])
        pairs[channel].append(pair)
        pairs["all"].append(pair)
    out = {}
    for channel, graded in sorted(pairs.items()):
        table = {label: prf(graded, label) for label in objection_types if any(t == label for t, _ in graded)}
        f1s = [row["f1"] for row in table.values()]
        out[channel] = {"messages": len(graded), "with_objection": sum(t != NONE for t, _ in graded),
                        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else None, "per_type": table}
    return out


def grade_chat_key_questions(catalog: Catalog, settings, workspace, truth: dict) -> dict:
    """Per channel: precision/recall/F1 of (conversation, key question of its stage) coverage."""
    from talktrack.pipelines.semantic import sop
    from talktrack.pipelines.semantic.sop_calls import chat_inputs

    stages = {s.key: tuple(s.key_questions) for s in settings.stages}
    asked = _asked_by_conversation(catalog, truth)
    inputs = [c for c, _ in chat_inputs(catalog, list(stages))]
    results = sop.checker(catalog, settings, workspace).check(inputs) if inputs else []
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])   # channel -> tp, fp, fn
    for call, result in zip(inputs, results, strict=True):
        covered = {st.key_question for st in result.steps if st.key_question and st.covered}
        for key in stages[call.stage]:
            truth_has, predicted = key in asked.get(call.call_id, set()), key in covered
            for channel in (call.channel, "all"):
                row = counts[channel]
                row[0] += truth_has and predicted
                row[1] += predicted and not truth_has
                row[2] += truth_has and not predicted
    return {channel: _prf(*row) | {"conversations": sum(c.channel == channel or channel == "all" for c in inputs)}
            for channel, row in sorted(counts.items())}


def _asked_by_conversation(catalog: Catalog, truth: dict) -> dict[str, set[str]]:
    """Imported conversation id -> the key questions the truth says its rep asked (by the asking message)."""
    asked_in = {item["message_id"]: item["key"] for conv in truth["conversations"] for item in conv["key_questions"]}
    with catalog.session() as session:
        rows = session.execute(select(ChatMessage.external_id, ChatConversation.external_id)
                               .join(ChatConversation, ChatConversation.id == ChatMessage.conversation_id)
                               .where(ChatMessage.external_id.in_(list(asked_in)))).all()
    out: dict[str, set[str]] = defaultdict(set)
    for message, conversation in rows:
        out[conversation].add(asked_in[message])
    return out
