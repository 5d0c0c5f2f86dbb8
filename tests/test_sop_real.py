"""SOP steps and key questions on real phrasing (issue 16), with the real embedders.

The call viewer's web-test call (tests/test_web.py screenshots a generated needs-diagnosis call)
showed the rep asking "Uh, would halving the manual work be a success?" and the customer
answering "If the team stops working weekends, that's success." with "Agree on success
criteria" listed as missing: the question + answer must cover it.

F1 bounds on the test split of ``real_phrasing/sop_questions`` come from the measurement with
the configured thresholds (``talktrack eval semantic`` / ``evaluate_real_sop``): step F1 0.899
(en), 0.882 (zh incl. mixed); key-question F1 0.886 (en), 0.885 (zh); the checker before issue
16 scored 0.733 / 0.746 and 0.716 / 0.760. The tests ask for the issue's 0.85, so a change that
loses real-phrasing recall or precision fails here.
"""

from __future__ import annotations

import pytest

from talktrack.core.workspace import Workspace
from talktrack.evaluation.semantic.real_sop import evaluate_real_sop
from talktrack.pipelines.semantic.sop import SopChecker, check_call, check_transcript

MIN_F1 = {"en": {"steps": 0.85, "key_questions": 0.85}, "zh": {"steps": 0.85, "key_questions": 0.85}}

WEB_TEST_CALL = [
    ("rep", "Thanks for making the time. Today I'd like to understand how your team works now."),
    ("customer", "Sure, go ahead."),
    ("rep", "Uh, would halving the manual work be a success?"),
    ("customer", "If the team stops working weekends, that's success."),
    ("rep", "Got it, makes sense."),
]


@pytest.fixture(scope="module")
def engine(settings, tmp_path_factory):
    workspace = Workspace.at(tmp_path_factory.mktemp("sop-real")).ensure()
    return settings, workspace, SopChecker(settings, workspace)


def _transcript(turns: list[tuple[str, str]]) -> dict:
    return {"schema": "talktrack.transcript/1", "language": "en",
            "speakers": [{"speaker": "A", "role": "rep"}, {"speaker": "B", "role": "customer"}],
            "utterances": [{"start": 2.0 * i, "end": 2.0 * i + 1.5, "speaker": "A" if role == "rep" else "B",
                            "role": role, "text": text} for i, (role, text) in enumerate(turns)]}


def test_the_web_test_calls_success_question_and_answer_cover_the_success_criteria(engine):
    settings, workspace, _ = engine
    result = check_transcript(_transcript(WEB_TEST_CALL), "needs_diagnosis", settings, workspace)
    step = next(s for s in result.steps if s.step == "success_criteria")
    assert step.covered, f"success criteria missing (best similarity {step.similarity})"
    assert "success_criteria" not in result.missing_key_questions
    assert step.match.snippet == "Uh, would halving the manual work be a success?"
    assert step.match.seq == 2
    # the rest of the page stays honest: small talk covers no budget or decision process
    assert {"budget", "decision_process"} <= set(result.missing_key_questions)


def test_the_call_viewers_check_of_that_call_in_the_catalog_lists_no_success_criteria(engine, catalog):
    """What the call page draws: ``GET /v1/calls/{id}/sop`` is ``check_call`` on the catalog's turns."""
    from talktrack.core.catalog.schema import Call, Utterance

    settings, workspace, _ = engine
    with catalog.session() as session:
        call = Call(external_id="CALL-WEB-TEST", stage="needs_diagnosis", language="en", channel="video")
        session.add(call)
        session.flush()
        for seq, (role, text) in enumerate(WEB_TEST_CALL):
            session.add(Utterance(call_id=call.id, seq=seq, speaker_label="A" if role == "rep" else "B", role=role,
                                  start_s=2.0 * seq, end_s=2.0 * seq + 1.5, text=text))
    result = check_call(catalog, settings, workspace, "CALL-WEB-TEST")
    missing_steps = {s.step for s in result.steps if not s.covered}
    assert "success_criteria" not in missing_steps and "success_criteria" not in result.missing_key_questions


def test_a_bland_answer_does_not_lift_a_small_talk_question(engine):
    settings, workspace, _ = engine
    turns = [("rep", "How was the conference last week?"), ("customer", "Yes, it was fine, thanks.")]
    result = check_transcript(_transcript(turns), "needs_diagnosis", settings, workspace)
    assert not any(s.covered for s in result.steps if s.key_question)


@pytest.mark.parametrize("group", ["en", "zh"])
def test_real_phrasing_f1_on_the_test_split(engine, group):
    settings, workspace, checker = engine
    report = evaluate_real_sop(settings, workspace, "test", engine=checker)
    graded = report["per_language"][group]
    assert graded["with_step"] >= 30 and graded["items"] - graded["with_step"] >= 30
    for kind, bound in MIN_F1[group].items():
        assert graded[kind]["f1"] >= bound, f"{group} {kind}: {graded[kind]}"
