"""``talktrack eval semantic`` / ``eval models``: input checks and how targets are judged.

The full runs take minutes on a 3000-deal world and belong to ``talktrack eval`` (their
figures are in the README); here the harness's own logic is checked.
"""

from __future__ import annotations

from typer.testing import CliRunner

from talktrack.cli.main import app
from talktrack.evaluation.semantic.run import check_targets


def _report(f1=0.9, recall=1.0, precision=0.75, fake=0.97, false_alarm=0.01):
    return {
        "moments": {"trained": {"macro_f1": {"objection": {"en": f1, "zh": 0.99}, "move": {"en": 0.99, "zh": 0.99}}}},
        "mining": {"detected_moments": {"recall": recall, "precision": precision}},
        "evidence": {"documents": {"notes": {"all": {"fake": {"rate": fake}, "authentic": {"rate": false_alarm}}}}},
    }


def test_targets_are_judged_each_against_its_own_bound():
    targets = check_targets(_report())
    assert targets["moments_objection_macro_f1_en"]["met"]
    assert not targets["planted_tracks_precision"]["met"]  # 0.75 < 0.8
    assert targets["fake_evidence_false_alarms"]["met"] and not targets["all_met"]
    assert check_targets(_report(precision=0.8))["all_met"]
    assert not check_targets(_report(recall=None, precision=None))["planted_tracks_recall"]["met"]


def test_evaluations_refuse_a_folder_that_is_not_a_generated_world(tmp_path):
    runner = CliRunner()
    for command in ("semantic", "models"):
        result = runner.invoke(app, ["--workspace", str(tmp_path / "ws"), "eval", command, "--world", str(tmp_path)])
        assert result.exit_code == 2 and "not a generated world" in result.stderr
