"""The figures of ``talktrack eval chat-features`` on cases whose answer is known: the paired bootstrap
of two scorers' holdout difference, and one feature's own AUC."""

from __future__ import annotations

import numpy as np

from talktrack.evaluation.models.chat_features import _single_auc, paired_bootstrap


def test_the_same_scores_differ_by_nothing_and_a_perfect_one_gains_its_whole_margin():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    noise = rng.random(300)
    same = paired_bootstrap(y, noise, noise, draws=200)
    assert same["auc"] == 0 and same["auc_ci95"] == [0, 0] and same["log_loss"] == 0
    perfect = np.where(y == 1, 0.9, 0.1)
    gain = paired_bootstrap(y, noise, perfect, draws=200)
    assert gain["auc"] > 0.4 and gain["auc_ci95"][0] > 0.3    # from ~0.5 to 1.0
    assert gain["log_loss"] < 0 and gain["log_loss_ci95"][1] < 0


def test_one_feature_auc_fills_unknowns_and_skips_constants():
    y = np.array([0, 0, 1, 1])
    assert _single_auc(np.array([1.0, 2.0, 3.0, 4.0]), y) == 1.0
    assert _single_auc(np.array([1.0, np.nan, 3.0, 4.0]), y) == 0.875   # NaN at the median (3): ties a winner
    assert _single_auc(np.array([np.nan] * 4), y) is None
    assert _single_auc(np.array([0.0] * 4), y) is None
