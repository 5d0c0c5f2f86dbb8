"""What a cold ``talktrack transcribe FILE`` loads (issue 15, item 4): behaviour, not timing.

A user transcribing one file waits for every import and model load of the process, so the command
imports only what the file needs: no engine of another command (Ray, MLflow, the catalog's
SQLAlchemy, pandas, scikit-learn), no torch just to print help, no language-ID model when the
language is given, and not the ``resemblyzer`` package (the diarizer rebuilds its network). The
seconds are measured by ``talktrack bench speech`` (``cold_start`` in bench/results/speech_speed.json).
"""

from __future__ import annotations

import json
import subprocess
import sys

# Libraries `talktrack transcribe` never needs; importing any of them is a cold start paid for nothing.
ENGINES = ("ray", "mlflow", "sqlalchemy", "alembic", "pandas", "sklearn", "fastapi", "transformers",
           "sentence_transformers", "faiss")

RUN_CLI = """
import json, sys
from talktrack.cli.main import app
try:
    app(sys.argv[1:], prog_name="talktrack")
except SystemExit as exit:
    code = exit.code
else:
    code = 0
from talktrack.models import transcription
print(json.dumps({"code": code, "modules": sorted(name for name in sys.modules if "." not in name),
                  "whisper_models": transcription.load_whisper.cache_info().currsize}))
"""


def run_cli(*args: str, cwd) -> dict:
    done = subprocess.run([sys.executable, "-c", RUN_CLI, *args], capture_output=True, text=True, cwd=cwd,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_cli_and_transcribe_help_import_no_torch_and_no_engine(tmp_path):
    imported = subprocess.run([sys.executable, "-c", "import sys, talktrack.cli.main; print(' '.join(sys.modules))"],
                              capture_output=True, text=True, check=True).stdout.split()
    helped = run_cli("--workspace", str(tmp_path / "ws"), "transcribe", "--help", cwd=tmp_path)
    assert helped["code"] == 0
    for modules in (imported, helped["modules"]):
        assert not {"torch", "faster_whisper", "ctranslate2", *ENGINES} & set(modules)


def test_transcribing_a_file_of_known_language_loads_one_model_and_no_engine(tmp_path, shared_data):
    """``--language en``: the English model alone (no multilingual model for language ID); in process
    (no Ray for one local file); the diarizer without the resemblyzer package."""
    jfk = shared_data / "asr_en" / "whisper_jfk" / "jfk.flac"
    ran = run_cli("--workspace", str(tmp_path / "ws"), "transcribe", str(jfk), "--out", str(tmp_path / "out"),
                  "--language", "en", cwd=tmp_path)
    assert ran["code"] == 0
    assert not {"resemblyzer", *ENGINES} & set(ran["modules"])
    assert ran["whisper_models"] == 1
    transcript = json.loads((tmp_path / "out" / "jfk.json").read_text(encoding="utf-8"))
    assert transcript["models"]["transcriber"]["name"] == "tiny.en"
    assert "ask not what your country can do for you" in " ".join(u["text"] for u in transcript["utterances"]).lower()
