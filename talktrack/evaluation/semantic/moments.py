"""Grade the moment detector against a generated world's truth, and check it on real text.

:func:`evaluate_moments` fits two detectors: zero-shot (taxonomy examples only) and trained
(taxonomy + generated labels of a world of ANOTHER seed), and grades both on the evaluation
world:

- objections, per customer utterance: the predicted type is that of the most confident
  flagged sentence (``none`` if none is flagged); truth is the utterance's objection type;
- moves, per rep sentence (alignment as in :mod:`talktrack.evaluation.world.labels`: move
  utterances pair sentences with moves in order; the closing next-step proposal is left out).

Figures per label and language: precision, recall, F1 and support; macro-F1 per language is
the mean F1 over the objection types (moves) of the taxonomy.

:func:`evaluate_real_text` runs the detector on real dialogues that are not sales calls
(ABCD customer-service chats in English, CrossWOZ travel dialogues in Chinese, HarperValley
bank calls): nearly none of their utterances is a sales objection, so the share flagged is a
false-alarm rate, and where a label maps (an ABCD customer disputing a charge ~ price) it is
reported apart. PersuasionForGood's persuadees resisting a donation ask are the nearest real
objections (recall), its other persuadee acts more false flags. The hand-written sets are
graded in :mod:`talktrack.evaluation.semantic.moments_phrasing`.
"""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.evaluation.world.labels import (NONE, export_labels, load_truth, sentence_labels,
                                               truth_utterances)
from talktrack.models.moments import MomentDetector, split_sentences
from talktrack.pipelines.semantic.moments import fit_detector, moment_embedder, read_labels_file

LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class Unit:
    """A graded item: an utterance (objections) or one sentence (moves), with its true label."""

    kind: str
    language: str
    sentences: tuple[str, ...]
    truth: str


def evaluate_moments(eval_world_dir: Path | str, train_world_dir_or_labels: Path | str, settings: Settings,
                     workspace: Workspace, max_calls: int | None = 1500, seed: int = 0) -> dict:
    """Zero-shot and trained figures on ``eval_world_dir`` (see the module doc); ``max_calls``: a seeded
    sample of the evaluation world's calls (None: all).

    >>> evaluate_moments("/tmp/world_dev", "/tmp/world_s21", settings, workspace)["trained"]["macro_f1"]  # doctest: +SKIP
    {'objection': {'en': 0.97, 'zh': 0.96}, 'move': {'en': 0.98, 'zh': 0.97}}
    """
    eval_dir = Path(eval_world_dir)
    truth = load_truth(eval_dir)
    labels_path = _training_labels(Path(train_world_dir_or_labels), truth["seed"], workspace)
    units = grading_units(eval_dir, truth, _sample_calls(truth, max_calls, seed))
    embedder = moment_embedder(settings, workspace)
    labels = read_labels_file(labels_path)
    results = {}
    for name, detector in (("zero_shot", fit_detector(settings, embedder)),
                           ("trained", fit_detector(settings, embedder, labels))):
        results[name] = grade(detector, units) | {"model": detector.version, "trained_on": detector.n_examples_}
    return {"eval_world": str(eval_dir), "eval_seed": truth["seed"], "train_labels": str(labels_path),
            "calls_graded": len({u for u in _sample_calls(truth, max_calls, seed)}), **results}


def _training_labels(source: Path, eval_seed: int, workspace: Workspace) -> Path:
    """A labels JSONL as given, or exported from a world directory of a different seed."""
    if source.is_file():
        return source
    train_seed = load_truth(source)["seed"]
    if train_seed == eval_seed:
        raise ValueError(f"training world {source} has seed {train_seed}, the same as the evaluation world: "
                         "grading on the world it was trained on would be circular; generate another seed")
    out = workspace.models_dir / "eval" / f"labels-seed{train_seed}.jsonl"
    export_labels(source, out)
    return out


def _sample_calls(truth: dict, max_calls: int | None, seed: int) -> list[str]:
    calls = sorted(truth["calls"])
    if max_calls is None or len(calls) <= max_calls:
        return calls
    rng = np.random.default_rng(seed)
    return sorted(calls[i] for i in rng.choice(len(calls), max_calls, replace=False))


def grading_units(world_dir: Path, truth: dict, call_ids: Sequence[str]) -> list[Unit]:
    units = []
    for utterance in truth_utterances(world_dir, truth, call_ids):
        language = "zh" if utterance.language.startswith("zh") else "en"
        if utterance.role == "customer":
            label = utterance.labels["objection_type"] if utterance.labels["act"] == "objection" else NONE
            texts = tuple(s.text for s in split_sentences(utterance.text))
            units.append(Unit("objection", language, texts, label))
        elif utterance.role == "rep":
            units.extend(Unit("move", language, (s.text,), s.label) for s in sentence_labels(utterance))
    return units


def grade(detector: MomentDetector, units: Sequence[Unit]) -> dict:
    """Per-label and per-language precision/recall/F1, and macro-F1 per kind and language."""
    predictions = predict_units(detector, units)
    out: dict = {"per_label": {}, "macro_f1": {}, "detection": {}}
    for kind in ("objection", "move"):
        positives = detector.classes_[kind][1:]
        out["per_label"][kind], out["macro_f1"][kind], out["detection"][kind] = {}, {}, {}
        for language in LANGUAGES:
            pairs = [(u.truth, p) for u, p in zip(units, predictions, strict=True)
                     if u.kind == kind and u.language == language]
            table = {label: prf(pairs, label) for label in positives}
            out["per_label"][kind][language] = table
            out["macro_f1"][kind][language] = round(float(np.mean([row["f1"] for row in table.values()])), 4)
            out["detection"][kind][language] = detection_rates(pairs)
    return out


def predict_units(detector: MomentDetector, units: Sequence[Unit]) -> list[str]:
    """One label per unit: the most confident flagged sentence's label, else ``none``."""
    texts = sorted({t for u in units for t in u.sentences})
    position = {t: i for i, t in enumerate(texts)}
    features = detector.transform(texts)
    best = {}
    for kind in ("objection", "move"):
        labels, scores = detector.best_labels(detector.predict_proba_features(features, kind), kind)
        best[kind] = (labels, scores)
    out = []
    for unit in units:
        labels, scores = best[unit.kind]
        flagged = [(scores[position[t]], labels[position[t]]) for t in unit.sentences if labels[position[t]] != NONE]
        out.append(max(flagged)[1] if flagged else NONE)
    return out


def prf(pairs: Sequence[tuple[str, str]], label: str) -> dict:
    tp = sum(t == label and p == label for t, p in pairs)
    fp = sum(t != label and p == label for t, p in pairs)
    fn = sum(t == label and p != label for t, p in pairs)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "support": tp + fn}


def detection_rates(pairs: Sequence[tuple[str, str]]) -> dict:
    """Any-label detection: recall on true moments, false-alarm rate on true ``none`` units."""
    positives = [p for t, p in pairs if t != NONE]
    negatives = [p for t, p in pairs if t == NONE]
    return {"recall": round(sum(p != NONE for p in positives) / max(1, len(positives)), 4),
            "false_alarm_rate": round(sum(p != NONE for p in negatives) / max(1, len(negatives)), 4),
            "positives": len(positives), "negatives": len(negatives)}


# -- real text -----------------------------------------------------------------------------------
ABCD_PRICE_FLOWS = ("dispute_charge", "refund_purchase", "promo_code", "bad_price_competitor", "bad_price_yesterday")


def evaluate_real_text(shared_data_dir: Path | str, settings: Settings, workspace: Workspace,
                       detector: MomentDetector | None = None, max_utterances: int = 2000, seed: int = 0) -> dict:
    """False alarms and mappable labels on ABCD (en) and CrossWOZ (zh) customer/user utterances."""
    text_dir = Path(shared_data_dir) / "text"
    detector = detector or fit_detector(settings, moment_embedder(settings, workspace))
    out = {"model": detector.version}
    abcd = _abcd_customer_turns(text_dir, max_utterances, seed)
    if abcd:
        out["abcd_en"] = _real_rates(detector, abcd)
        out["abcd_en_agent_moves"] = _move_rates(detector, _abcd_agent_turns(text_dir))
    crosswoz = _crosswoz_user_turns(text_dir, max_utterances, seed)
    if crosswoz:
        out["crosswoz_zh"] = _real_rates(detector, crosswoz)
        out["crosswoz_zh_system_moves"] = _move_rates(detector, _crosswoz_system_turns(text_dir, max_utterances, seed))
    harper = _harper_valley_caller_turns(text_dir)
    if harper:
        out["harper_valley_en"] = _real_rates(detector, harper)
    persuasion = _persuasion_units(text_dir)
    if persuasion:
        out["persuasionforgood_en"] = _persuasion_rates(detector, persuasion)
    return out


# PersuasionForGood persuadee acts that resist the donation ask, and the objection types they come
# closest to (the mapping): resisting the amount ~ price or need, asking about the charity ~ trust.
PERSUASION_RESISTANCE = {"disagree-donation": ("price", "need"), "disagree-donation-more": ("price", "need"),
                         "negative-reaction-to-donation": ("price", "need"), "ask-org-info": ("trust",)}


def _persuasion_units(text_dir: Path) -> list[tuple[str, str]]:
    """(sentence, persuadee act) of the 300 annotated PersuasionForGood dialogues."""
    path = text_dir / "persuasionforgood" / "AnnotatedData_300_dialog.DERIVED.csv"
    if not path.is_file():
        return []
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["Unit"].strip(), row["ee_label_1"].strip() or "none") for row in csv.DictReader(handle)
                if row["B4"] == "1" and len(row["Unit"].strip()) > 3]


def _persuasion_rates(detector: MomentDetector, units: list[tuple[str, str]]) -> dict:
    """Recall on the resistance acts (flagged; flagged with a mapped type), false flags on the other acts."""
    moments = detector.detect([t for t, _ in units], roles=["customer"] * len(units))
    out: dict = {"resistance": {}}
    for act, types in PERSUASION_RESISTANCE.items():
        found = [m for (_, a), m in zip(units, moments, strict=True) if a == act]
        if found:
            out["resistance"][act] = {"units": len(found), "flagged": round(sum(bool(m) for m in found) / len(found), 4),
                                      "mapped_type": round(sum(any(x.label in types for x in m) for m in found)
                                                           / len(found), 4), "expected": list(types)}
    others = [m for (_, a), m in zip(units, moments, strict=True) if a not in PERSUASION_RESISTANCE]
    out["other_acts"] = {"units": len(others), "false_flags": round(sum(bool(m) for m in others) / max(1, len(others)), 4)}
    return out


def _harper_valley_caller_turns(text_dir: Path) -> list[tuple[str, str]]:
    """Caller turns (human transcripts) of the HarperValley bank calls: not sales, so flags are false."""
    turns = []
    for path in sorted((text_dir / "harper_valley").glob("*.transcript.json")):
        for turn in json.loads(path.read_text(encoding="utf-8")):
            text = str(turn.get("human_transcript") or turn.get("transcript") or "").strip()
            if turn.get("speaker_role") == "caller" and len(text) > 3:
                turns.append((text, "caller"))
    return turns


def _move_rates(detector: MomentDetector, turns: list[str]) -> dict:
    """Agent/system turns of service dialogues scored as rep turns: which moves fire, how often."""
    moments = detector.detect(turns, roles=["rep"] * len(turns))
    counts = Counter(m.label for found in moments for m in {x.label: x for x in found}.values())
    n = max(1, len(turns))
    return {"turns": len(turns), "flagged_share": round(sum(bool(m) for m in moments) / n, 4),
            "by_move": {k: round(v / n, 4) for k, v in counts.most_common()}}


def _abcd_agent_turns(text_dir: Path) -> list[str]:
    paths = sorted(text_dir.glob("**/abcd*.json*"))
    return [text for c in _abcd_conversations(paths[0]) for speaker, text in _abcd_turns(c)
            if speaker == "agent" and len(text) > 3]


def _crosswoz_system_turns(text_dir: Path, limit: int, seed: int) -> list[str]:
    files = sorted(p for p in text_dir.glob("crosswoz/*.json*") if p.is_file())
    data = json.loads(_read_maybe_zipped(files[0]))
    turns = [m["content"] for d in data.values() for m in d.get("messages", []) if m.get("role") == "sys"]
    return _sample(turns, limit, seed)


def _real_rates(detector: MomentDetector, turns: list[tuple[str, str]]) -> dict:
    """Share of customer turns flagged as an objection, overall and per type; per source group."""
    moments = detector.detect([t for t, _ in turns], roles=["customer"] * len(turns))
    flagged = Counter()
    by_group: dict[str, Counter] = {}
    for (_, group), found in zip(turns, moments, strict=True):
        labels = {m.label for m in found}
        by_group.setdefault(group, Counter())["turns"] += 1
        for label in labels:
            flagged[label] += 1
            by_group[group][label] += 1
        if labels:
            by_group[group]["flagged"] += 1
    n = len(turns)
    return {"turns": n, "flagged_share": round(sum(bool(m) for m in moments) / n, 4),
            "by_type": {k: round(v / n, 4) for k, v in flagged.most_common()},
            "groups": {g: {"turns": c["turns"], "flagged_share": round(c["flagged"] / c["turns"], 4),
                           "price_share": round(c["price"] / c["turns"], 4)} for g, c in sorted(by_group.items())}}


def _abcd_customer_turns(text_dir: Path, limit: int, seed: int) -> list[tuple[str, str]]:
    """(customer turn, group): group ``price_related`` for flows about charges/prices, else ``other``."""
    paths = sorted(text_dir.glob("**/abcd*.json*"))
    if not paths:
        return []
    turns = []
    for conversation in _abcd_conversations(paths[0]):
        flow = str(conversation.get("scenario", {}).get("flow", "")) + " " + str(
            conversation.get("scenario", {}).get("subflow", ""))
        group = "price_related" if any(key in flow for key in ABCD_PRICE_FLOWS) else "other"
        for speaker, text in _abcd_turns(conversation):
            if speaker == "customer" and len(text) > 3:
                turns.append((text, group))
    return _sample(turns, limit, seed)


def _abcd_conversations(path: Path) -> list[dict]:
    text = _read_maybe_zipped(path)
    data = json.loads(text)
    if isinstance(data, dict):
        return [c for split in data.values() if isinstance(split, list) for c in split]
    return list(data)


def _abcd_turns(conversation: dict) -> list[tuple[str, str]]:
    original = conversation.get("original") or conversation.get("delexed") or []
    out = []
    for turn in original:
        if isinstance(turn, list) and len(turn) >= 2:
            out.append((str(turn[0]), str(turn[1])))
        elif isinstance(turn, dict):
            out.append((str(turn.get("speaker", "")), str(turn.get("text", ""))))
    return out


def _crosswoz_user_turns(text_dir: Path, limit: int, seed: int) -> list[tuple[str, str]]:
    files = sorted(p for p in text_dir.glob("crosswoz/*.json*") if p.is_file())
    if not files:
        return []
    data = json.loads(_read_maybe_zipped(files[0]))
    turns = []
    for dialogue in data.values():
        for message in dialogue.get("messages", []):
            if message.get("role") == "usr":
                intents = {act[0] for act in message.get("dialog_act", []) if act}
                turns.append((message["content"], "+".join(sorted(intents)) or "none"))
    return _sample(turns, limit, seed)


def _read_maybe_zipped(path: Path) -> str:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".json"))
            return archive.read(name).decode("utf-8")
    return path.read_text(encoding="utf-8")


def _sample(items: list, limit: int, seed: int) -> list:
    if len(items) <= limit:
        return items
    rng = np.random.default_rng(seed)
    return [items[i] for i in sorted(rng.choice(len(items), limit, replace=False))]
