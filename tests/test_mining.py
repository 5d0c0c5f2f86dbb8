"""Talk-track mining: the statistics on data with a known answer, episodes, storage and review.

Recovery of the planted tracks of a full-size world is graded by ``talktrack eval semantic``
(too slow for the suite); here the pieces are checked on simulated data whose truth is set
by the test, and the whole run on the small session world with its true moments.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from talktrack.pipelines.mining.episodes import Line, find_episodes, fold_repeats
from talktrack.pipelines.mining.patterns import candidate_patterns, is_subsequence, subsequences
from talktrack.pipelines.mining.stats import (
    bonferroni_z,
    difference_interval,
    fit_adjusted_logit,
    forward_select,
    wilson_interval,
)


def test_every_mining_option_comes_from_the_settings_and_a_flag_overrides_one():
    """MiningOptions once declared 8 defaults of its own beside the 5 settings; now the settings are the
    only source, so a --config or TALKTRACK_SEMANTIC__MINING__* value reaches every option."""
    from dataclasses import fields

    from talktrack.core.config import ConfigError, MiningSettings, load_settings
    from talktrack.pipelines.mining import MiningOptions, options_from_settings

    assert {f.name for f in fields(MiningOptions)} == set(MiningSettings.model_fields)
    with pytest.raises(TypeError):
        MiningOptions()  # no defaults of its own
    settings = load_settings(environ={"TALKTRACK_SEMANTIC__MINING__MAX_TRACKS_PER_TYPE": "2",
                                      "TALKTRACK_SEMANTIC__MINING__EXTENSION_SHARE": "0.8"})
    options = options_from_settings(settings, min_support_deals=8, top_sellers=None)
    assert (options.max_tracks_per_type, options.extension_share) == (2, 0.8)
    assert (options.min_support_deals, options.top_sellers) == (8, 3)  # None: the setting stands
    with pytest.raises(ConfigError, match="min_support_deals"):
        options_from_settings(settings, min_support_deals=0)


def test_subsequences_keep_order_and_skip_nothing_they_should_keep():
    found = subsequences(("acknowledge", "confirm_timeline", "offer_installments"), 2)
    assert ("confirm_timeline", "offer_installments") in found
    assert ("acknowledge", "offer_installments") in found  # gaps allowed
    assert ("offer_installments", "confirm_timeline") not in found  # order kept
    assert is_subsequence(("a", "c"), ("a", "b", "c")) and not is_subsequence(("c", "a"), ("a", "b", "c"))
    assert fold_repeats(["a", "a", "b", "a"]) == ("a", "b", "a")


def test_candidates_need_support_on_both_sides():
    used = [{("a",)}] * 30 + [{("a",), ("b",)}] * 10 + [set()] * 5
    assert candidate_patterns(used, 8) == [("b",)]  # "a": only 5 deals without it


def test_wilson_and_newcombe_intervals_cover_simulated_truth():
    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(400):
        a, b = rng.binomial(120, 0.6), rng.binomial(150, 0.45)
        low, high = difference_interval(a, 120, b, 150)
        covered += low <= 0.15 <= high
    assert 0.92 <= covered / 400 <= 0.98  # nominal 95 %
    low, high = wilson_interval(0, 20)
    assert low == pytest.approx(0.0, abs=1e-12) and 0 < high < 0.2


def _simulated_deals(rng, n=3000, effect=1.0):
    """Skilled reps use the good answer more and win more anyway: the confounding mining must undo."""
    reps = rng.integers(0, 40, n)
    skill = rng.normal(size=40)[reps]
    good = rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 1.2 * skill)))
    partial = good | (rng.random(n) < 0.3)             # a sub-pattern of the good answer
    noise = rng.random(n) < 0.4                        # an answer with no effect
    logit = -0.2 + 1.0 * skill + effect * good
    won = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    return np.column_stack([good, partial, noise]).astype(float), reps, won


def test_rep_adjusted_effect_recovers_the_truth_where_the_raw_difference_does_not():
    rng = np.random.default_rng(7)
    answers, reps, won = _simulated_deals(rng)
    fit = fit_adjusted_logit(answers[:, [0]], reps, won, group_penalty=0.5)
    low, high = fit.interval(0, 0.95)
    assert low <= 1.0 <= high
    raw = won[answers[:, 0] > 0].mean() - won[answers[:, 0] == 0].mean()
    naive = fit_adjusted_logit(answers[:, [0]], np.zeros(len(won), int), won, group_penalty=1e6)
    assert naive.coef[0] > high, f"unadjusted {naive.coef[0]:.2f} should overstate the effect (raw lift {raw:.2f})"


def test_forward_selection_keeps_the_answer_not_its_relatives():
    rng = np.random.default_rng(11)
    answers, reps, won = _simulated_deals(rng)
    chosen = forward_select(answers, reps, won, z_threshold=bonferroni_z(0.95, 3), max_selected=3,
                            group_penalty=0.5)
    assert chosen == [0]


def _line(seq, role, text):
    return Line(utterance_id=seq, seq=seq, role=role, start_s=float(seq), end_s=seq + 0.9, text=text, language="en")


def test_an_answer_reads_through_backchannels_and_stops_at_the_customer_turn():
    lines = [_line(0, "customer", "That is more than our budget allows this year."),
             _line(1, "rep", "When do you plan to go live?"),
             _line(2, "customer", "Mm-hm."),
             _line(3, "rep", "We can split it into four payments."),
             _line(4, "customer", "OK, that could work for our finance team, send it over."),
             _line(5, "rep", "Great, I will send the proposal on Monday.")]
    moments = {0: [(0, "objection", "price", 0.9)], 1: [(0, "move", "confirm_timeline", 0.8)],
               3: [(0, "move", "offer_installments", 0.9)], 5: [(0, "move", "propose_next_step", 0.9)]}
    [episode] = find_episodes(lines, moments, call_id="C1", deal_id="D1", rep_id="R1", language="en")
    assert episode.objection_type == "price"
    assert episode.moves == ("confirm_timeline", "offer_installments")
    assert [line.seq for line in episode.answer] == [1, 3]


@pytest.fixture
def mined_workspace(fresh_semantic_workspace, semantic_world):
    from talktrack.evaluation.semantic.oracle import write_truth_moments

    settings, workspace, catalog = fresh_semantic_workspace
    write_truth_moments(semantic_world, catalog)
    return settings, workspace, catalog


def test_mining_stores_tracks_and_keeps_reviews_across_re_mining(mined_workspace):
    from talktrack.pipelines.mining import get_track, list_tracks, mine_talk_tracks, options_from_settings, review_track

    settings, workspace, catalog = mined_workspace
    options = options_from_settings(settings, min_support_deals=8, confidence=0.8)  # 200 deals: little power
    report = mine_talk_tracks(catalog, settings, workspace, options=options)
    tracks = [t for block in report["objection_types"] for t in block["tracks"]]
    assert tracks, "a 200-deal world with true moments yields at least one track at 80 % confidence"
    first = tracks[0]
    assert first["stats"]["support_deals"] >= 8 and first["stats"]["lift"] > 0
    assert first["description"].count("then") == len(first["moves"]) - 1
    exemplar = first["exemplars"][0]
    assert exemplar["outcome"] == "won" and exemplar["objection"]["start_s"] <= exemplar["answer"]["start_s"]

    review_track(catalog, first["key"], "edit", actor="coach-li", note="shorter", script="Ask when, then split it.")
    again = mine_talk_tracks(catalog, settings, workspace, options=options)
    assert again["stored"]["new"] == 0 and again["stored"]["refreshed"] == len(tracks)
    kept = get_track(catalog, first["key"])
    assert kept["status"] == "edited" and kept["script"] == "Ask when, then split it."
    assert [step["action"] for step in kept["trail"]] == ["proposed", "edit"]
    assert kept["trail"][1]["changes"]["status"] == ["proposed", "edited"]
    assert {t["key"] for t in list_tracks(catalog, status="edited")} == {first["key"]}


def test_mining_without_detected_moments_says_what_to_run(fresh_semantic_workspace):
    from talktrack.pipelines.mining import MiningError, mine_talk_tracks

    settings, workspace, catalog = fresh_semantic_workspace
    with pytest.raises(MiningError, match="moments detect"):
        mine_talk_tracks(catalog, settings, workspace)


def test_review_refuses_unknown_tracks_and_empty_edits(mined_workspace):
    from talktrack.pipelines.mining import ReviewError, TrackNotFound, review_track

    _, _, catalog = mined_workspace
    with pytest.raises(TrackNotFound):
        review_track(catalog, "price:nothing", "approve", actor="x")
    with pytest.raises(ReviewError, match="expected one of"):
        review_track(catalog, "price:nothing", "bless", actor="x")


@pytest.mark.parametrize("track", ["\u00b2", "\u0663", "\uff11", "9" * 23])
def test_a_track_number_that_is_no_int64_is_looked_up_as_a_key(catalog, track):
    """'²' is a digit to str.isdigit() but not to int(); 23 digits overflow the id column."""
    from talktrack.pipelines.mining import TrackNotFound, get_track

    with pytest.raises(TrackNotFound):
        get_track(catalog, track)


def test_cli_mine_json_and_review(mined_workspace):
    from talktrack.cli.main import app

    settings, workspace, _ = mined_workspace
    runner = CliRunner()
    base = ["--workspace", str(workspace.root)]
    result = runner.invoke(app, base + ["mine", "--min-support", "8", "--json"], env={"TALKTRACK_SEMANTIC__MINING__CONFIDENCE": "0.8"})
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {b["objection_type"] for b in report["objection_types"]} == set(settings.objection_keys)
    key = next(t["key"] for b in report["objection_types"] for t in b["tracks"])
    result = runner.invoke(app, base + ["tracks", "review", key, "approve", "--by", "coach-li"])
    assert result.exit_code == 0 and "approved" in result.stdout
    result = runner.invoke(app, base + ["tracks", "review", "no:such", "approve"])
    assert result.exit_code == 2 and "not found" in result.stderr


def test_mining_as_of_a_cut_off_ignores_outcomes_that_came_later(mined_workspace):
    from datetime import datetime

    from sqlalchemy import func, select

    from talktrack.core.catalog.schema import Deal
    from talktrack.pipelines.mining import mine_talk_tracks, options_from_settings

    settings, workspace, catalog = mined_workspace
    cutoff = datetime(2025, 8, 1)
    with catalog.session() as session:
        closed_before = session.scalar(select(func.count()).select_from(Deal).where(
            Deal.status.in_(("won", "lost")), Deal.closed_at < cutoff))
    options = options_from_settings(settings, min_support_deals=8, confidence=0.8)
    report = mine_talk_tracks(catalog, settings, workspace, options=options, closed_before=cutoff, save=False)
    assert 0 < report["closed_deals"] == closed_before
    everything = mine_talk_tracks(catalog, settings, workspace, options=options, save=False)
    assert everything["closed_deals"] > report["closed_deals"]
