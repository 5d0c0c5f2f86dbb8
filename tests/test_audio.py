"""Audio in: real files in every accepted format decode to 16 kHz float32; the rest is refused by name."""

from __future__ import annotations

import shutil
import subprocess
import wave

import numpy as np
import pytest
import soundfile

from talktrack.models.audio import AudioError, DecodedAudio, decode_audio, decode_bytes

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg makes the format variants")


@pytest.fixture(scope="session")
def jfk(shared_data):
    return shared_data / "asr_en" / "whisper_jfk" / "jfk.flac"


@pytest.fixture(scope="session")
def jfk_audio(jfk) -> DecodedAudio:
    return decode_audio(jfk)


def ffmpeg(source, target, *args: str) -> None:
    command = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(source), *args, str(target)]
    subprocess.run(command, check=True, capture_output=True)


def rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_jfk_flac_44k_stereo_24bit_decodes_to_16k_keeping_both_channels(jfk_audio):
    assert jfk_audio.sample_rate == 16000
    assert jfk_audio.source_sample_rate == 44100
    assert jfk_audio.source_channels == 2
    assert jfk_audio.codec == "flac"
    assert jfk_audio.samples.dtype == np.float32
    assert jfk_audio.samples.shape[0] == 2
    assert jfk_audio.duration_s == pytest.approx(11.0, abs=0.05)
    assert np.abs(jfk_audio.samples).max() <= 1.0
    assert jfk_audio.mono.shape == (jfk_audio.samples.shape[1],)
    np.testing.assert_allclose(jfk_audio.mono, jfk_audio.samples.mean(axis=0), atol=1e-6)


def test_ami_32bit_float_wav_decodes_unchanged(shared_data):
    path = shared_data / "ami_debug" / "dev00.wav"
    audio = decode_audio(path)
    expected, rate = soundfile.read(path, dtype="float32")  # Python's wave cannot read float WAV
    assert (rate, audio.codec, audio.samples.shape) == (16000, "pcm_f32le", (1, expected.size))
    np.testing.assert_allclose(audio.mono, expected, atol=1e-6)
    assert audio.path == str(path)


VARIANTS = {
    "mp3": ("jfk.mp3", ("-c:a", "libmp3lame", "-b:a", "64k")),
    "m4a-aac": ("jfk.m4a", ("-c:a", "aac", "-b:a", "64k")),
    "ogg-opus": ("jfk.ogg", ("-c:a", "libopus", "-b:a", "32k")),
    "flac-48k-mono": ("jfk48.flac", ("-ar", "48000", "-ac", "1")),
    "wav-24bit-22k": ("jfk24.wav", ("-c:a", "pcm_s24le", "-ar", "22050")),
    "wav-16bit-8k-mono": ("jfk8k.wav", ("-c:a", "pcm_s16le", "-ar", "8000", "-ac", "1")),
    "wav-float32": ("jfkf32.wav", ("-c:a", "pcm_f32le",)),
}


@needs_ffmpeg
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_format_variants_of_a_real_file_decode_alike(variant, jfk, jfk_audio, tmp_path):
    name, args = VARIANTS[variant]
    target = tmp_path / name
    ffmpeg(jfk, target, *args)
    audio = decode_audio(target)
    assert audio.sample_rate == 16000 and audio.samples.dtype == np.float32
    assert audio.samples.shape[0] == (1 if "mono" in variant else 2)
    assert audio.duration_s == pytest.approx(11.0, abs=0.1)  # codecs pad a frame at most
    assert rms_db(audio.mono) == pytest.approx(rms_db(jfk_audio.mono), abs=1.0)


def test_decode_bytes_matches_the_file(jfk, jfk_audio):
    audio = decode_bytes(jfk.read_bytes(), name="upload.flac")
    assert audio.path == "upload.flac"
    np.testing.assert_array_equal(audio.samples, jfk_audio.samples)


def test_ami_empty_wav_is_loud_non_speech_not_silence(shared_data):
    """ami_debug/empty.wav is 1 s of full-scale clicks (peak 0 dBFS): it decodes; the VAD finds no speech."""
    from talktrack.core.config import DiarizerSettings
    from talktrack.models.diarization.options import vad_options
    from talktrack.models.vad import speech_regions

    audio = decode_audio(shared_data / "ami_debug" / "empty.wav")
    assert audio.duration_s == pytest.approx(1.0)
    assert np.abs(audio.samples).max() > 0.5
    assert speech_regions(audio.mono, vad_options(DiarizerSettings())) == []


def assert_refused(path_or_name, reason_start: str, call) -> AudioError:
    with pytest.raises(AudioError) as caught:
        call()
    error = caught.value
    assert error.path == str(path_or_name)
    assert error.reason.startswith(reason_start)
    assert str(error) == f"{path_or_name}: {error.reason}"
    return error


def test_missing_file_is_refused(tmp_path):
    path = tmp_path / "nope.wav"
    assert_refused(path, "file not found", lambda: decode_audio(path))


def test_corrupt_bytes_are_refused(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert_refused(path, "cannot decode: ", lambda: decode_audio(path))
    assert_refused("bad.mp3", "cannot decode: ", lambda: decode_bytes(path.read_bytes(), name="bad.mp3"))


def test_empty_files_are_refused(tmp_path):
    zero_bytes = tmp_path / "zero.wav"
    zero_bytes.write_bytes(b"")
    assert_refused(zero_bytes, "empty (0 samples)", lambda: decode_audio(zero_bytes))
    header_only = tmp_path / "header_only.wav"
    with wave.open(str(header_only), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
    assert_refused(header_only, "empty (0 samples)", lambda: decode_audio(header_only))
    assert_refused("upload", "empty (0 samples)", lambda: decode_bytes(b"", name="upload"))


@pytest.mark.parametrize("level_dbfs", [None, -70.0])
def test_silent_files_are_refused(tmp_path, level_dbfs):
    path = tmp_path / "silent.wav"
    signal = np.zeros(32000) if level_dbfs is None else np.random.default_rng(0).uniform(-1, 1, 32000)
    signal = signal * (0 if level_dbfs is None else 10 ** (level_dbfs / 20))
    soundfile.write(path, signal, 16000, subtype="FLOAT")
    error = assert_refused(path, "silent (peak below -60 dBFS)", lambda: decode_audio(path))
    assert error.reason == "silent (peak below -60 dBFS)"


def test_too_long_is_refused_with_both_durations(shared_data):
    path = shared_data / "ami_debug" / "dev00.wav"
    error = assert_refused(path, "too long", lambda: decode_audio(path, max_duration_s=10))
    assert error.reason == "too long (30.0 s > limit 10 s)"
    assert decode_audio(path, max_duration_s=30.5).duration_s == pytest.approx(30.0, abs=0.01)


@needs_ffmpeg
def test_a_file_without_audio_is_refused(tmp_path):
    path = tmp_path / "video_only.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-t", "1",
         "-c:v", "mpeg4", "-an", str(path)],
        check=True,
        capture_output=True,
    )
    assert_refused(path, "no audio stream", lambda: decode_audio(path))


def test_a_file_cut_off_after_its_header_is_refused_as_truncated(tmp_path):
    path = tmp_path / "cut.wav"
    soundfile.write(path, np.random.default_rng(0).normal(0, 0.1, 32000).astype("float32"), 16000, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[:2000])  # the header still promises 2 s
    with pytest.raises(AudioError, match=r"cut.wav: truncated \(header declares 2.0 s, file holds 0.06 s\)"):
        decode_audio(path)


def test_audio_errors_survive_a_trip_between_processes():
    import pickle

    error = pickle.loads(pickle.dumps(AudioError("/calls/a.wav", "silent (peak below -60 dBFS)")))
    assert (error.path, error.reason, str(error)) == ("/calls/a.wav", "silent (peak below -60 dBFS)", "/calls/a.wav: silent (peak below -60 dBFS)")
