"""Drill scores on hand-written real answers: does the scorer agree with a coach?

The set ``real_phrasing/drill_answers.yaml`` holds answers a coach graded good or bad (40 + 40
per language, seven objection types). Each is scored as a drill turn scores it
(:meth:`talktrack.pipelines.drills.DrillEngine.score_answer`: the workspace's drill bank and
moment detector), and the figures are the ones a coach would look at: does a good answer score
above a bad one (AUC), what does a typical good and a typical bad answer get (medians), per
language. The scorer's weights were chosen on the dev split; the test split is what is reported.

:func:`evaluate_real_moves` grades the moment detector's moves on ``rep_sentences.yaml`` (rep
sentences labelled with their move, or ``none``): what a drill's moves share and the mined tracks
rest on.

:func:`evaluate_generated_drills` is the generated world's column beside it: the world's own answers
that follow a planted (winning) track against its answers that follow none. :func:`drill_figures`
gathers the three for ``talktrack eval semantic``.

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
from talktrack.pipelines.drills import DrillEngine, load_drill_book, read_corpus
from talktrack.pipelines.mining.patterns import is_subsequence

SET = "drill_answers"
MOVES_SET = "rep_sentences"
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


def drill_figures(catalog, settings: Settings, workspace: Workspace, truth: dict, *, split: str = "test") -> dict:
    """The drill figures of ``talktrack eval semantic``: the generated world's and the real answers' side by
    side, and move detection on real rep sentences."""
    engine = DrillEngine(catalog, settings, workspace, load_drill_book(settings.drills))
    return {"generated_world": evaluate_generated_drills(catalog, engine, truth),
            "real_answers": evaluate_real_drills(catalog, settings, workspace, split=split, engine=engine),
            "real_moves": evaluate_real_moves(engine.detector(), split=split)}


def evaluate_generated_drills(catalog, engine: DrillEngine, truth: dict, *, per_group: int = 60,
                              seed: int = 0) -> dict:
    """AUC and medians per language on the world's own answers: ``good`` follow a planted track of their
    objection type (the generator makes them win more), ``bad`` follow none (decoys count as none).
    At most ``per_group`` answers per grade and language, drawn with ``seed``."""
    planted = [(t["objection_type"], tuple(t["moves"])) for t in truth["planted_tracks"] if not t["decoy"]]
    corpus = read_corpus(catalog, engine.builder.reader(), engine.settings.drills.policy.max_reply_lookahead)
    rng = np.random.default_rng(seed)
    items = []
    for language in engine.settings.drills.languages:
        for grade in ("good", "bad"):
            pool = [e for e in corpus.episodes if e.language == language and e.answer_text
                    and (grade == "good") == any(kind == e.objection_type and is_subsequence(moves, e.moves)
                                                 for kind, moves in planted)]
            for index in rng.permutation(len(pool))[:per_group]:
                episode = pool[int(index)]
                score = engine.score_answer(episode.objection_type, language, episode.answer_text)["score"]
                items.append({"lang": language, "grade": grade, "score": score, "failure": "follows no planted track"})
    return {"answers": len(items), "by_language": {lang: grade_scores([i for i in items if i["lang"] == lang])
                                                   for lang in engine.settings.drills.languages}}


def grade_scores(items: list[dict]) -> dict:
    """AUC (a good answer above a bad one), medians per grade, and the bad answers' medians per failure."""
    good = [i["score"] for i in items if i["grade"] == "good"]
    bad = [i["score"] for i in items if i["grade"] == "bad"]
    failures = Counter(i["failure"] for i in items if i["grade"] == "bad")
    return {
        "good": len(good), "bad": len(bad), "auc": round(auc(good, bad), 4),
        "median_good": _median(good), "median_bad": _median(bad),
        "median_bad_by_failure": {f: _median([i["score"] for i in items if i["grade"] == "bad" and i["failure"] == f])
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


def evaluate_real_moves(detector, *, split: str | None = "test") -> dict:
    """Move detection on hand-labelled rep sentences, per language: top-1 accuracy (the best move, or none
    when no move reaches the threshold), macro-F1 over the moves and none, how many move sentences get any
    move (recall) and how many ``none`` sentences get one (false flags)."""
    items = load(MOVES_SET, split=split)
    found = detector.detect([i["text"] for i in items], roles=["rep"] * len(items))
    for item, moments in zip(items, found, strict=True):
        moves = [m for m in moments if m.kind == "move"]
        item["predicted"] = max(moves, key=lambda m: m.score).label if moves else "none"
    out = {}
    for lang in sorted({_drill_language(i["lang"]) for i in items}):
        mine = [i for i in items if _drill_language(i["lang"]) == lang]
        moved = [i for i in mine if i["move"] != "none"]
        plain = [i for i in mine if i["move"] == "none"]
        out[lang] = {
            "sentences": len(mine),
            "accuracy": round(sum(i["predicted"] == i["move"] for i in mine) / len(mine), 4),
            "macro_f1": round(_macro_f1([i["move"] for i in mine], [i["predicted"] for i in mine]), 4),
            "move_recall": round(sum(i["predicted"] != "none" for i in moved) / max(len(moved), 1), 4),
            "false_flags": round(sum(i["predicted"] != "none" for i in plain) / max(len(plain), 1), 4),
        }
    return {"set": MOVES_SET, "split": split or "all", "by_language": out}


def _macro_f1(truth: list[str], predicted: list[str]) -> float:
    scores = []
    for label in sorted(set(truth)):
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(p == label != t for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label != p for t, p in zip(truth, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))
