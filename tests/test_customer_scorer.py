"""The customer/deal scorer: the estimator contract, conversation and deal features without
leaks from the future, training on a generated world, reasons in words."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks
from sqlalchemy import select, update

from talktrack.core.catalog.schema import Call, Deal, StageEvent, SurveyScore
from talktrack.evaluation.models.customer import ece_noise
from talktrack.models.customer_scorer import ISOTONIC_MIN_ROWS, CustomerScorer, calibration_method
from talktrack.models.features.conversation import CallFrames, call_features
from talktrack.models.features.deal import build_deal_table, reason_text, stage_info
from talktrack.training.customer import (choose_family, prefer_simpler, selection_folds, time_split,
                                         train_customer)
from talktrack.training.customer_pyfunc import score_frame

# ---------------------------------------------------------------- the estimator contract


@parametrize_with_checks([
    CustomerScorer(estimator="logistic", cv=2, random_state=0),
    CustomerScorer(estimator="boosting", max_iter=10, min_samples_leaf=2, calibration="sigmoid", cv=2,
                   random_state=0),
], expected_failed_checks=lambda est: {})
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_bad_parameters_and_targets_are_refused_with_the_reason():
    X, y = np.random.default_rng(0).normal(size=(40, 3)), np.tile([0, 1], 20)
    with pytest.raises(ValueError, match="estimator='forest'"):
        CustomerScorer(estimator="forest").fit(X, y)
    with pytest.raises(ValueError, match="Only binary classification"):
        CustomerScorer().fit(X, np.tile([0, 1, 2, 3], 10))


def test_a_column_without_any_value_is_ignored_not_fatal():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(size=200), np.full(200, np.nan)])
    y = (X[:, 0] + rng.normal(scale=0.5, size=200) > 0).astype(int)
    for family in ("logistic", "boosting"):
        scorer = CustomerScorer(estimator=family, random_state=0).fit(X, y)
        assert scorer.usable_.tolist() == [True, False]
        assert np.all(scorer.contributions(X)[:, 1] == 0)
        assert roc_auc_score(y, scorer.predict_proba(X)[:, 1]) > 0.8


def _logistic_world(rng, n):
    """Rows with a known true win probability (a logistic model of 4 of 6 features)."""
    X = rng.normal(size=(n, 6))
    p = 1 / (1 + np.exp(-(X @ np.array([1.0, -0.8, 0.6, 0.4, 0.0, 0.0]) + 0.2)))
    return X, (rng.random(n) < p).astype(int), p


def test_auto_calibration_uses_a_sigmoid_on_deal_sized_data_and_comes_closer_to_the_truth():
    rng = np.random.default_rng(0)
    X, y, _ = _logistic_world(rng, 1700)   # as many as an unseen 3000-deal world trains on
    X_new, _, p_true = _logistic_world(rng, 5000)
    auto = CustomerScorer(random_state=0).fit(X, y)
    isotonic = CustomerScorer(calibration="isotonic", random_state=0).fit(X, y)
    assert (auto.calibration_, isotonic.calibration_) == ("sigmoid", "isotonic")
    off = {name: float(np.mean(np.abs(model.predict_proba(X_new)[:, 1] - p_true)))
           for name, model in (("auto", auto), ("isotonic", isotonic))}
    # measured: 0.014 vs 0.027 mean |p − true p| (isotonic on 340-row folds is a coarse staircase)
    assert off["auto"] < 0.8 * off["isotonic"], off


def test_auto_calibration_keeps_isotonic_for_large_folds_and_explicit_methods_stand():
    assert calibration_method("auto", ISOTONIC_MIN_ROWS - 1) == "sigmoid"
    assert calibration_method("auto", ISOTONIC_MIN_ROWS) == "isotonic"
    assert calibration_method("isotonic", 10) == "isotonic" and calibration_method("none", 10**6) == "none"
    tiny = CustomerScorer(cv=5).fit(np.arange(6.0).reshape(-1, 1), [0, 0, 0, 0, 1, 1])   # 2 wins: 2 folds
    assert tiny.calibration_ == "sigmoid"
    one = CustomerScorer().fit(np.arange(6.0).reshape(-1, 1), [0, 0, 0, 0, 0, 1])        # 1 win: no folds
    assert one.calibration_ == "none" and one.calibrated_ is None


def test_the_ece_noise_of_a_holdout_tells_a_calibrated_scorer_from_a_shifted_one():
    rng = np.random.default_rng(3)
    p_true = rng.uniform(0.05, 0.95, 820)            # an unseen world's holdout size
    y = (rng.random(820) < p_true).astype(int)
    calibrated = ece_noise(y, p_true, p_true, draws=300)
    shifted = ece_noise(y, np.clip(p_true + 0.08, 0, 1), p_true, draws=300)
    # a perfectly calibrated scorer averages an ECE of ~0.035 on 820 deals: above a 0.03 target
    assert 0.025 < calibrated["bayes_if_calibrated"]["mean"] < 0.045
    assert calibrated["p_value"] > 0.05 and shifted["p_value"] < 0.01
    low, high = shifted["ece_ci95"]
    assert low < 0.08 < high


# ---------------------------------------------------------------- conversation features


def _frames(rows, moments=()):
    utterances = pd.DataFrame(rows, columns=["call_id", "seq", "role", "start_s", "end_s", "text"])
    moment_frame = pd.DataFrame(list(moments), columns=["call_id", "seq", "kind", "label"])
    calls = pd.DataFrame({"deal_id": [1], "rep_id": [1], "started_at": [None], "stage": ["negotiation"],
                          "language": ["en"]}, index=pd.Index([1], name="call_id"))
    tracks = pd.DataFrame({"objection_type": ["price"], "moves": [("confirm_timeline", "offer_installments")],
                           "status": ["approved"]})
    return CallFrames(utterances, moment_frame, calls, tracks)


def test_conversation_features_of_a_small_call():
    rows = [
        (1, 0, "rep", 0.0, 10.0, "Hello. What made you look at this now?"),
        (1, 1, "customer", 11.0, 20.0, "The budget is tight."),
        (1, 2, "rep", 19.0, 25.0, "When do you plan to buy? Is it this quarter?"),
        (1, 3, "rep", 25.5, 30.0, "We can split it into installments."),
        (1, 4, "customer", 32.0, 40.0, "OK."),
        (1, 5, "rep", 42.0, 60.0, "Great."),
    ]
    moments = [(1, 1, "objection", "price"), (1, 2, "move", "confirm_timeline"),
               (1, 3, "move", "offer_installments"), (1, 5, "key_question", "budget")]
    row = call_features(_frames(rows, moments), {"negotiation": ["budget", "payment_terms"]}).loc[1]
    assert row["talk_ratio"] == pytest.approx(38.5 / 55.5)
    assert row["longest_monologue_s"] == pytest.approx(18.0)            # 42 -> 60 (19 -> 30 is 11)
    assert row["questions_per_min"] == pytest.approx(3 / 1.0)           # 3 questions, 60 s
    assert row["open_question_share"] == pytest.approx(2 / 3)           # what, when vs is-it
    assert row["interactivity"] == pytest.approx(4.0)
    assert row["patience_s"] == pytest.approx(1.0)                      # median of the gaps 0 (overlap) and 2
    assert row["interruptions_per_min"] == pytest.approx(1.0)           # the rep started at 19 before 20
    assert row["objections"] == 1 and row["objections_answered"] == 1.0
    assert row["approved_track_uses"] == 1 and row["mined_track_uses"] == 0
    assert row["key_question_coverage"] == 0.5
    # the turn features the capability model adds (the same call, the same question definition)
    assert row["questions_per_turn"] == pytest.approx(3 / 4)            # 3 questions over 4 rep turns
    assert row["early_questions"] == 1                                  # turns 0-1 of 6 are the first quarter
    assert row["echo_share"] == 0.0                                     # "budget is tight" is not taken up
    assert row["rep_turn_chars"] == pytest.approx((38 + 44 + 34 + 6) / 4)
    assert row["minutes"] == pytest.approx(1.0)


def test_a_rep_turn_that_takes_up_the_customers_words_is_an_echo():
    rows = [(1, 0, "customer", 0.0, 5.0, "Our response time is about 22 hours, which led to 83 complaints."),
            (1, 1, "rep", 6.0, 9.0, "So 22 hours response time and 83 complaints. That's significant."),
            (1, 2, "customer", 10.0, 12.0, "Yes."), (1, 3, "rep", 13.0, 15.0, "Let me show you the dashboard.")]
    row = call_features(_frames(rows), {}).loc[1]
    assert row["echo_share"] == 0.5 and row["questions_per_turn"] == 0.0


def test_without_moments_the_moment_features_are_unknown_not_zero():
    rows = [(1, 0, "rep", 0.0, 5.0, "Hi?"), (1, 1, "customer", 6.0, 9.0, "Hi.")]
    row = call_features(_frames(rows), {}).loc[1]
    assert np.isnan(row["objections"]) and np.isnan(row["approved_track_uses"])
    assert row["talk_ratio"] == pytest.approx(5 / 8)


# ---------------------------------------------------------------- deal features: nothing from the future


def _closed_deal(catalog):
    with catalog.session() as session:
        deal = session.scalars(select(Deal).where(Deal.status == "won").order_by(Deal.id)).first()
        return deal.external_id, deal.id, deal.closed_at


def test_features_never_use_anything_after_the_cutoff(fresh_semantic_workspace):
    settings, _, catalog = fresh_semantic_workspace
    deal_id, deal_pk, closed_at = _closed_deal(catalog)
    before = build_deal_table(catalog, settings, deal_ids=[deal_id]).features.loc[deal_id]
    later = closed_at + timedelta(days=3)
    with catalog.session() as session:   # the future: a later stage event, a later call, a later survey
        session.add(StageEvent(deal_id=deal_pk, stage="negotiation", entered_at=later))
        session.execute(update(StageEvent).where(StageEvent.deal_id == deal_pk, StageEvent.stage == "contract_delivery")
                        .values(entered_at=later + timedelta(days=1)))
        call = session.scalars(select(Call).where(Call.deal_id == deal_pk)).first()
        if call is not None:
            call.started_at = later
        rep = session.get(Deal, deal_pk).rep_id
        session.execute(update(SurveyScore).where(SurveyScore.rep_id == rep,
                                                  SurveyScore.period >= f"{closed_at:%Y-%m}").values(score=1.0))
    after = build_deal_table(catalog, settings, deal_ids=[deal_id]).features.loc[deal_id]
    changed = (before.fillna(-999) != after.fillna(-999))
    if call is not None:   # moving a call past the cut-off removes it: the only change allowed
        changed &= ~changed.index.str.startswith(("calls", "conv__"))
    assert not changed.any(), f"features changed by events after the cut-off: {list(changed.index[changed])}"

    with catalog.session() as session:   # the test can fail: an earlier change does show
        first = session.scalars(select(StageEvent).where(StageEvent.deal_id == deal_pk, StageEvent.stage == "lead")).one()
        first.entered_at -= timedelta(days=20)
    moved = build_deal_table(catalog, settings, deal_ids=[deal_id]).features.loc[deal_id]
    assert moved["days__lead"] == pytest.approx(before["days__lead"] + 20)


def test_the_split_is_by_time(semantic_workspace):
    settings, _, catalog = semantic_workspace
    table = build_deal_table(catalog, settings)
    split = time_split(table.meta, settings.training.holdout_months)
    closes = pd.to_datetime(table.meta["closed_at"])
    assert split.train.sum() > 0 and split.holdout.sum() > 0
    assert closes[split.train].max() < split.cutoff <= closes[split.holdout].min()
    assert not (split.train & split.holdout).any()
    assert table.meta["label"][~(split.train | split.holdout)].isna().all()   # open deals are neither


# ---------------------------------------------------------------- choosing the estimator family


def _monthly_meta(months, per_month, rng):
    """A deal table's meta: ``per_month`` closes in each of ``months`` months, labels at random."""
    closes = [pd.Timestamp("2025-01-01") + pd.DateOffset(months=m) + pd.Timedelta(days=int(d))
              for m in range(months) for d in rng.integers(0, 28, per_month)]
    return pd.DataFrame({"closed_at": closes, "label": rng.integers(0, 2, len(closes)).astype(float)})


def test_selection_folds_validate_each_of_the_last_months_on_the_months_before():
    rng = np.random.default_rng(0)
    meta = _monthly_meta(7, 30, rng)
    train, y = np.ones(len(meta), bool), meta["label"].to_numpy()
    train[-30:] = False                                    # the 7th month is the holdout's
    folds = selection_folds(meta, train, y)
    month = meta["closed_at"].dt.to_period("M")
    assert [str(month[v].iloc[0]) for _, v in folds] == ["2025-03", "2025-04", "2025-05", "2025-06"]
    for fit, validate in folds:
        assert month[validate].nunique() == 1 and not (validate & ~train).any()
        assert (fit == (train & (month < month[validate].iloc[0]).to_numpy())).all()   # every earlier month
    lost_early = np.where(month < pd.Period("2025-03"), 0.0, y)   # nothing won before March: no model to fit
    assert [str(month[validate].iloc[0]) for _, validate in selection_folds(meta, train, lost_early)] == \
        ["2025-04", "2025-05", "2025-06"]
    one_month = meta.assign(closed_at=pd.Timestamp("2025-03-01"))
    (fit, validate), = selection_folds(one_month, train, y)   # no earlier month: the latest 20 % validate
    assert validate.sum() == round(train.sum() * 0.2) and not (fit & validate).any()


def test_a_near_tie_keeps_the_simpler_family():
    # the last four monthly folds of the unseen world of seed 43: boosting's mean is lower by 0.0001,
    # the folds disagree by ±0.016; logistic kept scores holdout AUC 0.788 where boosting scored 0.772
    folds = {"boosting": [0.5751, 0.5620, 0.5036, 0.6063], "logistic": [0.5504, 0.5744, 0.4778, 0.6449]}
    family, record = prefer_simpler(folds)
    assert family == "logistic"
    assert 0 < record["validation_margin__boosting"] < record["validation_margin_se__boosting"]
    assert record["validation_log_loss__boosting"] < record["validation_log_loss__logistic"]
    clear = {"boosting": [loss - 0.02 for loss in folds["logistic"]], "logistic": folds["logistic"]}
    assert prefer_simpler(clear)[0] == "boosting"   # a win on every fold is no tie
    one_fold = {"boosting": [0.50], "logistic": [0.51]}
    assert prefer_simpler(one_fold)[0] == "boosting"   # one fold gives no noise estimate: the lower loss wins


def _interaction_world(rng, n):
    """Rows whose win probability hangs on the sign of x0·x1: nothing a linear model can see."""
    X = rng.normal(size=(n, 4))
    p = np.where(X[:, 0] * X[:, 1] > 0, 0.85, 0.15)
    return X, (rng.random(n) < p).astype(int)


def test_boosting_is_chosen_only_when_it_beats_logistic_by_more_than_the_fold_noise(settings):
    rng = np.random.default_rng(4)
    meta = _monthly_meta(6, 150, rng)
    train = np.ones(len(meta), bool)
    X, y, _ = _logistic_world(rng, len(meta))
    family, record = choose_family(settings, X, y, selection_folds(meta, train, y))
    # a linear truth: boosting loses (measured 0.558 vs 0.532 mean log-loss)
    assert family == "logistic" and record["validation_folds"] == 4
    assert record["validation_margin__boosting"] <= record["validation_margin_se__boosting"]
    X, y = _interaction_world(rng, len(meta))
    family, record = choose_family(settings, X, y, selection_folds(meta, train, y))
    # measured: logistic 0.697 (a coin's 0.693) vs boosting 0.510, margin 0.186 ± 0.010
    assert family == "boosting"
    assert record["validation_margin__boosting"] > 3 * record["validation_margin_se__boosting"] > 0
    assert record["validation_log_loss__logistic"] > 0.65 > record["validation_log_loss__boosting"]


# ---------------------------------------------------------------- training on a generated world


@pytest.fixture(scope="module")
def trained(semantic_workspace):
    settings, workspace, catalog = semantic_workspace
    return train_customer(catalog, settings, workspace, register=False)


def test_the_scorer_beats_a_trivial_baseline(trained, semantic_truth):
    y = trained.table.meta.loc[trained.holdout_p.index, "label"].to_numpy()
    auc = roc_auc_score(y, trained.holdout_p.to_numpy())
    bayes = roc_auc_score(y, [semantic_truth["deals"][d]["p_win"] for d in trained.holdout_p.index])
    # measured on this 200-deal world (seed 5): AUC 0.738 vs a constant's 0.5 and Bayes 0.893
    # (true p_win) on the same holdout; ~100 training deals leave the gap that 1748 close to 0.024
    assert auc >= 0.5 + 0.15, f"holdout AUC {auc:.3f} (Bayes {bayes:.3f})"
    assert auc < bayes
    assert trained.metrics["holdout_ece"] < 0.25
    selection = trained.params["selection"]   # the family was chosen on four monthly folds, all recorded
    assert selection["validation_folds"] == 4 and trained.estimator.estimator == "logistic"
    assert {"validation_log_loss__logistic", "validation_margin_se__boosting"} <= set(selection)


def test_a_retrain_on_the_same_data_and_seed_gives_the_same_metrics(trained, semantic_workspace):
    settings, workspace, catalog = semantic_workspace
    again = train_customer(catalog, settings, workspace, register=False)
    assert again.metrics == trained.metrics
    assert again.estimator.get_params() == trained.estimator.get_params()


def test_reasons_are_words_a_manager_reads(trained, semantic_workspace):
    settings = semantic_workspace[0]
    config = {"features": list(trained.table.features.columns), "tiers": settings.customer_tiers.model_dump(),
              "stages": stage_info(settings), "top_reasons": 3}
    scored = score_frame(trained.estimator, config, trained.table.features.head(20))
    assert set(scored["tier"]) <= {"A", "B", "C"}
    for reasons in scored["reasons"].map(json.loads):
        assert len(reasons) == 3
        for reason in reasons:
            assert reason["direction"] in {"raises", "lowers"}
            assert "__" not in reason["text"] and any(ch.isalpha() for ch in reason["text"])


def test_reason_texts():
    stages = {"negotiation": ("Negotiation", 7.0)}
    assert reason_text("days__negotiation", 12.2, stages) == "stalled 12 days in negotiation (threshold 7)"
    assert reason_text("days__negotiation", 3.0, stages) == "3 days in negotiation (threshold 7)"
    assert reason_text("log1p_open_positions", np.log1p(14), stages) == "customer hiring: 14 open positions"
    assert reason_text("stalled_any", 1.0, stages, {"days__negotiation": 12.0}) == \
        "stalled 12 days in negotiation (threshold 7)"


@pytest.mark.slow   # starts Ray and runs two trials: ~30 s on 2 busy cores
def test_tuning_logs_every_trial_as_a_nested_run(fresh_semantic_workspace):
    import mlflow

    from talktrack.pipelines.ingest.ray_runtime import start_ray, stop_ray
    from talktrack.training import registry

    settings, workspace, catalog = fresh_semantic_workspace
    settings = settings.model_copy(update={"ray": settings.ray.model_copy(update={"num_cpus": 2})})
    start_ray(settings.ray)
    try:
        result = train_customer(catalog, settings, workspace, tune_trials=2)
    finally:
        stop_ray()
    assert len(result.trials) == 2 and result.promotion.promoted
    registry.open_tracking(settings, workspace)
    runs = mlflow.search_runs(experiment_names=["customer-scorer"])
    children = runs[runs["tags.mlflow.parentRunId"] == result.promotion.run_id]
    assert len(children) == 2
    assert children["metrics.validation_log_loss"].notna().all()
    assert set(children.filter(like="params.model__").columns) >= {"params.model__estimator", "params.model__C"}
