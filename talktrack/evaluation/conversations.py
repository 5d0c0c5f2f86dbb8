"""How well "did the topic come up in this conversation?" is answered, per channel, on a generated world's
imported chats (``chat_truth.json``) and on real chats (PersuasionForGood) for the free-text finder.

Every (conversation, topic) pair is one decision: the truth says the conversation raises an objection
type or covers a key question; the answer says it came up when it returns a passage. ``where_right``
is the share of true positives whose passages include the very message the truth names.

The free-text threshold is chosen here: the configured topic names (``Competitor``, ``Budget`` ...)
are typed as free text, the threshold maximising F1 on the dev deals (a hash of the deal id) is
kept, and test deals are scored with it. PersuasionForGood's persuadee dialogue acts give the real
figure: per dialogue, whether the persuadee asked about the organisation / the way to donate /
refused, found by the same finder and threshold from three plain-English queries.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import ChatConversation, ChatMessage
from talktrack.pipelines.conversations import TEXT_THRESHOLD, Topic, TopicModels, find_topic
from talktrack.pipelines.conversations.load import Conversation, Turn, all_chat_conversations
from talktrack.pipelines.conversations.topics import objection_hits, sentence_scores

PFG_DIALOGS = "text/persuasionforgood/AnnotatedData_300_dialog.DERIVED.csv"
# persuadee act -> what a director would type for it
PFG_QUERIES = {"ask-org-info": "questions about what the charity organisation does",
               "ask-donation-procedure": "how do I actually make the donation",
               "disagree-donation": "refuses to donate"}
THRESHOLDS = np.round(np.arange(0.10, 0.80, 0.01), 2)


def is_dev(deal_id: str | None) -> bool:
    """About 60 % of deals are dev (threshold choice), the rest test."""
    return int(hashlib.sha256((deal_id or "").encode()).hexdigest(), 16) % 10 < 6


def truth_map(catalog: Catalog, truth: dict) -> dict[str, dict]:
    """Imported conversation id -> the truth conversation most of its messages come from."""
    with catalog.session() as session:
        rows = dict(session.execute(select(ChatMessage.external_id, ChatConversation.external_id)
                                    .join(ChatConversation, ChatConversation.id == ChatMessage.conversation_id)).all())
    votes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_id = {conv["id"]: conv for conv in truth["conversations"]}
    for conv in truth["conversations"]:
        for message_id in conv["message_ids"]:
            if message_id in rows:
                votes[rows[message_id]][conv["id"]] += 1
    return {ours: by_id[max(counts, key=counts.get)] for ours, counts in votes.items()}


def _score(pairs: list[tuple[bool, bool]]) -> dict:
    tp = sum(t and p for t, p in pairs)
    fp = sum(p and not t for t, p in pairs)
    fn = sum(t and not p for t, p in pairs)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    return {"pairs": len(pairs), "positives": tp + fn, "tp": tp, "fp": fp, "fn": fn,
            "precision": _r(precision), "recall": _r(recall), "f1": _r(f1)}


def _r(x):
    return None if x is None else round(x, 4)


def _graded(convs, truth_of, found_by_topic, truth_key) -> dict:
    """Per channel (and all): precision/recall of topic-in-conversation, and where_right."""
    out = {}
    for channel in sorted({c.channel for c in convs}) + ["all"]:
        pairs, located = [], [0, 0]
        for conv in convs:
            if channel != "all" and conv.channel != channel:
                continue
            t = truth_of[conv.id]
            for key, found in found_by_topic.items():
                truth_ids = {item["message_id"] for item in t[truth_key] if item[truth_key_field(truth_key)] == key}
                predicted = bool(found[conv.id])
                pairs.append((bool(truth_ids), predicted))
                if truth_ids and predicted:
                    located[1] += 1
                    located[0] += any(p.turn.ref in truth_ids for p in found[conv.id])
        out[channel] = _score(pairs) | {"where_right": _r(located[0] / located[1]) if located[1] else None}
    return out


def truth_key_field(truth_key: str) -> str:
    return "type" if truth_key == "objections" else "key"


def evaluate_world(catalog: Catalog, settings, truth: dict, models: TopicModels) -> dict:
    """Objection types, key questions and free text, graded against ``chat_truth.json``."""
    mapping = truth_map(catalog, truth)
    convs = [c for c in all_chat_conversations(catalog) if c.id in mapping]
    questions = {key: find_topic(convs, Topic("key_question", key), models, settings)
                 for key in settings.key_questions if any(key in s.key_questions for s in settings.stages)}
    report = {"conversations": len(convs), "truth_conversations": len(truth["conversations"]),
              "objection": grade_objections(convs, mapping, settings, models.detector),
              "key_question": _graded(convs, mapping, questions, "key_questions")}
    report["text"] = free_text(convs, mapping, settings, models.embedder)
    return report


def grade_objections(convs: list[Conversation], mapping: dict, settings, detector) -> dict:
    """Objection-type-in-conversation per channel: one detector pass, every configured type."""
    hits = objection_hits(convs, detector)
    found = {key: {c.id: [p for label, p in hits[c.id] if label == key] for c in convs} for key in settings.objection_keys}
    return _graded(convs, mapping, found, "objections")


def free_text(convs: list[Conversation], mapping: dict, settings, embedder) -> dict:
    """The topic names typed as free text; threshold by dev-deal F1, reported on test deals."""
    topics = [(o.name_en, "objections", o.key) for o in settings.objection_types]
    topics += [(settings.key_questions[k].name_en, "key_questions", k) for k in settings.key_questions]
    best = {(name, conv_id): (ps[0].score if ps else -1.0, ps[0].turn.ref if ps else None)
            for name, _, _ in topics for conv_id, ps in sentence_scores(convs, name, embedder).items()}
    rows = []   # (dev?, channel, truth?, best score)
    for name, field, key in topics:
        for conv in convs:
            truth = any(item[truth_key_field(field)] == key for item in mapping[conv.id][field])
            rows.append((is_dev(conv.deal_id), conv.channel, truth, best[(name, conv.id)][0]))
    dev = [(t, s) for d, _, t, s in rows if d]
    f1s = [_score([(t, s >= th) for t, s in dev])["f1"] for th in THRESHOLDS]
    chosen = float(THRESHOLDS[int(np.argmax(f1s))])
    test = {ch: _score([(t, s >= chosen) for d, c, t, s in rows if not d and (ch == "all" or c == ch)])
            for ch in sorted({c.channel for c in convs}) + ["all"]}
    return {"queries": [name for name, _, _ in topics], "threshold_chosen_on_dev": chosen,
            "threshold_in_use": TEXT_THRESHOLD, "dev_f1_at_chosen": max(f1s), "test": test,
            "test_at_threshold_in_use": _score([(t, s >= TEXT_THRESHOLD) for d, _, t, s in rows if not d])}


def evaluate_real(data_root: Path, embedder, threshold: float = TEXT_THRESHOLD) -> dict:
    """PersuasionForGood (300 annotated real chats): a persuadee act as a free-text topic, per dialogue."""
    path = data_root / PFG_DIALOGS
    if not path.is_file():
        return {"skipped": f"{path} not found"}
    dialogs: dict[str, list[tuple[int, str, set[str]]]] = defaultdict(list)
    with path.open(encoding="utf-8", errors="replace") as handle:
        for row in csv.DictReader(handle):
            labels = {row["ee_label_1"], row["ee_label_2"]} - {""}
            dialogs[row["B2"]].append((int(row["B4"]), row["Unit"], labels))
    convs, acts = [], {}
    for dialog_id, units in dialogs.items():
        turns = [Turn(i, "customer" if who == 1 else "rep", text, "en") for i, (who, text, _) in enumerate(units)]
        convs.append(Conversation(dialog_id, "chat", datetime(2018, 1, 1), None, None, "en", turns))
        acts[dialog_id] = set().union(*(labels for who, _, labels in units if who == 1))
    out = {"dialogues": len(convs), "threshold": threshold}
    for act, query in PFG_QUERIES.items():
        found = sentence_scores(convs, query, embedder)
        pairs = [(act in acts[c.id], any(p.score >= threshold and p.role == "customer" for p in found[c.id]))
                 for c in convs]
        out[act] = {"query": query} | _score(pairs)
    return out


def run(catalog: Catalog, settings, world_chats: Path, data_root: Path, models: TopicModels) -> dict:
    truth = json.loads((world_chats / "chat_truth.json").read_text(encoding="utf-8"))
    return {"generated": evaluate_world(catalog, settings, truth, models),
            "real_persuasionforgood": evaluate_real(data_root, models.embedder)}
