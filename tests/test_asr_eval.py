"""ASR evaluation: reference formats, normalisation, WER/CER, and a real run through tiny.en."""

from __future__ import annotations

import json

import pytest

from talktrack.evaluation.asr import (
    evaluate_asr,
    is_chinese,
    normalise_chinese,
    normalise_english,
    read_references,
    score,
)


def test_kaldi_references_are_matched_by_audio_stem(shared_data):
    folder = shared_data / "asr_zh" / "aishell1"
    audio = [folder / "BAC009S0764W0121.wav", folder / "aishell-BAC009S0724W0121.wav", folder / "missing.wav"]
    refs = read_references(folder / "text", audio)
    assert refs[str(audio[0])] == "甚至出现交易几乎停滞的情况"
    assert refs[str(audio[1])] == "广州市房地产中介协会分析"
    assert refs[str(audio[2])] is None


def test_a_plain_reference_belongs_to_the_single_audio_file(tmp_path):
    ref = tmp_path / "ref.txt"
    ref.write_text("Hello there,\ngeneral Kenobi.\n")
    assert read_references(ref, [tmp_path / "call.wav"]) == {str(tmp_path / "call.wav"): "Hello there, general Kenobi."}
    with pytest.raises(ValueError, match="Kaldi-style"):
        read_references(ref, [tmp_path / "a.wav", tmp_path / "b.wav"])


def test_english_normalisation():
    assert normalise_english("Don't pay $1,200 on the 2nd!") == ["do", "not", "pay", "one", "thousand", "two", "hundred", "dollars", "on", "the", "second"]
    assert normalise_english("In 1995, 3.5% of 10,000 well-known firms") == [
        "in", "nineteen", "ninety", "five", "three", "point", "five", "percent", "of", "ten", "thousand", "well", "known", "firms",
    ]  # fmt: skip
    assert score("IT WAS THE FIRST GREAT SORROW", "It was the 1st great sorrow.")["error_rate"] == 0.0


def test_chinese_is_scored_by_characters(shared_data):
    lines = (shared_data / "asr_zh" / "aishell1" / "text").read_text(encoding="utf-8").splitlines()
    reference = lines[0].split(maxsplit=1)[1]
    assert is_chinese(reference) and not is_chinese("plain English") and is_chinese("x", language="zh")
    same = score(reference, reference)
    assert same["metric"] == "cer" and same["error_rate"] == 0.0 and same["reference_units"] == len(reference)
    spaced = score(reference, " ".join(reference) + "。")  # spaces and punctuation do not count
    assert spaced["error_rate"] == 0.0
    one_wrong = score(reference, reference[:-1] + "X")
    assert one_wrong["substitutions"] == 1 and one_wrong["error_rate"] == round(1 / len(reference), 4)
    assert normalise_chinese("用 iPhone 打电话") == ["用", "iphone", "打", "电", "话"]


def test_evaluate_english_files_with_a_kaldi_reference(shared_data, transcriber):
    folder = shared_data / "asr_en" / "whisper_jfk"
    report = evaluate_asr([folder / "jfk.flac"], folder / "jfk.ref.txt", transcriber=transcriber)
    json.dumps(report)  # JSON-serialisable
    assert report["metric"] == "wer" and report["error_rate"] <= 0.10
    row = report["files"][0]
    assert row["id"] == "jfk" and row["reference_units"] == 22 and row["real_time_factor"] > 0
    assert report["overall"]["wer"]["files"] == 1 and list(report["models"]) == ["tiny.en"]


def test_evaluate_pools_files_and_reports_missing_references(shared_data, transcriber, tmp_path):
    libri = shared_data / "asr_en" / "wenet_librispeech"
    jfk = shared_data / "asr_en" / "whisper_jfk"
    ref = tmp_path / "text"
    ref.write_text((libri / "text").read_text() + (jfk / "jfk.ref.txt").read_text())
    other = tmp_path / "unreferenced.wav"
    report = evaluate_asr([libri / "librispeech-1995-1837-0001.wav", jfk / "jfk.flac", other], ref, transcriber=transcriber)
    totals = report["overall"]["wer"]
    assert totals["files"] == 2 and totals["reference_units"] == 30 + 22
    assert totals["error_rate"] <= 0.10
    assert report["files"][2]["error"].startswith("no reference")


def test_the_cer_path_runs_on_mandarin_audio(shared_data, transcriber):
    """tiny.en is English-only: this checks the CER machinery, not Mandarin accuracy."""
    folder = shared_data / "asr_zh" / "aishell1"
    report = evaluate_asr([folder / "BAC009S0764W0121.wav"], folder / "text", transcriber=transcriber)
    assert report["metric"] == "cer"
    assert report["files"][0]["reference_units"] == 13 and report["error_rate"] >= 0
