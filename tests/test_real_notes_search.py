"""Field notes and search graded on hand-written real phrasing (evaluation/real_phrasing), test splits.

Real models: the zero-shot moment detector (the one a service uses before any training) in the
multilingual USE space, and the bundled embedders behind the utterance index. The bounds sit a
little under the figures measured on this machine (written next to each), so they fail when
extraction or search gets worse, not when a run is noisy.
"""

from __future__ import annotations

import pytest

from talktrack.evaluation.semantic.real_notes import evaluate_real_notes
from talktrack.evaluation.semantic.real_search import evaluate_real_search


@pytest.fixture(scope="module")
def zero_shot(settings):
    from talktrack.pipelines.semantic.moments import fit_detector, moment_embedder

    return fit_detector(settings, moment_embedder(settings, None))


def test_field_notes_on_held_out_notes(zero_shot):
    report = evaluate_real_notes(zero_shot, split="test")["by_language"]
    # measured (2026-12-08, bench/results/real_phrasing.json "field_notes"): field F1 0.834 en (20 notes) /
    # 0.877 zh (44 notes); people 0.81 / 0.83, titles 0.93 / 0.87, next-action date 1.0 / 1.0, objections
    # 0.54 / 0.88 -- English below the 0.85. Before the dev rounds fn-*-111..155: 0.793 / 0.838
    assert report["en"]["field_f1"] >= 0.8 and report["zh"]["field_f1"] >= 0.85, report
    for language in ("en", "zh"):
        assert report[language]["fields"]["next_action_date"]["f1"] >= 0.95, language
    # the notes of today's extractor (no people, no titles) scored 0.26 en / 0.25 zh on the first 60+60 notes


def test_field_notes_on_dev_notes_read_everything(zero_shot):
    report = evaluate_real_notes(zero_shot, split="dev")["by_language"]
    # measured: 0.983 en (123 notes) / 0.988 zh (89 notes): the rules were written on these notes. Each later
    # round was read before the rules saw it: fn-*-111..135 at 0.79 en / 0.72 zh, fn-*-136..145 at 0.65 / 0.85,
    # fn-*-146..155 at 0.71 / 0.77 -- what fresh notes get, as the test split says
    assert all(report[language]["field_f1"] >= 0.95 for language in ("en", "zh")), report


def test_search_finds_answers_in_the_other_language(settings, tmp_path):
    report = evaluate_real_search(settings, tmp_path, split="test")["by_language"]
    # measured (test queries, 10 answers each, half in the other language): recall@10 0.46 en / 0.44 zh,
    # other-language answers 0.32 / 0.30; one space per query language found 0.34 / 0.35 and none of the
    # other language
    for language in ("en", "zh"):
        assert report[language]["recall_at_10"] >= 0.4, report[language]
        assert report[language]["other_language_recall"] >= 0.2, report[language]
