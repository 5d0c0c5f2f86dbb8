"""Key-question coverage measured against a generated world's truth, with the real-phrasing figures beside it.

Truth per call: ``calls[ID].key_questions.covered`` (the stage's key questions the rep
really asked). A key question is predicted covered when its SOP step is covered. Scored per
key question and per language (precision, recall, F1), and per deal: for every stage a deal
had calls in and every key question of that stage, is the "never covered" flag right?

``sweep_key_question_thresholds`` scores the same calls once and replays the decision for
a grid of thresholds and margins on a generated world. The configured thresholds were chosen on
the dev split of the hand-written set instead (:func:`.real_sop.sweep_real_sop`); the report's
``real_phrasing`` holds that set's test split (:mod:`.real_sop`), since the generated world's
sentences repeat and overstate what to expect on real calls.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Deal
from talktrack.core.workspace import Workspace
from talktrack.evaluation.semantic.real_sop import evaluate_real_sop
from talktrack.pipelines.semantic import sop as sop_pipeline


def evaluate_key_questions(world_dir: Path | str, catalog: Catalog, settings, workspace: Workspace,
                           max_calls: int | None = None, *, seed: int = 0, progress=None) -> dict:
    """Precision/recall/F1 of key-question coverage per key question and language, and deal-level
    never-covered flag accuracy, on whole deals drawn (seeded) until ``max_calls`` calls."""
    truth = _truth_calls(world_dir)
    call_ids = _sample_calls(catalog, truth, max_calls, seed)
    started = time.perf_counter()
    results = sop_pipeline.check_calls(catalog, settings, workspace, call_ids, progress=progress)
    seconds = time.perf_counter() - started
    report = {"world": str(world_dir), "calls": len(results), "seconds": round(seconds, 2),
              "calls_per_s": round(len(results) / seconds, 2) if seconds else None,
              "options": {lang: opts for lang, opts in _options_by_language(results).items()}}
    report |= _call_level(results, truth)
    report["steps"] = _step_locations(results, truth)
    report["deals"] = _deal_level(results, truth)
    # never a generated-world figure alone: the hand-written real-phrasing test split beside it
    report["real_phrasing"] = evaluate_real_sop(settings, workspace, "test",
                                                engine=sop_pipeline.checker(catalog, settings, workspace))
    return report


def _truth_calls(world_dir: Path | str) -> dict:
    return json.loads((Path(world_dir) / "truth.json").read_text(encoding="utf-8"))["calls"]


def _sample_calls(catalog: Catalog, truth: dict, max_calls: int | None, seed: int) -> list[str]:
    """Calls (with a stage and a truth entry) of whole deals, in a seeded deal order, up to ``max_calls``."""
    with catalog.session() as session:
        rows = session.execute(select(Deal.external_id, Call.external_id).join(Call, Call.deal_id == Deal.id)
                               .where(Call.stage.is_not(None)).order_by(Deal.external_id, Call.started_at)).all()
    by_deal: dict[str, list[str]] = defaultdict(list)
    for deal, call in rows:
        if call in truth:
            by_deal[deal].append(call)
    deals = sorted(by_deal)
    order = np.random.default_rng(seed).permutation(len(deals))
    chosen: list[str] = []
    for index in order:
        if max_calls is not None and len(chosen) >= max_calls:
            break
        chosen += by_deal[deals[int(index)]]
    return chosen


def _options_by_language(results) -> dict:
    out = {}
    for result in results:
        out.setdefault(result.language, result.options)
    return out


def _prf(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn, "support": tp + fn}


def _call_level(results, truth: dict) -> dict:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # (language, kq) → tp, fp, fn
    for result in results:
        covered = set(truth[result.call_id]["key_questions"]["covered"])
        for step in result.steps:
            if step.key_question is None:
                continue
            said, asked = step.covered, step.key_question in covered
            cell = counts[(result.language, step.key_question)]
            cell[0] += said and asked
            cell[1] += said and not asked
            cell[2] += asked and not said
    per_language: dict[str, dict] = {}
    for language in sorted({lang for lang, _ in counts}):
        cells = {kq: c for (lang, kq), c in counts.items() if lang == language}
        per_kq = {kq: _prf(*c) for kq, c in sorted(cells.items())}
        micro = _prf(*(sum(c[i] for c in cells.values()) for i in range(3)))
        macro = round(float(np.mean([m["f1"] for m in per_kq.values()])), 4) if per_kq else 0.0
        per_language[language] = {"micro": micro, "macro_f1": macro, "per_key_question": per_kq}
    overall = _prf(*(sum(c[i] for c in counts.values()) for i in range(3)))
    return {"key_questions": {"overall": overall, "per_language": per_language}}


def _right_place(step, utterance: dict | None) -> bool:
    """Is the matched utterance one that truly does this step? (agenda, next step, the key question)."""
    if utterance is None:
        return False
    if step.key_question is not None:
        return utterance["act"] == "question" and utterance.get("key_question") == step.key_question
    if step.step == "set_agenda":
        return utterance["act"] == "agenda"
    if step.step == "confirm_next_step":
        return utterance["act"] == "next_step" or "propose_next_step" in (utterance.get("moves") or ())
    return False


def _step_locations(results, truth: dict) -> dict:
    """Per step: share of calls where it was found, and share of those finds at a truly matching utterance."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])   # step → calls, found, found at the right place
    for result in results:
        utterances = {u["utt"]: u for u in truth[result.call_id]["utterances"]}
        for step in result.steps:
            cell = found[step.step]
            cell[0] += 1
            if step.covered:
                cell[1] += 1
                cell[2] += _right_place(step, utterances.get(step.match.seq))
    return {key: {"calls": n, "found_share": round(hit / n, 4),
                  "location_precision": round(right / hit, 4) if hit else None}
            for key, (n, hit, right) in sorted(found.items())}


def _deal_level(results, truth: dict) -> dict:
    """Per (deal, stage, key question): predicted never-covered vs truly never covered."""
    predicted: dict[tuple, bool] = {}
    actual: dict[tuple, bool] = {}
    for result in results:
        covered = set(truth[result.call_id]["key_questions"]["covered"])
        for step in result.steps:
            if step.key_question is None:
                continue
            key = (result.deal_id, result.stage, step.key_question)
            predicted[key] = predicted.get(key, False) or step.covered
            actual[key] = actual.get(key, False) or step.key_question in covered
    tp = sum(1 for k in predicted if not predicted[k] and not actual[k])   # "never covered" flags that are right
    fp = sum(1 for k in predicted if not predicted[k] and actual[k])
    fn = sum(1 for k in predicted if predicted[k] and not actual[k])
    correct = sum(1 for k in predicted if predicted[k] == actual[k])
    flags = _prf(tp, fp, fn)
    return {"pairs": len(predicted), "deals": len({k[0] for k in predicted}),
            "accuracy": round(correct / len(predicted), 4) if predicted else None,
            "never_covered_flags": flags, "truly_never_covered": tp + fn}


def sweep_key_question_thresholds(world_dir: Path | str, catalog: Catalog, settings, workspace: Workspace,
                                  thresholds: Sequence[float], margins: Sequence[float | None],
                                  max_calls: int | None = None, *, seed: int = 0) -> dict:
    """Micro F1 of key-question coverage per embedding space for every (threshold, margin).

    Returns ``{space: [{"threshold", "margin", "precision", "recall", "f1"}, ...]}`` best first."""
    truth = _truth_calls(world_dir)
    call_ids = _sample_calls(catalog, truth, max_calls, seed)
    engine = sop_pipeline.checker(catalog, settings, workspace)
    scored = _score_calls(engine, catalog, call_ids)
    out = {}
    for space, calls in scored.items():
        rows = [_replay(engine, calls, truth, space, t, m) | {"threshold": round(float(t), 4), "margin": m}
                for t in thresholds for m in margins]
        out[space] = sorted(rows, key=lambda r: -r["f1"])
    return out


def _score_calls(engine, catalog: Catalog, call_ids: list[str]) -> dict[str, list]:
    """{space: [(call input, required steps, (alone, with answer) scores (num_sentences, num_steps + 1))]}"""
    inputs = sop_pipeline.load_calls(catalog, call_ids)
    out: dict[str, list] = defaultdict(list)
    for call in inputs:
        space = engine.embedders.space_for(call.language)
        required = engine.book.steps_for(call.stage, call.channel)
        out[space].append((call, required, engine.sentence_scores(space, call.sentences)))
    return out


def _replay(engine, calls: list, truth: dict, space: str, threshold: float, margin: float | None) -> dict:
    tp = fp = fn = 0
    columns = {step.key: j for j, step in enumerate(engine.book.steps.values())}
    for call, required, scores in calls:
        ok = engine.eligible(space, scores, engine.rivals(required), threshold, margin)
        covered = set(truth[call.call_id]["key_questions"]["covered"])
        for step in required:
            if step.key_question is None:
                continue
            said, asked = bool(ok[:, columns[step.key]].any()), step.key_question in covered
            tp, fp, fn = tp + (said and asked), fp + (said and not asked), fn + (asked and not said)
    return {k: v for k, v in _prf(tp, fp, fn).items() if k in ("precision", "recall", "f1")}
