"""SOP steps and key questions on real phrasing: the hand-written set ``real_phrasing/sop_questions``.

The generated world's key-question figures (:mod:`.sop`) grade the checker on the generator's
own sentences, which repeat; this grades it on rep sentences written by hand the way reps talk
(fillers, restarts, closed and indirect questions, ASR slips, Chinese with English words),
100 per language doing a step and 100 doing none, some with the customer's answer.

Each item is scored as a tiny call: its sentences (the answer on the last one) against every
step of the book, so a sentence may be taken for any step, not only those of one stage. Per
language group (``en``; ``zh`` = Chinese and mixed; ``mixed`` alone for information), micro
precision/recall/F1 over (item, step) pairs and over (item, key question) pairs, where a
step's key question is the one it asks in ``sops.yaml``.

``sweep_real_sop`` replays the decision over a grid of thresholds and margins on the dev
split: how the ``semantic.sop`` thresholds were chosen. Example::

    >>> report = evaluate_real_sop(settings, workspace)          # the test split
    >>> report["per_language"]["en"]["key_questions"]["f1"]
    0.87
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from talktrack.core.workspace import Workspace
from talktrack.evaluation.real_phrasing import load
from talktrack.pipelines.semantic.sop import RepSentence, SopChecker, split_sentences

SET_NAME = "sop_questions"
GROUPS = {"en": ("en",), "zh": ("zh", "mixed"), "mixed": ("mixed",)}


def evaluate_real_sop(settings, workspace: Workspace, split: str = "test", *,
                      engine: SopChecker | None = None) -> dict:
    """Step and key-question precision/recall/F1 per language group on one split of the set."""
    engine = engine or SopChecker(settings, workspace)
    items = load(SET_NAME, split=split)
    scored = [_score_item(engine, item) for item in items]
    predicted = [_decide(engine, space, scores) for space, scores in scored]
    options = {space: engine.options_for(space) for space in sorted({space for space, _ in scored})}
    return {"set": SET_NAME, "split": split, "items": len(items), "options": options,
            "per_language": _grade(engine, items, predicted),
            "errors": _errors(items, predicted)}


def sweep_real_sop(settings, workspace: Workspace, thresholds: Sequence[float], margins: Sequence[float | None],
                   split: str = "dev", *, engine: SopChecker | None = None) -> dict:
    """Per embedding space, the summed step + key-question F1 of its language group for every
    (threshold, margin), best first: ``{space: [{"threshold", "margin", "step_f1", "key_question_f1"}]}``."""
    engine = engine or SopChecker(settings, workspace)
    items = load(SET_NAME, split=split)
    scored = [_score_item(engine, item) for item in items]
    out = {}
    for space in sorted({space for space, _ in scored}):
        members = [i for i, (s, _) in enumerate(scored) if s == space]
        rows = []
        for threshold in thresholds:
            for margin in margins:
                predicted = [_decide(engine, space, scored[i][1], threshold, margin) for i in members]
                graded = _grade_group(engine, [items[i] for i in members], predicted)
                rows.append({"threshold": round(float(threshold), 4), "margin": margin,
                             "step_f1": graded["steps"]["f1"], "key_question_f1": graded["key_questions"]["f1"]})
        out[space] = sorted(rows, key=lambda r: -(r["step_f1"] + r["key_question_f1"]))
    return out


def item_sentences(item: dict) -> list[RepSentence]:
    """The item as a call's rep sentences: its text split, the customer's answer on the last one."""
    parts = split_sentences(item["text"]) or [item["text"]]
    answer = item.get("answer")
    return [RepSentence(0, 0.0, 0.0, part, answer if k == len(parts) - 1 else None) for k, part in enumerate(parts)]


def _score_item(engine: SopChecker, item: dict) -> tuple[str, tuple[np.ndarray, np.ndarray]]:
    space = engine.embedders.space_for(item["lang"])
    return space, engine.sentence_scores(space, item_sentences(item))


def _decide(engine: SopChecker, space: str, scores, threshold: float | None = None,
            margin: float | None | str = "configured") -> set[str]:
    """The steps the item covers, every step of the book a rival."""
    rivals = engine.rivals(list(engine.book.steps.values()))
    ok = engine.eligible(space, scores, rivals, threshold, margin)[:, :-1]   # the last column: background
    keys = list(engine.book.steps)
    return {keys[j] for j in np.flatnonzero(ok.any(axis=0))}


def _grade(engine: SopChecker, items: list[dict], predicted: list[set[str]]) -> dict:
    out = {}
    for group, languages in GROUPS.items():
        members = [i for i, item in enumerate(items) if item["lang"] in languages]
        if members:
            out[group] = _grade_group(engine, [items[i] for i in members], [predicted[i] for i in members])
    return out


def _grade_group(engine: SopChecker, items: list[dict], predicted: list[set[str]]) -> dict:
    asks = {key: step.key_question for key, step in engine.book.steps.items()}
    counts = {"steps": [0, 0, 0], "key_questions": [0, 0, 0]}
    for item, said in zip(items, predicted):
        truth = set(item["steps"])
        for name, view in (("steps", _same), ("key_questions", lambda keys: {asks[k] for k in keys if asks[k]})):
            p, t = view(said), view(truth)
            cell = counts[name]
            cell[0], cell[1], cell[2] = cell[0] + len(p & t), cell[1] + len(p - t), cell[2] + len(t - p)
    return {"items": len(items), "with_step": sum(bool(i["steps"]) for i in items),
            "with_answer": sum(bool(i.get("answer")) for i in items)} | {k: _prf(*c) for k, c in counts.items()}


def _prf(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn}


def _same(keys: set[str]) -> set[str]:
    return keys


def _errors(items: list[dict], predicted: list[set[str]]) -> list[dict]:
    """The items graded wrong, for reading (id, text, truth, predicted)."""
    return [{"id": item["id"], "text": item["text"], "answer": item.get("answer"), "steps": sorted(item["steps"]),
             "predicted": sorted(said)} for item, said in zip(items, predicted) if said != set(item["steps"])]
