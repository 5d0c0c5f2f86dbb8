"""The command line: help lists every command, bad config stops at start, import reports bad rows."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from talktrack.cli.main import app
from tests.test_crm_import import CUSTOMERS, write_world

runner = CliRunner()


def test_help_lists_every_command_with_one_line():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "import", "status", "world", "config", "db"):
        assert f" {command} " in result.output


def test_the_console_script_is_installed_and_runs():
    completed = subprocess.run(
        [sys.executable, "-m", "talktrack", "--help"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert "import" in completed.stdout


def test_an_invalid_setting_stops_the_command_with_key_value_and_choices(tmp_path):
    result = runner.invoke(
        app, ["--workspace", str(tmp_path), "status"], env={"TALKTRACK_MODELS__TRANSCRIBER__DEVICE": "tpu"}
    )
    assert result.exit_code == 2
    assert "models.transcriber.device = 'tpu'" in result.output


def test_import_prints_counts_and_reasons_and_strict_fails(tmp_path):
    source = write_world(tmp_path / "crm", customers__csv=CUSTOMERS + "C9,Bad,retail,lots,1,1,0,East,en,2025-01-01\n")
    workspace = tmp_path / "ws"
    result = runner.invoke(app, ["--workspace", str(workspace), "import", str(source), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["totals"]["rejected"] == 1
    assert report["problems"][0]["file"] == "customers.csv" and report["problems"][0]["line"] == 4

    strict = runner.invoke(app, ["--workspace", str(workspace), "import", str(source), "--strict"])
    assert strict.exit_code == 1
    assert "customers.csv:4" in strict.output

    status = runner.invoke(app, ["--workspace", str(workspace), "status", "--json"])
    assert json.loads(status.output)["entities"]["customers"] == 2


def test_a_rep_voiceprint_is_enrolled_from_audio_and_listed(tmp_path, shared_data):
    workspace = ["--workspace", str(tmp_path)]
    jfk = shared_data / "asr_en" / "whisper_jfk" / "jfk.flac"
    enrolled = runner.invoke(app, [*workspace, "voiceprint", "enroll", "REP-007", str(jfk)])
    assert enrolled.exit_code == 0, enrolled.output
    assert (tmp_path / "voiceprints" / "REP-007.npy").is_file()
    assert "not in the catalog yet" in enrolled.output
    assert runner.invoke(app, [*workspace, "voiceprint", "list"]).output.split() == ["REP-007"]

    bad = runner.invoke(app, [*workspace, "voiceprint", "enroll", "REP-008", str(tmp_path / "missing.wav")])
    assert bad.exit_code == 2 and "missing.wav: file not found" in bad.output


def test_status_lists_calls_in_a_state_and_refuses_unknown_states(tmp_path):
    result = runner.invoke(app, ["--workspace", str(tmp_path), "status", "--state", "broken"])
    assert result.exit_code == 2 and "not one of: pending, processing, transcribed" in result.output
    listed = runner.invoke(app, ["--workspace", str(tmp_path), "status", "--state", "failed", "--json"])
    assert json.loads(listed.output)["calls"] == []
