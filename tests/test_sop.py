"""SOP compliance and key-question coverage on a generated world, with the real embedders.

Bounds come from measurements: on this test world (seed 5) 87% (en) and 90% (zh) of the
(call, key question) pairs of 40 calls agree with the truth, and 18 of 22 never-covered flags
of the first 15 deals are right (82%); key-question F1 was 0.91 (en) / 0.90 (zh) on 1000 calls
of the dev world (``talktrack sop eval``). The tests ask for 80% and 65%.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from talktrack.pipelines.semantic.sop import (
    SopNotFoundError,
    check_call,
    check_calls,
    check_transcript,
    deal_key_questions,
    split_sentences,
)
from talktrack.pipelines.semantic.sop_book import SopConfigError, bundled_sop_path, load_sop_book

MIN_AGREEMENT = 0.80             # measured 0.87 (en), 0.90 (zh)
MIN_NEVER_FLAG_PRECISION = 0.65  # measured 0.82


@pytest.fixture(scope="module")
def sop_env(semantic_workspace):
    """The shared workspace with a smaller suggestion pool (keeps the first suggestions quick)."""
    settings, workspace, catalog = semantic_workspace
    sop = settings.semantic.sop.model_copy(update={"suggestion_pool_calls": 25})
    settings = settings.model_copy(update={"semantic": settings.semantic.model_copy(update={"sop": sop})})
    return settings, workspace, catalog


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "sops.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def sop_yaml() -> dict:
    return yaml.safe_load(bundled_sop_path().read_text(encoding="utf-8"))


def test_bundled_sops_cover_every_key_question_of_every_stage(settings):
    book = load_sop_book(settings)
    for stage in settings.stages:
        asked = {step.key_question for step in book.stage_sop(stage.key).steps}
        assert set(stage.key_questions) <= asked
    assert "competitor_interception" in {s.key for s in book.sops["store_visit"].steps}


def test_unknown_key_question_is_refused_by_name(settings, sop_yaml, tmp_path):
    sop_yaml["steps"]["budget"]["key_question"] = "budgett"
    with pytest.raises(SopConfigError, match=r"sops\.yaml: steps\.budget\.key_question = 'budgett'"):
        load_sop_book(settings, _write(tmp_path, sop_yaml))


def test_missing_language_is_refused_by_name(settings, sop_yaml, tmp_path):
    del sop_yaml["steps"]["budget"]["examples"]["zh"]
    with pytest.raises(SopConfigError, match=r"steps\.budget\.examples\.zh: missing"):
        load_sop_book(settings, _write(tmp_path, sop_yaml))


def test_unknown_key_and_unasked_stage_question_are_refused(settings, sop_yaml, tmp_path):
    bad = copy.deepcopy(sop_yaml)
    bad["steps"]["timeline"]["colour"] = "red"
    with pytest.raises(SopConfigError, match=r"steps\.timeline\.colour: unknown key"):
        load_sop_book(settings, _write(tmp_path, bad))
    sop_yaml["sops"]["qualification"]["steps"].remove("budget")
    with pytest.raises(SopConfigError, match=r"sops\.qualification: .*\['budget'\]"):
        load_sop_book(settings, _write(tmp_path, sop_yaml))


def test_sentences_split_on_both_scripts_but_not_on_decimals():
    assert split_sentences("Budget is 7.5k. Who signs? 好的。预算多少？") == [
        "Budget is 7.5k.", "Who signs?", "好的。", "预算多少？"]


@pytest.fixture(scope="module")
def checked(sop_env, semantic_truth):
    """The first 100 calls of the test world, checked in one batch."""
    settings, workspace, catalog = sop_env
    return check_calls(catalog, settings, workspace, sorted(semantic_truth["calls"])[:100])


@pytest.mark.parametrize("language", ["en", "zh"])
def test_key_question_coverage_agrees_with_truth(checked, semantic_truth, language):
    results = [r for r in checked if r.language == language][:40]
    assert len(results) >= 30
    agree = total = predicted_covered = 0
    for result in results:
        covered = set(semantic_truth["calls"][result.call_id]["key_questions"]["covered"])
        for step in (s for s in result.steps if s.key_question):
            agree += step.covered == (step.key_question in covered)
            predicted_covered += step.covered
            total += 1
    assert agree / total >= MIN_AGREEMENT, f"{language}: {agree}/{total} (call, key question) pairs agree"
    assert 0 < predicted_covered < total        # neither everything nor nothing is flagged


def test_check_call_locates_covered_steps(sop_env, checked, semantic_truth):
    settings, workspace, catalog = sop_env
    call_id = sorted(semantic_truth["calls"])[1]
    result = check_call(catalog, settings, workspace, call_id)
    assert result.call_id == call_id and result.stage == semantic_truth["calls"][call_id]["stage"]
    assert result.to_dict() == checked[1].to_dict()          # one call alone = the same call in a batch
    for step in result.steps:
        if step.covered:
            assert step.match.similarity >= result.options["step_threshold"] and step.match.snippet
            assert step.match.end_s >= step.match.start_s
        else:
            assert step.suggestion is not None and step.suggestion.text


def _budget_call(settings, workspace, catalog, world: Path, truth: dict) -> tuple[dict, str]:
    """An English call whose truth and check both have the budget question covered."""
    for call_id, call in sorted(truth["calls"].items()):
        if "budget" in call["key_questions"]["covered"]:
            result = check_call(catalog, settings, workspace, call_id)
            if result.language == "en" and "budget" in result.covered_key_questions:
                raw = json.loads((world / "transcripts" / f"{call_id}.json").read_text(encoding="utf-8"))
                return raw, call_id
    raise AssertionError("no call with a detected budget question in the test world")


def test_transcript_without_the_budget_question_gets_a_suggestion_from_a_won_deal(
        sop_env, semantic_world, semantic_truth):
    settings, workspace, catalog = sop_env
    raw, call_id = _budget_call(settings, workspace, catalog, semantic_world, semantic_truth)
    stage = semantic_truth["calls"][call_id]["stage"]
    budget_utts = {u["utt"] for u in semantic_truth["calls"][call_id]["utterances"]
                   if u.get("key_question") == "budget"}
    raw["utterances"] = [u for i, u in enumerate(raw["utterances"]) if i not in budget_utts]

    result = check_transcript(json.dumps(raw), stage, settings, workspace, catalog)

    assert "budget" in result.missing_key_questions
    suggestion = next(s for s in result.steps if s.key_question == "budget").suggestion
    assert suggestion.source == "won_call"
    assert semantic_truth["deals"][suggestion.deal_id]["status"] == "won"
    assert semantic_truth["calls"][suggestion.call_id]["stage"] == stage


def test_transcript_needs_a_stage_and_a_rep(sop_env, semantic_world):
    settings, workspace, catalog = sop_env
    path = sorted((semantic_world / "transcripts").glob("*.json"))[0]
    with pytest.raises(ValueError, match="names no stage"):
        check_transcript(path, None, settings, workspace, catalog)
    with pytest.raises(ValueError, match="not a known stage"):
        check_transcript(path, "closing", settings, workspace, catalog)


def test_deal_never_covered_questions_are_confirmed_by_truth(sop_env, semantic_truth):
    settings, workspace, catalog = sop_env
    flagged = confirmed = 0
    for deal_id in sorted(semantic_truth["deals"])[:15]:
        report = deal_key_questions(catalog, settings, workspace, deal_id)
        calls = semantic_truth["calls"]
        for item in report["never_covered"]:
            truly = [c for c in report["calls"] if calls[c]["stage"] == item["stage"]
                     and item["key_question"] in calls[c]["key_questions"]["covered"]]
            flagged += 1
            confirmed += not truly
    assert flagged >= 5
    assert confirmed / flagged >= MIN_NEVER_FLAG_PRECISION, f"{confirmed}/{flagged} never-covered flags confirmed"


def test_unknown_ids_raise(sop_env):
    settings, workspace, catalog = sop_env
    with pytest.raises(SopNotFoundError, match="CALL-NOPE"):
        check_call(catalog, settings, workspace, "CALL-NOPE")
    with pytest.raises(SopNotFoundError, match="DEAL-NOPE"):
        deal_key_questions(catalog, settings, workspace, "DEAL-NOPE")


def test_cli_check_json_and_unknown_call(semantic_workspace, semantic_truth):
    from talktrack.cli.main import app

    _, workspace, _ = semantic_workspace
    call_id = sorted(semantic_truth["calls"])[0]
    runner = CliRunner()
    done = runner.invoke(app, ["-w", str(workspace.root), "sop", "check", call_id, "--json"])
    assert done.exit_code == 0, done.output
    payload = json.loads(done.stdout)
    assert payload["call_id"] == call_id and payload["steps"]
    assert {"step", "covered", "similarity", "match", "suggestion"} <= set(payload["steps"][0])

    missing = runner.invoke(app, ["-w", str(workspace.root), "sop", "check", "CALL-NOPE"])
    assert missing.exit_code == 2
    assert "unknown call id 'CALL-NOPE'" in missing.stderr
