"""Registering recordings for calls (the sink every path uses: CLI, Ray ingest, service uploads), and
``process_call``, the one way a recording becomes a transcript, its files and the catalog's call.

A call's rep, deal and customer are set once; one recording is one call; each try at processing is
an attempt, and a failed one never hides the transcript a call already has.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from talktrack.core.catalog.schema import Call, Deal, Rep, Utterance
from talktrack.core.records import Transcript
from talktrack.pipelines.ingest import sink
from talktrack.pipelines.ingest.call import CallRecording, UnsupportedLanguage, process_call, refuse_unsupported_language
from talktrack.pipelines.ingest.manifest import IngestItem
from talktrack.pipelines.speech.process import SpeechOptions, SpeechPipeline


@pytest.fixture
def world(fresh_semantic_workspace):
    _, _, catalog = fresh_semantic_workspace
    with catalog.session() as session:
        reps = list(session.scalars(select(Rep.external_id).order_by(Rep.id).limit(2)))
        imported = session.scalar(select(Call.external_id).where(Call.status == "imported").order_by(Call.id).limit(1))
        deal = session.scalar(select(Deal.external_id).join(Rep, Rep.id == Deal.rep_id)
                              .where(Rep.external_id == reps[0]).limit(1))
    return catalog, reps, imported, deal


def recording(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(name.encode() * 100)
    return path


def utterance_count(catalog, call_id: str) -> int:
    with catalog.session() as session:
        return session.scalar(select(func.count(Utterance.id)).join(Call, Call.id == Utterance.call_id)
                              .where(Call.external_id == call_id))


def test_a_calls_rep_is_set_once(world, tmp_path):
    catalog, (rep_a, rep_b), _, _ = world
    path = recording(tmp_path, "a.wav")
    first = sink.register(catalog, IngestItem(path, "CALL-NEW-1", rep_id=rep_a), "hash-a")
    assert first.needs_work and first.attempt == 1
    with pytest.raises(sink.RegistrationConflict, match="set once"):
        sink.register(catalog, IngestItem(path, "CALL-NEW-1", rep_id=rep_b), "hash-a")
    # the same recording under another call id is a conflict too, never a second call
    with pytest.raises(sink.RegistrationConflict, match="already call 'CALL-NEW-1'"):
        sink.register(catalog, IngestItem(path, "CALL-NEW-2", rep_id=rep_a), "hash-a")
    with catalog.session() as session:
        owner = session.scalar(select(Rep.external_id).join(Call, Call.rep_id == Rep.id)
                               .where(Call.external_id == "CALL-NEW-1"))
    assert owner == rep_a


def test_a_failed_attempt_keeps_the_transcript_a_success_replaces_it(world, tmp_path):
    catalog, (rep_a, _), imported, _ = world
    before = utterance_count(catalog, imported)
    attempt = sink.register(catalog, IngestItem(recording(tmp_path, "b.wav"), imported), "hash-b")
    with catalog.session() as session:
        call = session.scalar(select(Call).where(Call.external_id == imported))
        assert call.status == "imported" and call.content_hash is None  # untouched while the attempt runs
    sink.store_failure(catalog, imported, "could not decode b.wav", attempt.attempt)
    assert utterance_count(catalog, imported) == before
    assert [(a["attempt"], a["status"], a["error"]) for a in sink.attempts(catalog, imported)] == [
        (1, "failed", "could not decode b.wav")]

    second = sink.register(catalog, IngestItem(recording(tmp_path, "c.wav"), imported), "hash-c")
    assert second.attempt == 2
    transcript = Transcript.model_validate({"utterances": [
        {"speaker": "S1", "start": 0.0, "end": 1.0, "text": "hello there", "role": "rep"}],
        "speakers": [{"speaker": "S1", "role": "rep"}], "language": "en"})
    sink.store_result(catalog, imported, transcript, tmp_path / "c.json", second.attempt)
    with catalog.session() as session:
        call = session.scalar(select(Call).where(Call.external_id == imported))
        assert call.status == "transcribed" and call.content_hash == "hash-c"
        assert call.audio_path.endswith("c.wav")
    assert utterance_count(catalog, imported) == 1
    assert [a["status"] for a in sink.attempts(catalog, imported)] == ["failed", "done"]
    # the same recording again: nothing to do
    assert not sink.register(catalog, IngestItem(tmp_path / "c.wav", imported), "hash-c").needs_work


def test_a_call_without_a_transcript_fails_with_its_attempt(world, tmp_path):
    catalog, (rep_a, _), _, deal = world
    attempt = sink.register(catalog, IngestItem(recording(tmp_path, "d.wav"), "CALL-NEW-3", rep_id=rep_a,
                                                deal_id=deal), "hash-d")
    sink.store_failure(catalog, "CALL-NEW-3", "silent", attempt.attempt)
    with catalog.session() as session:
        call = session.scalar(select(Call).where(Call.external_id == "CALL-NEW-3"))
        assert (call.status, call.error) == ("failed", "silent")
    # a resumed run re-uses the attempt still processing this very recording
    again = sink.register(catalog, IngestItem(tmp_path / "d.wav", "CALL-NEW-3"), "hash-d")
    assert again.attempt == 2 and again.needs_work
    resumed = sink.register(catalog, IngestItem(tmp_path / "d.wav", "CALL-NEW-3"), "hash-d")
    assert resumed.attempt == 2


def test_process_call_stores_the_transcript_with_its_turns_and_files(world, tmp_path, shared_data, settings):
    catalog, (rep_a, _), _, _ = world
    jfk = shared_data / "asr_en" / "whisper_jfk" / "jfk.flac"
    registered = sink.register(catalog, IngestItem(jfk, "CALL-JFK", rep_id=rep_a), "hash-jfk")
    steps = []
    result = process_call(SpeechPipeline(settings), CallRecording(jfk, "CALL-JFK", SpeechOptions(),
                                                                  attempt=registered.attempt),
                          tmp_path / "out", catalog=catalog, hook=lambda step, _: steps.append(step))
    assert steps[-2:] == ["transcript", "outputs"]  # a hook that raises at "outputs" stops the store
    assert sorted(result.files) == ["json", "rttm", "srt"] and result.transcript.turns
    rttm = result.files["rttm"].read_text().splitlines()
    assert len(rttm) == len(result.transcript.turns)
    assert Transcript.model_validate_json(result.files["json"].read_text()).turns == result.transcript.turns
    with catalog.session() as session:
        call = session.scalar(select(Call).where(Call.external_id == "CALL-JFK"))
        assert call.status == "transcribed" and call.transcript_path == str(result.files["json"])
    assert utterance_count(catalog, "CALL-JFK") == len(result.transcript.utterances) > 0
    assert [a["status"] for a in sink.attempts(catalog, "CALL-JFK")] == ["done"]


def test_process_call_refuses_a_language_the_model_cannot_read_and_keeps_the_old_transcript(world, tmp_path,
                                                                                             settings):
    """With no multilingual model configured, tiny.en alone would turn a Mandarin call into English
    nonsense: it is refused before any work (CLI, ingest and service alike)."""
    catalog, _, imported, _ = world
    before = utterance_count(catalog, imported)
    attempt = sink.register(catalog, IngestItem(recording(tmp_path, "zh.wav"), imported), "hash-zh")
    english_only = settings.models.transcriber.model_copy(update={"multilingual_model": None})
    pipeline = SpeechPipeline(settings.model_copy(update={"models": settings.models.model_copy(
        update={"transcriber": english_only})}))
    refuse_unsupported_language(settings, "zh-CN")  # the default configuration reads Mandarin
    with pytest.raises(UnsupportedLanguage, match="not a language Whisper reads"):
        refuse_unsupported_language(settings, "klingon")
    call = CallRecording(tmp_path / "zh.wav", imported, SpeechOptions(), language="zh", attempt=attempt.attempt)
    with pytest.raises(UnsupportedLanguage, match="English-only"):
        process_call(pipeline, call, tmp_path / "out", catalog=catalog)
    assert "transcriber" not in vars(pipeline)  # refused before the model was loaded
    assert not (tmp_path / "out").exists()
    assert utterance_count(catalog, imported) == before
    (failed,) = sink.attempts(catalog, imported)
    assert failed["status"] == "failed" and "English-only" in failed["error"]
