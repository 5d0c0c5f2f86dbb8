"""Process health on the semantic world (seed 5) with its true moments: key actions, stage durations
and solution match agree with the world's truth; the funnel per month adds up to the stage funnel;
efficiency is its three factors multiplied, each made of what the catalog holds.

The diagnosis factor reads key-question coverage through a coverage function; here it is the world's
truth (what each call's rep really asked), so these tests check the bookkeeping; how far the SOP
check's coverage is from it is measured by ``talktrack process-health evaluate`` (README).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from talktrack.core.config import ConfigError, load_settings
from talktrack.evaluation.process_health import evaluate_process_health
from talktrack.evaluation.semantic.oracle import write_truth_moments
from talktrack.models.features.deal import latest_event
from talktrack.pipelines import stage_timers
from talktrack.pipelines.management import process_health as ph


@pytest.fixture(scope="module")
def health_world(tmp_path_factory, semantic_workspace, semantic_world):
    """A private copy of the semantic workspace with the world's true moments written."""
    import shutil

    from tests.conftest import _open_workspace

    settings, source, _ = semantic_workspace
    root = tmp_path_factory.mktemp("health") / "ws"
    shutil.copytree(source.root, root)
    settings, workspace, catalog = _open_workspace(root, settings)
    write_truth_moments(semantic_world, catalog)
    yield settings, catalog
    catalog.dispose()


@pytest.fixture(scope="module")
def truth_coverage(semantic_truth):
    def covered(call_ids):
        return {c: set(semantic_truth["calls"][c]["key_questions"]["covered"]) for c in call_ids}

    return covered


@pytest.fixture(scope="module")
def graded(health_world, semantic_world, truth_coverage):
    settings, catalog = health_world
    return evaluate_process_health(semantic_world, catalog, settings, truth_coverage)


def test_key_actions_agree_with_the_world_deal_by_deal(graded, health_world):
    settings, _ = health_world
    actions = graded["key_actions"]
    assert set(actions) == {a.key for a in settings.process_health.key_actions}
    for key, row in actions.items():
        assert row["deals"] > 50 and row["agreement"] == 1.0, key   # bookkeeping: exact with true moments
        assert row["rate"] == row["true_rate"], key
    assert actions["roi_after_presentation"]["rate"] == 0.0       # the world sends no ROI calculations
    assert 0 < actions["proposal_after_presentation"]["rate"] < 1  # measured 0.62 on seed 5


def test_stage_durations_match_the_planned_ones(graded):
    durations = graded["stage_durations"]
    assert durations["stages_compared"] > 500
    assert durations["max_error_days"] < 0.001   # planned days are written to 3 decimals (measured 0.0003)


def test_solution_match_and_diagnosis_follow_the_truth_they_read(graded):
    assert graded["solution_match"]["calls"] > 50 and graded["solution_match"]["per_call_agreement"] == 1.0
    assert graded["diagnosis_accuracy"]["per_call_mae"] == 0.0   # coverage read from the truth itself
    assert any(row["ours"] < 1 for row in graded["solution_match"]["rows"])  # misfit objections do occur


def test_the_monthly_funnel_adds_up_to_the_stage_funnel(health_world):
    settings, catalog = health_world
    as_of = latest_event(catalog)
    report = ph.process_health(catalog, settings, coverage=lambda ids: {}, team="TEAM-01", as_of=as_of, months=4)
    first = datetime.fromisoformat(report["months"][0] + "-01")
    whole = stage_timers.stage_funnel(catalog, settings, "TEAM-01", since=first)
    monthly = [sum(f["stages"][k]["reached"] for f in report["funnel"]) for k in range(len(settings.stages))]
    assert monthly == [row["reached"] for row in whole["stages"]] and monthly[0] > 0
    assert {f["team"] for f in report["funnel"]} == {"TEAM-01"}


def test_efficiency_is_the_product_of_its_factors(health_world, truth_coverage):
    settings, catalog = health_world
    as_of = latest_event(catalog)
    report = ph.process_health(catalog, settings, coverage=truth_coverage, as_of=as_of, months=3)
    frames = ph.load_frames(catalog)
    reps = frames.reps[frames.reps["role"] == "rep"]
    for row in report["efficiency"]:
        team_reps = reps[reps["team"] == row["team"]]
        start = np.datetime64(np.datetime64(row["month"], "M"), "D")
        end = np.datetime64(np.datetime64(row["month"], "M") + 1, "D")
        if row["month"] == as_of.strftime("%Y-%m"):   # the current month counts up to as_of's day
            end = np.datetime64(as_of.date(), "D") + 1
        days = [np.busday_count(start if h is None else max(start, np.datetime64(h, "D")), end)
                for h in team_reps["hired_at"]]
        assert row["working_hours"] == pytest.approx(8.0 * sum(max(d, 0) for d in days))
        assert row["touches_per_hour"] == pytest.approx(row["effective_touches"] / row["working_hours"], abs=1e-4)
        factors = (row["touches_per_hour"], row["diagnosis_accuracy"], row["solution_match"])
        if None in factors:
            assert row["efficiency"] is None
        else:
            assert row["efficiency"] == pytest.approx(np.prod(factors), abs=2e-4) and row["efficiency"] > 0


def test_a_factor_without_calls_is_unknown_not_zero(health_world):
    settings, catalog = health_world
    report = ph.process_health(catalog, settings, coverage=lambda ids: {}, as_of=datetime(2024, 6, 30), months=1)
    assert report["efficiency"] and all(r["diagnosis_accuracy"] is None and r["efficiency"] is None
                                        for r in report["efficiency"])


def test_bad_key_actions_are_refused_with_their_name(health_world):
    with pytest.raises(ConfigError, match="after_stage"):
        load_settings(overrides={"process_health": {"key_actions": [
            {"key": "x", "name_en": "X", "name_zh": "X", "after_stage": "demo", "within_h": 1, "evidence": ["proposal"]}]}})
    settings = load_settings(overrides={"process_health": {"key_actions": [
        {"key": "typo", "name_en": "X", "name_zh": "X", "after_stage": "negotiation", "within_h": 1,
         "evidence": ["propsal"]}]}})
    _, catalog = health_world
    with pytest.raises(ValueError, match="typo.*propsal"):
        ph.process_health(catalog, settings, coverage=lambda ids: {})


def test_a_catalog_without_moments_still_gets_its_key_actions(health_world):
    """A deployment whose calls were never labelled (no moment rows) answers from evidence alone:
    the moment-backed actions are all undone, not a KeyError (was a 500 from the API)."""
    import dataclasses

    settings, catalog = health_world
    frames = ph.load_frames(catalog)
    bare = dataclasses.replace(frames, moments=frames.moments.iloc[0:0])
    as_of = frames.events["entered_at"].max().to_pydatetime()
    with_moments, without = ph.key_action_flags(frames, settings, as_of), ph.key_action_flags(bare, settings, as_of)
    assert len(without) == len(with_moments) > 0
    moment_only = {a.key for a in settings.process_health.key_actions if a.moments and not a.evidence}
    done = without[without["action"].isin(moment_only)]["status"]
    assert moment_only and (done != "done").all()
    assert (with_moments[with_moments["action"].isin(moment_only)]["status"] == "done").any()
