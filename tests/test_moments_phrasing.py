"""The moment detector on hand-written real phrasing (evaluation/real_phrasing, test split), with the
real multilingual embedder: the sets are well formed, the zero-shot detector's recall and false flags
stay where they were measured, and dev items given as coach labels help on the unseen test items."""

from __future__ import annotations

from collections import Counter

import pytest

from talktrack.core.workspace import Workspace
from talktrack.evaluation import real_phrasing
from talktrack.evaluation.semantic.moments_phrasing import (NON_OBJECTIONS, OBJECTIONS, _auc, coach_curve,
                                                             coach_labels, dev_threshold, evaluate_phrasing,
                                                             labels_to_target, phrasing_items)


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



def test_coach_curve_chooses_its_threshold_on_the_dev_items_it_was_not_given(settings, embedder):
    point, = coach_curve(settings, embedder, [], sizes=(400,))
    assert point["coach_labels"] == 400
    held = point["at_held_out_dev_threshold"]
    assert held["threshold"] > point["threshold"], held["threshold"]
    for language in ("en", "zh"):
        row, loose = held[language], point[language]
        # measured (taxonomy + 400 dev labels, threshold from the other 403 dev items): see HELD_OUT_MEASURED;
        # the threshold trades recall for false flags, it never adds flags
        assert row["false_flags"] <= min(loose["false_flags"], HELD_OUT_MEASURED[language][1] + 0.04), (language, row)
        assert row["flagged"] >= HELD_OUT_MEASURED[language][0] - 0.07, (language, row)
        assert row["roc_auc"] == loose["roc_auc"] and 0.5 < row["roc_auc"] < 1.0, (language, row)


def test_labels_to_target_is_the_first_point_meeting_every_target_and_auc_ranks():
    miss = {"flagged": 0.5, "false_flags": 0.04, "type_top1": 0.95}
    hit = {"flagged": 0.92, "false_flags": 0.05, "type_top1": 0.9}
    curve = [{"coach_labels": 0}, {"coach_labels": 100, "at_held_out_dev_threshold": {"en": hit, "zh": miss}},
             {"coach_labels": 200, "at_held_out_dev_threshold": {"en": hit, "zh": hit}}]
    assert labels_to_target(curve) == 200
    assert labels_to_target(curve[:2]) is None
    assert _auc([0.9, 0.8], [0.1, 0.2]) == 1.0 and _auc([0.1], [0.9]) == 0.0 and _auc([0.5], [0.5]) == 0.5
    assert _auc([], [0.3]) is None


# (flagged, false flags, type top-1) on the test split, measured 2026-12-07 with the bundled taxonomy
# and multilingual USE: zero-shot, and zero-shot plus every dev item as a coach label (weight 5).
ZERO_SHOT_MEASURED = {"en": (0.400, 0.098, 0.678), "zh": (0.368, 0.127, 0.600)}
COACHED_MEASURED = {"en": (0.626, 0.246, 0.644), "zh": (0.728, 0.237, 0.680)}
# (flagged, false flags) on the test split at the threshold chosen on the 403 dev items not given as
# labels, taxonomy + 400 seeded dev items as coach labels (measured 2026-12-08).
HELD_OUT_MEASURED = {"en": (0.348, 0.082), "zh": (0.416, 0.085)}
