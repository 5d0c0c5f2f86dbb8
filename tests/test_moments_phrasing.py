"""The moment detector on hand-written real phrasing (evaluation/real_phrasing, test split), with the
real multilingual embedder: the sets are well formed, the zero-shot detector's recall and false flags
stay where they were measured, and dev items given as coach labels help on the unseen test items."""

from __future__ import annotations

from collections import Counter

import pytest

from talktrack.core.workspace import Workspace
from talktrack.evaluation import real_phrasing
from talktrack.evaluation.semantic.moments_phrasing import (NON_OBJECTIONS, OBJECTIONS, coach_labels,
                                                             dev_threshold, evaluate_phrasing, phrasing_items)


@pytest.fixture(scope="module")
def embedder(settings, tmp_path_factory):
    from talktrack.pipelines.semantic.moments import moment_embedder

    return moment_embedder(settings, Workspace.at(tmp_path_factory.mktemp("phrasing-embed")).ensure())


@pytest.fixture(scope="module")
def zero_shot_figures(settings, embedder) -> dict:
    from talktrack.pipelines.semantic.moments import fit_detector

    return evaluate_phrasing(fit_detector(settings, embedder), "test")


def test_sets_hold_300_sentences_per_language_split_dev_and_test(settings):
    for name in (OBJECTIONS, NON_OBJECTIONS):
        items = real_phrasing.load(name)
        per_language = Counter(item["lang"] for item in items)
        assert per_language["en"] >= 300 and per_language["zh"] >= 300 and per_language["mixed"] >= 20, per_language
        test_share = sum(item["split"] == "test" for item in items) / len(items)
        assert 0.3 <= test_share <= 0.45, test_share
    types = Counter((item["lang"], item["type"]) for item in real_phrasing.load(OBJECTIONS))
    for language in ("en", "zh"):
        assert all(types[(language, key)] >= 40 for key in settings.objection_keys), types
    assert {item["type"] for item in real_phrasing.load(NON_OBJECTIONS)} == {"none"}
    texts = [item["text"] for item in phrasing_items("dev") + phrasing_items("test")]
    assert len(set(texts)) == len(texts), "a sentence is in the sets twice"


def test_zero_shot_recall_and_false_flags_on_the_test_split(zero_shot_figures):
    # measured (taxonomy only, flag on P(any objection) >= 0.5): see ZERO_SHOT_MEASURED
    for language, (flagged, false_flags, top1) in ZERO_SHOT_MEASURED.items():
        row = zero_shot_figures[language]
        assert row["flagged"] >= flagged - 0.05, (language, row)
        assert row["false_flags"] <= false_flags + 0.04, (language, row)
        assert row["type_top1"] >= top1 - 0.05, (language, row)


def test_dev_items_as_coach_labels_raise_recall_and_type_on_unseen_test_items(settings, embedder,
                                                                              zero_shot_figures):
    from talktrack.pipelines.semantic.moments import fit_detector

    coached = evaluate_phrasing(fit_detector(settings, embedder, coach_labels(phrasing_items("dev"))), "test")
    for language in ("en", "zh"):
        before, after = zero_shot_figures[language], coached[language]
        # measured: flagged +0.23 (en) / +0.36 (zh); the price is more false flags (see COACHED_MEASURED)
        assert after["flagged"] >= before["flagged"] + 0.15, (language, before, after)
        assert after["false_flags"] <= COACHED_MEASURED[language][1] + 0.04, (language, after)
        assert after["type_top1"] >= COACHED_MEASURED[language][2] - 0.05, (language, after)


def test_threshold_chosen_on_dev_holds_false_flags_on_test(settings, embedder):
    from talktrack.pipelines.semantic.moments import fit_detector

    detector = fit_detector(settings, embedder)
    threshold = dev_threshold(detector)
    assert threshold > detector.objection_threshold, threshold   # measured 0.785: 0.5 flags 10-13 % on dev
    dev, test = evaluate_phrasing(detector, "dev", threshold), evaluate_phrasing(detector, "test", threshold)
    for language in ("en", "zh"):
        assert dev[language]["false_flags"] <= 0.05, (language, dev[language])
        # measured on test: false flags 0.057 / 0.042, flagged 0.226 / 0.208 (en / zh): fewer false
        # flags cost recall, the bundled encoder cannot separate the two (see bench real-phrasing)
        assert test[language]["false_flags"] <= 0.09, (language, test[language])
        assert test[language]["flagged"] >= 0.15, (language, test[language])


# (flagged, false flags, type top-1) on the test split, measured 2026-12-07 with the bundled taxonomy
# and multilingual USE: zero-shot, and zero-shot plus every dev item as a coach label (weight 5).
ZERO_SHOT_MEASURED = {"en": (0.400, 0.098, 0.678), "zh": (0.368, 0.127, 0.600)}
COACHED_MEASURED = {"en": (0.626, 0.246, 0.644), "zh": (0.728, 0.237, 0.680)}
