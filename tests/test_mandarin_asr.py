"""Mandarin through the real multilingual Whisper base (joined from its packages) on real AISHELL-1 clips.

Measured 2026-12-07 on 2 shared cores, default settings (base int8, beam 1, Simplified prompt, OpenCC t2s):
BAC009S0764W0121 CER 0.077 (停滞 → 停制), aishell-BAC009S0724W0121 CER 0.167 (房 → 佛, 介 → 间),
pooled 3/25 = 0.12. The bound below allows one more wrong character over the two clips (4/25).
"""

from __future__ import annotations

import numpy as np
import pytest

from talktrack.core.config import TranscriberSettings
from talktrack.evaluation.asr import evaluate_asr
from talktrack.models.audio import decode_audio
from talktrack.models.chinese import to_simplified
from talktrack.models.language_routing import LanguageRouter, UnreadableLanguage
from talktrack.pipelines.speech.process import SpeechOptions, SpeechPipeline

POOLED_CER_BOUND = 0.16


@pytest.fixture(scope="module")
def router(settings):
    return LanguageRouter(settings.models.transcriber)


@pytest.fixture(scope="module")
def aishell(shared_data):
    return shared_data / "asr_zh" / "aishell1"


def test_mandarin_is_detected_routed_to_base_and_written_in_simplified(router, aishell):
    clips = [aishell / "BAC009S0764W0121.wav", aishell / "aishell-BAC009S0724W0121.wav"]
    report = evaluate_asr(clips, aishell / "text", transcriber=router)
    assert report["metric"] == "cer" and list(report["models"]) == ["base"]
    for row in report["files"]:
        assert row["language"] == "zh" and row["language_source"] == "detected"
        assert to_simplified(row["hypothesis"]) == row["hypothesis"]  # no Traditional character left
    assert report["overall"]["cer"]["reference_units"] == 25
    assert report["error_rate"] <= POOLED_CER_BOUND


def test_english_goes_to_tiny_en_and_a_given_language_skips_detection(router, shared_data, aishell):
    jfk = decode_audio(shared_data / "asr_en" / "whisper_jfk" / "jfk.flac").mono
    english = router.transcribe(jfk)
    assert english.model.name == "tiny.en" and english.language == "en"
    assert english.options["language_source"] == "detected" and english.options["detected_probability"] >= 0.5
    given = router.transcribe(decode_audio(aishell / "BAC009S0764W0121.wav").mono, language="zh-CN")
    assert given.model.name == "base" and given.options["language_source"] == "given"
    assert given.options["initial_prompt"] and "情况" in given.text


def test_each_channel_of_a_two_language_recording_gets_its_own_model(router, shared_data, aishell):
    zh = decode_audio(aishell / "BAC009S0764W0121.wav").mono
    en = decode_audio(shared_data / "asr_en" / "whisper_jfk" / "jfk.flac").mono
    length = max(zh.size, en.size)
    channels = np.stack([np.pad(zh, (0, length - zh.size)), np.pad(en, (0, length - en.size))])
    first, second = router.transcribe_channels(channels)
    assert (first.language, first.model.name) == ("zh", "base")
    assert (second.language, second.model.name) == ("en", "tiny.en")
    assert "country" in second.text and "交易" in first.text


def test_without_a_multilingual_model_mandarin_is_refused_not_guessed():
    english_only = LanguageRouter(TranscriberSettings(multilingual_model=None))
    with pytest.raises(UnreadableLanguage, match="English-only.*multilingual_model"):
        english_only.transcribe(np.zeros(16000, dtype=np.float32), language="zh")


def test_the_speech_pipeline_transcribes_a_mandarin_call_of_unknown_language(settings, aishell):
    transcript = SpeechPipeline(settings).process(aishell / "aishell-BAC009S0724W0121.wav", SpeechOptions())
    assert transcript.language == "zh"
    text = "".join(u.text for u in transcript.utterances)
    assert "广州市" in text and "協" not in text


def test_a_team_vocabulary_reaches_the_model_as_hotwords(settings, shared_data):
    transcriber = settings.models.transcriber.model_copy(
        update={"vocabulary": ["TalkTrack"], "team_vocabulary": {"T-1": ["HubSpot"], "T-2": ["Gong"]}})
    pipeline = SpeechPipeline(settings.model_copy(
        update={"models": settings.models.model_copy(update={"transcriber": transcriber})}))
    audio = pipeline.decode(shared_data / "asr_en" / "whisper_jfk" / "jfk.flac")
    (out,) = pipeline.transcribe(audio, SpeechOptions(language="en", team="T-1"))
    assert out.options["hotwords"] == "TalkTrack, HubSpot" and out.model.name == "tiny.en"
    assert "country" in out.text
