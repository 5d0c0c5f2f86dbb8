"""The moment detector on how people actually talk: the hand-written sets, a coach-label loop, real chats.

The generated world repeats its sentences, so a detector trained on it scores near 1.0 there and
still misses most real objections. This module grades the same detector on text nobody trained it
on (``evaluation/real_phrasing``: ``objections`` and ``customer_non_objections``, test split):

- ``flagged``: share of objections with at least one sentence flagged (any type);
- ``false_flags``: share of non-objection customer sentences with a sentence flagged;
- ``type_top1``: on objections, the type of the sentence and type with the highest probability,
  whether flagged or not (the type a coach would see when forced to pick one).

:func:`coach_curve` is the coach-label loop: dev items added as coach labels (a seeded sample of
``n``), the detector refitted, the test split graded, for growing ``n``. The dev split is the only
one ever used for training here, and the report says how many coach labels were used. Each point
is graded twice: at the detector's own threshold, and at a threshold chosen on the dev items NOT
given as labels (at most 5 % of their non-objections flagged), so that recall is compared at the
issue's false-flag budget rather than at whatever false-flag rate more labels happen to bring.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.evaluation import real_phrasing
from talktrack.models.moments import LabelledExample, MomentDetector, split_sentences
from talktrack.models.moments.taxonomy import NONE
from talktrack.pipelines.semantic.moments import fit_detector, read_labels_file

OBJECTIONS = "objections"
NON_OBJECTIONS = "customer_non_objections"
LANGUAGES = ("en", "zh", "mixed")
TARGETS = {"flagged_min": 0.9, "false_flags_max": 0.05, "type_top1_min": 0.9}
CURVE_SIZES = (0, 100, 200, 400, 600, None)   # None: every dev item (no dev item left for a threshold)
MIN_HELD_OUT = 100   # dev non-objections needed to choose a 5 % threshold on the items not used as labels
SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"   # beside the repository


def phrasing_items(split: str) -> list[dict]:
    """Objections (``type`` one of the seven) and non-objections (``type`` none) of one split."""
    return real_phrasing.load(OBJECTIONS, split=split) + real_phrasing.load(NON_OBJECTIONS, split=split)


def evaluate_phrasing(detector: MomentDetector, split: str = "test", threshold: float | None = None) -> dict:
    """Per language: flagged, false_flags, type_top1 and counts; non-objections' false flags per group.

    ``threshold``: flag on P(any objection) >= this instead of the detector's own threshold (see
    :func:`dev_threshold`).

    >>> evaluate_phrasing(detector)["en"]  # doctest: +SKIP
    {'flagged': 0.348, 'false_flags': 0.107, 'type_top1': 0.557, 'objections': 115, 'non_objections': 122, ...}
    """
    items = phrasing_items(split)
    scored = score_items(detector, items, threshold)
    out: dict = {"split": split, "threshold": threshold if threshold is not None else detector.objection_threshold}
    for language in LANGUAGES:
        rows = [(item, s) for item, s in zip(items, scored, strict=True) if item["lang"] == language]
        objections = [(item, s) for item, s in rows if item["type"] != NONE]
        others = [(item, s) for item, s in rows if item["type"] == NONE]
        groups = sorted({item.get("group", "") for item, _ in others})
        out[language] = {
            "flagged": _share(s["flagged"] for _, s in objections),
            "false_flags": _share(s["flagged"] for _, s in others),
            "type_top1": _share(s["type"] == item["type"] for item, s in objections),
            "objections": len(objections), "non_objections": len(others),
            "roc_auc": _auc([s["score"] for _, s in objections], [s["score"] for _, s in others]),
            "false_flags_by_group": {g: _share(s["flagged"] for item, s in others if item.get("group", "") == g)
                                     for g in groups},
            "missed_by_type": {t: _share(not s["flagged"] for item, s in objections if item["type"] == t)
                               for t in sorted({item["type"] for item, _ in objections})},
        }
    return out


def score_items(detector: MomentDetector, items: Sequence[dict], threshold: float | None = None) -> list[dict]:
    """Per item: flagged (any sentence flagged), the best sentence's score and the forced type (best
    sentence and type). ``threshold`` replaces the detector's own objection threshold."""
    sentences = [[s.text for s in split_sentences(item["text"])] or [item["text"]] for item in items]
    texts = sorted({t for group in sentences for t in group})
    position = {t: i for i, t in enumerate(texts)}
    probs = detector.predict_proba_features(detector.transform(texts), "objection")
    labels, scores = detector.best_labels(probs, "objection")
    if threshold is not None:
        labels = [NONE if score < threshold else "objection" for score in scores]
    classes = detector.classes_["objection"]
    out = []
    for group in sentences:
        rows = [position[t] for t in group]
        best = np.unravel_index(probs[rows][:, 1:].argmax(), (len(rows), len(classes) - 1))
        out.append({"flagged": any(labels[r] != NONE for r in rows), "score": float(scores[rows].max()),
                    "type": classes[1 + best[1]]})
    return out


def dev_threshold(detector: MomentDetector, max_false_flags: float = TARGETS["false_flags_max"],
                  items: Sequence[dict] | None = None) -> float:
    """The lowest objection threshold that flags at most ``max_false_flags`` of the dev split's
    non-objections (en, zh and mixed together): the decision rule chosen on dev, for a detector
    that never saw the dev items (with dev items as coach labels the dev scores are in-sample, so
    pass ``items``: the dev items it was not given)."""
    items = [item for item in (phrasing_items("dev") if items is None else items) if item["type"] == NONE]
    scores = np.sort([s["score"] for s in score_items(detector, items)])[::-1]
    allowed = int(np.floor(max_false_flags * len(scores)))
    return round(float(scores[allowed]) + 1e-4, 4) if allowed < len(scores) else 0.0


def coach_labels(items: Sequence[dict]) -> list[LabelledExample]:
    """Hand-written dev items as a coach would label them: the customer sentence and its type (or none)."""
    return [LabelledExample(item["text"], item["lang"], "objection", item["type"], "coach")
            for item in items]


def coach_curve(settings: Settings, embedder, labels: Sequence[LabelledExample],
                sizes: Sequence[int | None] = CURVE_SIZES, seed: int = 0) -> list[dict]:
    """Test figures after adding ``n`` dev items as coach labels (seeded sample; None: all) to ``labels``."""
    dev = phrasing_items("dev")
    order = np.random.default_rng(seed).permutation(len(dev))
    curve = []
    for size in sizes:
        n = len(dev) if size is None else min(size, len(dev))
        coach = coach_labels([dev[i] for i in order[:n]])
        detector = fit_detector(settings, embedder, [*labels, *coach])
        point = {"coach_labels": n, **evaluate_phrasing(detector, "test")}
        held_out = [dev[i] for i in order[n:]]
        if sum(item["type"] == NONE for item in held_out) >= MIN_HELD_OUT:
            point["at_held_out_dev_threshold"] = evaluate_phrasing(detector, "test", dev_threshold(detector,
                                                                                                 items=held_out))
        curve.append(point)
    return curve


def labels_to_target(curve: Sequence[dict]) -> int | None:
    """The fewest coach labels whose point meets every target in en and zh at the held-out dev
    threshold (None: no point of the curve does)."""
    for point in curve:
        figures = point.get("at_held_out_dev_threshold")
        if figures and all(all(met.values()) for met in targets_met(figures).values()):
            return point["coach_labels"]
    return None


def targets_met(figures: dict) -> dict:
    """The issue's bounds (en and zh) checked on one ``evaluate_phrasing`` result."""
    met = {}
    for language in ("en", "zh"):
        row = figures[language]
        met[language] = {"flagged": row["flagged"] >= TARGETS["flagged_min"],
                         "false_flags": row["false_flags"] <= TARGETS["false_flags_max"],
                         "type_top1": row["type_top1"] >= TARGETS["type_top1_min"]}
    return met


def evaluate_real_moments(detector: MomentDetector, settings: Settings, workspace: Workspace,
                          labels: Path | str | Sequence[LabelledExample],
                          shared_data_dir: Path | str | None = SHARED_DATA) -> dict:
    """What ``talktrack eval semantic`` reports beside the generated-world figures: the trained
    detector on the test split, the coach-label learning curve (``labels``: the detector's generated
    labels, a JSONL path or examples), and real chats (PersuasionForGood, ABCD, CrossWOZ,
    HarperValley) when the shared data folder is there."""
    from talktrack.evaluation.semantic.moments import evaluate_real_text

    if isinstance(labels, (str, Path)):
        labels = read_labels_file(labels)
    figures = evaluate_phrasing(detector, "test")
    threshold = dev_threshold(detector)
    out = {"phrasing_test": figures, "targets_met": targets_met(figures), "targets": TARGETS,
           "phrasing_test_dev_threshold": evaluate_phrasing(detector, "test", threshold),
           "coach_curve": coach_curve(settings, detector.embedder, labels)}
    out["coach_labels_to_target"] = labels_to_target(out["coach_curve"])
    if shared_data_dir is not None and (Path(shared_data_dir) / "text").is_dir():
        out["chats"] = evaluate_real_text(shared_data_dir, settings, workspace, detector=detector)
        out["chats_dev_threshold"] = evaluate_real_text(shared_data_dir, settings, workspace,
                                                        detector=with_objection_threshold(detector, threshold))
    return out


def with_objection_threshold(detector: MomentDetector, threshold: float) -> MomentDetector:
    """The same fitted detector flagging objections at ``threshold`` (a shallow copy: weights shared),
    so the real chats are read with the decision rule chosen on dev."""
    clone = copy.copy(detector)
    clone.objection_threshold = threshold
    return clone


def _auc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """ROC-AUC of the objection score: how well it ranks objections above non-objections, whatever
    the threshold (ties count half)."""
    if not positives or not negatives:
        return None
    pos, neg = np.asarray(positives)[:, None], np.asarray(negatives)[None, :]
    return round(float(np.mean((pos > neg) + 0.5 * (pos == neg))), 4)


def _share(flags) -> float | None:
    flags = list(flags)
    return round(sum(bool(f) for f in flags) / len(flags), 4) if flags else None
