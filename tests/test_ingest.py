"""Batch ingest on a real local Ray: bad files are reported, good ones land once, a killed run resumes."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import func, select

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import Call, Utterance
from talktrack.pipelines.ingest.ray_runtime import stop_ray
from talktrack.pipelines.ingest.runner import ingest

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module", autouse=True)
def ray_session():
    yield
    stop_ray()


def _variant(source: Path, target: Path, gain: float) -> Path:
    """The same speech at another gain: a different file (and content hash), as a new call would be."""
    samples, rate = sf.read(source, dtype="float32")
    sf.write(target, samples * gain, rate, subtype="PCM_16")
    return target


@pytest.fixture(scope="module")
def batch(tmp_path_factory, shared_data) -> tuple[Path, set[str], set[str]]:
    folder = tmp_path_factory.mktemp("recordings")
    good = {
        shutil.copy(shared_data / "asr_en/whisper_jfk/jfk.flac", folder / "jfk.flac"),
        shutil.copy(shared_data / "asr_en/faster_whisper_stereo/stereo_diarization.wav", folder / "dialer.wav"),
        _variant(shared_data / "asr_en/wenet_librispeech/librispeech-1995-1837-0001.wav", folder / "libri.wav", 0.8),
    }
    (folder / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + os.urandom(400))
    (folder / "empty.mp3").write_bytes(b"")
    (folder / "notes.ogg").write_text("this is not audio", encoding="utf-8")
    sf.write(folder / "silence.wav", np.zeros(32000, dtype="float32"), 16000)
    bad = {"corrupt.wav", "empty.mp3", "notes.ogg", "silence.wav"}
    return folder, {Path(p).name for p in good}, bad


def test_a_batch_with_bad_files_finishes_the_good_ones_and_explains_the_bad(batch, tmp_path, settings):
    folder, good, bad = batch
    catalog = open_catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    report = ingest(folder, catalog, settings, tmp_path / "transcripts")

    by_name = {Path(r.path).name: r for r in report.results}
    assert {n for n, r in by_name.items() if r.status == "done"} == good
    assert {n for n, r in by_name.items() if r.status == "failed"} == bad
    for name in bad:
        assert by_name[name].reason.startswith(str(folder / name) + ": ")  # the file, then why; no Ray noise
    assert "silent" in by_name["silence.wav"].reason
    assert "empty" in by_name["empty.mp3"].reason
    assert report.audio_hours * 3600 == pytest.approx(5.0 + 11.0 + 8.7, abs=0.5)
    for name in good:
        stem = by_name[name].call_id
        assert (tmp_path / "transcripts" / f"{stem}.json").is_file()
        assert (tmp_path / "transcripts" / f"{stem}.rttm").is_file()

    with catalog.session() as session:
        statuses = dict(session.execute(select(Call.status, func.count()).group_by(Call.status)).all())
        assert statuses == {"transcribed": len(good), "failed": len(bad)}
        jfk = session.scalar(select(Call).where(Call.audio_path.like("%jfk.flac")))
        text = " ".join(u.text for u in jfk.utterances).lower()
        assert "ask not what your country can do for you" in text.replace(",", "")
        dialer = session.scalar(select(Call).where(Call.audio_path.like("%dialer.wav")))
        assert len({u.speaker_label for u in dialer.utterances}) == 2

    # a second run skips what is done and retries (only) the failures
    again = ingest(folder, catalog, settings, tmp_path / "transcripts")
    assert again.count("skipped") == len(good) and again.count("failed") == len(bad) and again.count("done") == 0
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == len(good) + len(bad)


def _transcribed(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as connection:
            return connection.execute("SELECT count(*) FROM calls WHERE status = 'transcribed'").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_killing_a_run_and_running_again_loses_nothing_and_duplicates_nothing(tmp_path, shared_data, settings):
    folder = tmp_path / "calls"
    folder.mkdir()
    source = shared_data / "asr_en/wenet_librispeech/librispeech-1995-1837-0001.wav"
    for index in range(6):
        _variant(source, folder / f"call{index}.wav", 0.5 + 0.08 * index)
    workspace = tmp_path / "ws"
    command = [sys.executable, "-m", "talktrack", "--workspace", str(workspace), "ingest", str(folder), "--json"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while _transcribed(workspace / "catalog.db") < 1 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and its Ray workers, mid-batch
    process.wait()
    finished_before_kill = _transcribed(workspace / "catalog.db")
    assert 1 <= finished_before_kill < 6, "the kill should land mid-batch"

    catalog = open_catalog(f"sqlite:///{workspace / 'catalog.db'}")
    report = ingest(folder, catalog, settings, workspace / "transcripts")
    assert report.count("skipped") == finished_before_kill
    assert report.count("done") == 6 - finished_before_kill and report.count("failed") == 0
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 6
        assert set(session.scalars(select(Call.status))) == {"transcribed"}
        per_call = session.execute(select(Utterance.call_id, func.count()).group_by(Utterance.call_id)).all()
        assert len(per_call) == 6 and len({count for _, count in per_call}) == 1  # same speech, same utterances
