"""Drill scores on hand-written real answers: does the scorer agree with a coach?

The set ``real_phrasing/drill_answers.yaml`` holds answers a coach graded good or bad (40 + 40
per language, seven objection types). Each is scored as a drill turn scores it
(:meth:`talktrack.pipelines.drills.DrillEngine.score_answer`: the workspace's drill bank and
moment detector), and the figures are the ones a coach would look at: does a good answer score
above a bad one (AUC), what does a typical good and a typical bad answer get (medians), per
language. The scorer's weights were chosen on the dev split; the test split is what is reported.

Example::

    report = evaluate_real_drills(catalog, settings, workspace, split="test")
    report["by_language"]["en"]["auc"], report["by_language"]["zh"]["median_good"]
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.evaluation.real_phrasing import load
from talktrack.pipelines.drills import DrillEngine, load_drill_book

SET = "drill_answers"
TARGETS = {"auc_min": 0.95, "median_good_min": 60.0, "median_bad_max": 25.0}


def evaluate_real_drills(catalog, settings: Settings, workspace: Workspace, *, split: str | None = "test",
                         engine: DrillEngine | None = None) -> dict:
    """AUC and medians per language of the drill scores of the graded answers of ``split`` (None: all)."""
    engine = engine or DrillEngine(catalog, settings, workspace, load_drill_book(settings.drills))
    items = load(SET, split=split)
    for item in items:
        scored = engine.score_answer(item["objection_type"], _drill_language(item["lang"]), item["answer"])
        item["score"] = scored["score"]
        item["breakdown"] = scored["breakdown"]
    by_language = {lang: grade_scores([i for i in items if _drill_language(i["lang"]) == lang])
                   for lang in sorted({_drill_language(i["lang"]) for i in items})}
    return {"set": SET, "split": split or "all", "answers": len(items), "by_language": by_language,
            "targets": {lang: _targets(figures) for lang, figures in by_language.items()},
            "worst": _worst(items)}


def grade_scores(items: list[dict]) -> dict:
    """AUC (a good answer above a bad one), medians per grade, and the bad answers' medians per failure."""
    good = [i["score"] for i in items if i["grade"] == "good"]
    bad = [i["score"] for i in items if i["grade"] == "bad"]
    failures = Counter(i["failure"] for i in items if i["grade"] == "bad")
    return {
        "good": len(good), "bad": len(bad), "auc": round(auc(good, bad), 4),
        "median_good": _median(good), "median_bad": _median(bad),
        "median_bad_by_failure": {f: _median([i["score"] for i in items if i.get("failure") == f])
                                  for f in sorted(failures)},
    }


def auc(positive: list[float], negative: list[float]) -> float:
    """P(a positive scores above a negative), ties counting half (the Mann-Whitney statistic)."""
    if not positive or not negative:
        return float("nan")
    p, n = np.asarray(positive, dtype=float)[:, None], np.asarray(negative, dtype=float)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def _median(values: list[float]) -> float | None:
    return round(float(np.median(values)), 1) if values else None


def _drill_language(lang: str) -> str:
    """Drills run in en or zh; a Chinese answer with English words is a zh answer."""
    return "en" if lang == "en" else "zh"


def _targets(figures: dict) -> dict:
    return {"auc": figures["auc"] >= TARGETS["auc_min"],
            "median_good": (figures["median_good"] or 0) >= TARGETS["median_good_min"],
            "median_bad": (figures["median_bad"] or 100) <= TARGETS["median_bad_max"]}


def _worst(items: list[dict], count: int = 3) -> dict:
    """The lowest good and highest bad answers (what to read when a figure drops)."""
    good = sorted((i for i in items if i["grade"] == "good"), key=lambda i: i["score"])[:count]
    bad = sorted((i for i in items if i["grade"] == "bad"), key=lambda i: -i["score"])[:count]
    return {"good_lowest": [(i["id"], i["score"]) for i in good], "bad_highest": [(i["id"], i["score"]) for i in bad]}
