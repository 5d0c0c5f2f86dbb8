"""No words lost (issue 15): the repetition guard on a real loop, and the pipeline's WER against
bare faster-whisper's on a real call window (real audio, the real tiny.en model, no mocks)."""

from __future__ import annotations

import re

import pytest
import soundfile as sf

from talktrack.core.config import TranscriberSettings
from talktrack.evaluation.bench_words import CALL_40, BareWhisper, evaluate_case, silver_case
from talktrack.models.audio import decode_audio
from talktrack.models.transcription import Transcriber
from talktrack.pipelines.speech.process import SpeechPipeline


def _longest_run(text: str, word: str) -> int:
    """The most times ``word`` follows itself in ``text`` (case and punctuation ignored)."""
    tokens = re.findall(r"[\w']+", text.lower())
    longest = run = 0
    for token in tokens:
        run = run + 1 if token == word else 0
        longest = max(longest, run)
    return longest


@pytest.fixture(scope="module")
def tst00(shared_data):
    return shared_data / "ami_debug" / "tst00.wav"


def test_bare_batched_whisper_really_loops_on_tst00(settings, tst00):
    # The real case behind the guard: four people talking over each other; measured: "Yeah," x105 in 26 s.
    text = BareWhisper(settings).text(tst00, batched=True)
    assert _longest_run(text, "yeah") > 20


@pytest.mark.parametrize("batched_min_duration_s", [0.0, None], ids=["batched", "sequential"])
def test_repetition_guard_trims_the_loop_in_every_mode(tst00, batched_min_duration_s):
    settings = TranscriberSettings(batched_min_duration_s=batched_min_duration_s)
    result = Transcriber(settings).transcribe(decode_audio(tst00).mono)
    assert result.options["batched"] is (batched_min_duration_s is not None)
    assert 1 <= _longest_run(result.text, "yeah") <= settings.max_word_repeats


@pytest.fixture(scope="module")
def call_window(shared_data, tmp_path_factory):
    """The first 30 s of the real call 40: the mono mix and each party's clean channel."""
    folder = tmp_path_factory.mktemp("call40")
    paths = {}
    for part in ("mix", "agent", "caller"):
        samples, rate = sf.read(shared_data / f"{CALL_40}_{part}.wav", dtype="int16")
        paths[part] = folder / f"{part}.wav"
        sf.write(paths[part], samples[: 30 * rate], rate)
    return paths


def test_pipeline_loses_no_words_against_bare_faster_whisper(settings, call_window):
    bare = BareWhisper(settings)
    case = silver_case("call40_0-30s", call_window["mix"], {p: call_window[p] for p in ("agent", "caller")}, bare)
    row = evaluate_case(case, bare, SpeechPipeline(settings))
    # Measured: the pipeline hears the same 16-bit samples and decodes them the same way as bare
    # faster-whisper, so its words are the bare model's (WER 0.254 both, 67 reference words); before,
    # float samples and batched decoding changed 4-6 of them.
    assert row["pipeline_wer"] <= row["bare_wer"] + 0.005
    assert row["speakers"]["pipeline"] == 2
    # Who said each word is the diarizer's: cpWER measured 0.254 here (= bare WER), worst over the six
    # call-40 windows bare + 0.028 (165-210 s; `talktrack bench words`, 7 Dec) — a regression bound.
    assert row["pipeline_cpwer"] <= row["bare_wer"] + 0.03
