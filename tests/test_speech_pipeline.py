"""The speech hub and its parts: alignment, roles, voiceprints, outputs, end to end on real audio.

Audio comes from the shared data (a two-channel dialer-style file) and from espeak-ng
(a two-voice sales dialogue synthesised here, so every word's true speaker is known).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from talktrack.core.records import Transcript, TranscriptUtterance
from talktrack.models.audio import AudioError
from talktrack.models.transcription import TranscribedWord as W
from talktrack.models.voiceprint import (
    VoiceprintError,
    embed_speech,
    enroll,
    load_voiceprints,
    save_voiceprint,
    similarity,
)
from talktrack.pipelines.ingest.call import transcribe_files
from talktrack.pipelines.speech import SpeechOptions, SpeechPipeline
from talktrack.pipelines.speech.align import Turn, align_words, assign_speakers, drop_echo, join_words
from talktrack.pipelines.speech.outputs import srt_time, to_srt, write_outputs
from talktrack.pipelines.speech.roles import assign_roles, roles_from_cues, roles_from_voiceprints

REP_VOICE = ["-v", "en-us", "-s", "160", "-p", "40"]
CUSTOMER_VOICE = ["-v", "en-us+f2", "-s", "155", "-p", "80"]
OTHER_VOICE = ["-v", "en-029+f4", "-s", "160", "-p", "90"]
DIALOGUE = [
    ("rep", "Hi Maria, this is Tom from Northwind Systems. Thanks for making the time today."),
    ("customer", "Hi Tom, sure, I have about twenty minutes."),
    ("rep", "How are you handling order reconciliation at the moment?"),
    ("customer", "Our finance team spends about thirty hours a week matching orders by hand."),
    ("rep", "Our product connects your warehouse and your invoices, so the matching happens automatically."),
    ("customer", "That sounds interesting. You can reach me at five five five, one two three, four five six seven."),
]
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


# --- helpers ---------------------------------------------------------------------------------


def say(voice: list[str], text: str, tmp: Path) -> np.ndarray:
    """espeak-ng speech at 16 kHz, leading/trailing silence trimmed."""
    from scipy.signal import resample_poly

    wav = tmp / "_say.wav"
    subprocess.run(["espeak-ng", *voice, "-w", str(wav), text], check=True, capture_output=True)
    samples, rate = sf.read(wav, dtype="float32")
    samples = resample_poly(samples, 16000, rate).astype(np.float32)
    voiced = np.flatnonzero(np.abs(samples) > 0.01)
    return samples[voiced[0] : voiced[-1] + 1]


def utterance(speaker: str, text: str, start: float = 0.0) -> TranscriptUtterance:
    return TranscriptUtterance(start=start, end=start + 1.0, speaker=speaker, text=text)


def attribution_accuracy(transcript: Transcript, truth: list[dict]) -> float:
    """Share of words whose speaker matches the synthesis, under the best label mapping."""

    def true_speaker(word) -> str:
        middle = (word.start + word.end) / 2
        return min(truth, key=lambda s: max(s["start"] - middle, middle - s["end"], 0.0))["role"]

    pairs = Counter((u.speaker, true_speaker(w)) for u in transcript.utterances for w in u.words or [])
    mapping: dict[str, str] = {}
    for (hyp, ref), _ in pairs.most_common():
        if hyp not in mapping and ref not in mapping.values():
            mapping[hyp] = ref
    return sum(n for (hyp, ref), n in pairs.items() if mapping.get(hyp) == ref) / sum(pairs.values())


@pytest.fixture(scope="session")
def pipeline(settings) -> SpeechPipeline:
    return SpeechPipeline(settings)


@pytest.fixture(scope="session")
def dialogue(tmp_path_factory):
    """A ~33 s rep/customer dialogue in two espeak-ng voices, with the true time of every line."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    folder = tmp_path_factory.mktemp("dialogue")
    pieces, truth, t = [np.zeros(8000, np.float32)], [], 0.5
    for role, text in DIALOGUE:
        speech = say(REP_VOICE if role == "rep" else CUSTOMER_VOICE, text, folder)
        truth.append({"role": role, "start": t, "end": t + speech.size / 16000})
        pieces += [speech, np.zeros(int(0.7 * 16000), np.float32)]
        t += speech.size / 16000 + 0.7
    path = folder / "sales_call.wav"
    signal = np.concatenate(pieces)
    sf.write(path, 0.8 * signal / np.abs(signal).max(), 16000)
    return path, truth


@pytest.fixture(scope="session")
def batch(pipeline, settings, dialogue, shared_data, tmp_path_factory):
    """transcribe_files over the dialogue, the stereo file and a broken file, once."""
    out = tmp_path_factory.mktemp("out")
    broken = out.parent / "broken.wav"
    broken.write_bytes(b"RIFF not really a wav file")
    stereo = shared_data / "asr_en" / "faster_whisper_stereo" / "stereo_diarization.wav"
    steps: list[tuple[str, int, int]] = []
    outcomes = transcribe_files(
        [dialogue[0], broken, stereo], out, settings, SpeechOptions(call_type="phone_call"),
        progress=lambda *a: steps.append(a),
    )  # the count comes from what the call is, as a dialer's manifest or `--call-type phone_call` gives it
    return outcomes, steps, out


# --- alignment -------------------------------------------------------------------------------


def test_each_word_goes_to_the_turn_that_overlaps_it_most():
    turns = [Turn(0.0, 1.0, "A"), Turn(0.9, 2.0, "B")]
    words = [W(0.1, 0.5, " one", 0.9), W(0.8, 1.3, " two", 0.9), W(0.6, 0.98, " three", 0.9)]
    assert assign_speakers(words, turns) == ["A", "B", "A"]


def test_a_word_outside_every_turn_goes_to_the_nearest_one():
    turns = [Turn(0.0, 1.0, "A"), Turn(3.0, 4.0, "B")]
    words = [W(1.2, 1.4, " a", 0.9), W(2.5, 2.8, " b", 0.9), W(2.0, 2.0, " c", 0.9), W(5.0, 5.5, " d", 0.9)]
    assert assign_speakers(sorted(words, key=lambda w: w.start), turns) == ["A", "A", "B", "B"]


def test_nearest_turn_tie_goes_to_the_earlier_speaker():
    turns = [Turn(0.0, 1.0, "A"), Turn(2.0, 3.0, "B")]
    assert assign_speakers([W(1.25, 1.75, " x", 0.9)], turns) == ["A"]


def test_no_turns_means_one_speaker():
    assert assign_speakers([W(0, 1, " hi", 0.9)], []) == ["SPEAKER_00"]


def test_utterances_are_runs_of_one_speaker_split_at_long_pauses():
    turns = [Turn(0.0, 5.0, "A"), Turn(5.0, 7.0, "B")]
    words = [
        W(0.0, 0.4, " Hello,", 0.9), W(0.5, 0.9, " Maria.", 0.8),
        W(2.5, 2.9, " Still", 0.9), W(3.0, 3.3, " me.", 0.9),  # 1.6 s pause: a new utterance
        W(5.2, 5.6, " Hi", 0.9), W(5.7, 6.0, " Tom!", 0.7),
    ]  # fmt: skip
    utterances = align_words(words, turns, max_pause_s=1.0, language="en")
    assert [(u.speaker, u.text, u.start, u.end) for u in utterances] == [
        ("A", "Hello, Maria.", 0.0, 0.9), ("A", "Still me.", 2.5, 3.3), ("B", "Hi Tom!", 5.2, 6.0),
    ]  # fmt: skip
    assert [w.word for w in utterances[0].words] == ["Hello,", "Maria."]
    assert utterances[0].words[1].probability == 0.8 and utterances[0].language == "en"
    assert len(align_words(words, turns, max_pause_s=2.0)) == 2


def test_chinese_and_mixed_text_join_without_stray_spaces():
    assert join_words(["我们", "的", "产品", "可以", "帮", "您", "。"]) == "我们的产品可以帮您。"
    assert join_words([" 我们", " 用", " iPhone", " 打", " 电话"]) == "我们用 iPhone 打电话"
    assert join_words([" Hello,", " world", "!"]) == "Hello, world!"
    words = [W(0.0, 0.3, "甚至", 0.9), W(0.3, 0.6, "出现", 0.9), W(0.6, 0.9, "交易", 0.9)]
    (utt,) = align_words(words, [Turn(0, 1, "SPEAKER_00")], language="zh")
    assert utt.text == "甚至出现交易" and [w.word for w in utt.words] == ["甚至", "出现", "交易"]


def test_far_end_echo_on_a_split_channel_is_dropped():
    own, other = [Turn(0.0, 2.0, "SPEAKER_00")], [Turn(3.0, 5.0, "SPEAKER_01")]
    words = [W(0.5, 0.9, " mine", 0.9), W(3.5, 3.9, " echo", 0.5), W(6.0, 6.3, " quiet", 0.9)]
    assert [w.word for w in drop_echo(words, own, other)] == [" mine", " quiet"]


# --- roles from cues -------------------------------------------------------------------------


def test_cues_find_the_agent_in_a_real_bank_call(shared_data):
    segments = json.loads((shared_data / "text" / "harper_valley" / "0002f70f7386445b.transcript.json").read_text())
    segments = sorted(segments, key=lambda s: s["start_ms"])
    utterances = [
        utterance(s["speaker_role"], s["human_transcript"], s["start_ms"] / 1000)
        for s in segments
        if not s["human_transcript"].startswith("[")
    ]
    roles = roles_from_cues(utterances)
    assert roles["agent"].role == "rep" and roles["caller"].role == "customer"
    assert roles["agent"].confidence > 0.9 and roles["agent"].method == "cues"


def test_cues_find_the_agent_in_real_customer_service_chats(shared_data):
    convos = json.loads((shared_data / "text" / "abcd" / "abcd_sample.json").read_text())
    for convo in convos:
        lines = [(s, t) for s, t in convo["original"] if s != "action"]
        roles = roles_from_cues([utterance(s, t, i) for i, (s, t) in enumerate(lines)])
        assert roles["agent"].role == "rep", convo["convo_id"]


def _world_dialogue(lexicon, rng) -> list[tuple[str, str]]:
    """A call built from the world generator's phrase lists (acts end in .rep / .customer)."""
    phrases = lexicon.PHRASES

    class Slots(dict):
        def __missing__(self, key):
            return {"contact_first": "Maya", "rep_first": "Dana", "vendor": "Northwind", "customer": "Granite"}.get(key, "12")

    def say_(act):
        return str(rng.choice(phrases[act])).format_map(Slots())

    lines = [("customer", say_("greet.customer_first"))] if rng.random() < 0.5 else []
    lines += [("rep", say_("greet.rep")), ("customer", say_("greet.customer"))]
    for _ in range(2):
        lines += [("rep", say_("q.open")), ("customer", say_("a.open"))]
    lines += [("rep", say_("value.rep")), ("customer", say_("value.customer"))]
    objection = rng.choice(sorted(k for k in phrases if k.startswith("obj.") and k != "obj.lead_new"))
    moves = rng.choice(sorted(k for k in phrases if k.startswith("move.")), size=2, replace=False)
    lines += [("customer", say_(objection))] + [("rep", say_(m)) for m in moves]
    lines += [("rep", say_("next.rep")), ("customer", say_("next.customer")), ("rep", say_("bye.rep"))]
    return lines


@pytest.mark.parametrize("language", ["en", "zh"])
def test_cues_on_generated_sales_calls(language):
    lexicon = pytest.importorskip(f"talktrack.evaluation.world.phrases_{language}")
    if not hasattr(lexicon, "PHRASES"):
        pytest.skip("the world lexicon has no PHRASES table")
    rng = np.random.default_rng(11)
    correct = 0
    for _ in range(100):
        lines = _world_dialogue(lexicon, rng)
        roles = roles_from_cues([utterance(s, t, i) for i, (s, t) in enumerate(lines)])
        correct += roles["rep"].role == "rep"
    assert correct >= 95, correct


def test_chinese_self_introduction_and_vendor_talk():
    utterances = [
        utterance("A", "喂，您好？"),
        utterance("B", "王总您好，我是北风科技的小李，今天想跟您聊聊我们的产品。"),
        utterance("A", "嗯，我们现在用的是表格，预算也比较紧。"),
        utterance("B", "理解，请问您那边每个月对账要花多少时间？"),
    ]
    roles = roles_from_cues(utterances)
    assert roles["B"].role == "rep" and roles["A"].role == "customer" and roles["B"].confidence > 0.9


def test_no_cues_leaves_roles_unknown_and_one_speaker_is_at_most_a_weak_rep():
    tied = roles_from_cues([utterance("A", "okay"), utterance("B", "okay")])
    assert tied["A"].role == tied["B"].role == "unknown"  # speaking first alone does not decide
    alone = roles_from_cues([utterance("A", "Hi, this is Dana from Northwind, our product helps teams.")])
    assert alone["A"].role == "rep" and alone["A"].confidence <= 0.6
    assert roles_from_cues([utterance("A", "okay then")])["A"].role == "unknown"


def test_with_three_speakers_the_best_scorer_is_the_rep():
    roles = roles_from_cues(
        [
            utterance("A", "Hello?"),
            utterance("B", "Hi, this is Dana from Northwind Systems. How are you handling this today?"),
            utterance("C", "We currently use spreadsheets and our budget is tight."),
            utterance("B", "Our platform can help; would a demo help?"),
            utterance("A", "My boss decides, send me the pricing."),
        ]
    )
    assert [roles[s].role for s in "ABC"] == ["customer", "rep", "customer"]
    assert math.isclose(sum(1 - roles[s].confidence for s in "AC") + roles["B"].confidence, 1.0, abs_tol=1e-3)


# --- voiceprints -----------------------------------------------------------------------------


@needs_espeak
def test_an_enrolled_voice_is_recognised_among_others(tmp_path):
    voiceprint = enroll(
        [
            say(REP_VOICE, "Good morning, this is my enrolment recording for the voice print.", tmp_path),
            say(REP_VOICE, "I help operations teams stop matching orders by hand.", tmp_path),
        ]
    )
    assert voiceprint.shape == (256,) and math.isclose(float(np.linalg.norm(voiceprint)), 1.0, rel_tol=1e-5)
    sentence = "Our product connects your warehouse and your invoices so the matching happens automatically."
    same = similarity(voiceprint, embed_speech(say(REP_VOICE, sentence, tmp_path)))
    other = similarity(voiceprint, embed_speech(say(OTHER_VOICE, sentence, tmp_path)))
    assert same > 0.85 and same - other > 0.1, (same, other)

    embeddings = {
        "SPEAKER_00": embed_speech(say(OTHER_VOICE, "We currently use spreadsheets for all of it.", tmp_path)),
        "SPEAKER_01": embed_speech(say(REP_VOICE, "Would a short case study help you decide?", tmp_path)),
    }
    roles = roles_from_voiceprints(embeddings, {"REP-007": voiceprint})
    assert roles["SPEAKER_01"].role == "rep" and roles["SPEAKER_01"].rep_id == "REP-007"
    assert roles["SPEAKER_00"].role == "customer" and roles["SPEAKER_01"].method == "voiceprint"

    save_voiceprint(tmp_path / "prints", "REP-007", voiceprint, {"recordings": 2})
    loaded = load_voiceprints(tmp_path / "prints")
    assert list(loaded) == ["REP-007"] and np.allclose(loaded["REP-007"], voiceprint)
    meta = json.loads((tmp_path / "prints" / "REP-007.json").read_text())
    assert meta["recordings"] == 2 and meta["dim"] == 256 and "resemblyzer" in meta["encoder"]


def test_voiceprint_files_refuse_bad_ids_and_too_little_speech(tmp_path):
    with pytest.raises(VoiceprintError, match="rep id"):
        save_voiceprint(tmp_path, "../evil", np.ones(256, np.float32))
    with pytest.raises(VoiceprintError, match="speech"):
        embed_speech(np.zeros(16000, np.float32))
    assert load_voiceprints(tmp_path / "none") == {}


def test_an_undecisive_voiceprint_falls_back_to_cues():
    vector = np.ones(256, np.float32) / 16
    utterances = [utterance("A", "Hi, this is Dana from Northwind."), utterance("B", "our budget is tight")]
    roles = assign_roles(utterances, embeddings={"A": vector, "B": vector}, voiceprints={"REP-1": vector})
    assert roles["A"].role == "rep" and roles["A"].method == "cues"


# --- outputs ---------------------------------------------------------------------------------


def test_srt_timestamps_and_long_utterances_split_into_cues():
    assert srt_time(0) == "00:00:00,000" and srt_time(3725.5) == "01:02:05,500" and srt_time(59.9996) == "00:01:00,000"
    words = [W(i * 0.5, i * 0.5 + 0.4, f" word{i}", 0.9) for i in range(40)]  # 20 s of talk
    (utt,) = align_words(words, [Turn(0, 30, "SPEAKER_00")])
    transcript = Transcript(speakers=[{"speaker": "SPEAKER_00", "role": "rep"}], utterances=[utt.model_copy(update={"role": "rep"})])
    cues = to_srt(transcript).strip().split("\n\n")
    assert len(cues) >= 3
    first = cues[0].splitlines()
    assert first[0] == "1" and first[1].startswith("00:00:00,000 --> 00:00:0") and first[2].startswith("SPEAKER_00 (rep): word0")
    assert " ".join(c.splitlines()[2].split(": ", 1)[1] for c in cues) == utt.text


# --- the hub end to end ----------------------------------------------------------------------


def test_transcribe_files_writes_three_outputs_and_reports_a_bad_file(batch):
    outcomes, steps, out = batch
    good, broken, stereo = outcomes
    assert good.ok and stereo.ok and not broken.ok
    assert broken.error_type == "AudioError" and "broken.wav" in broken.error
    assert steps == [("transcribe", 1, 3), ("transcribe", 2, 3), ("transcribe", 3, 3)]
    for outcome in (good, stereo):
        assert sorted(outcome.outputs) == ["json", "rttm", "srt"]
        assert all(Path(p).is_file() for p in outcome.outputs.values())
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_the_dialogue_transcript_is_valid_and_words_go_to_the_right_speaker(batch, dialogue):
    outcomes, _, out = batch
    data = json.loads(Path(outcomes[0].outputs["json"]).read_text(encoding="utf-8"))
    transcript = Transcript.model_validate(data)
    assert data["schema"] == "talktrack.transcript/1" and transcript.call_id == "sales_call"
    assert len(transcript.speakers) == 2
    accuracy = attribution_accuracy(transcript, dialogue[1])
    assert accuracy >= 0.9, accuracy
    # the rep introduced himself and the product: cues make him the rep
    first = transcript.utterances[0].speaker
    roles = {s.speaker: s.role for s in transcript.speakers}
    assert roles[first] == "rep" and sorted(roles.values()) == ["customer", "rep"]
    # the dictated phone number was masked before anything was written
    assert transcript.models["pii"]["redacted"].get("phone", 0) >= 1
    text = " ".join(u.text for u in transcript.utterances)
    assert "[PHONE]" in text and "4, 5, 6, 7" not in text
    # provenance: options, models, timings
    assert transcript.options["speech__call_type"] == "phone_call" and "transcription__beam_size" in transcript.options
    assert transcript.options["diarization__speakers__max"] == 2  # a phone call: at most two parties
    assert any(k.startswith("diarization__") for k in transcript.options)
    assert transcript.models["transcriber"]["name"] == "tiny.en" and transcript.models["transcriber"]["compute_type"]
    assert transcript.models["diarizer"]["backend"] == "combined"  # the default; a fixed count → its window result
    for key in ("decode_s", "diarize_s", "transcribe_s", "align_s", "roles_s", "redact_s", "total_s", "real_time_factor"):
        assert transcript.timings[key] >= 0, key
    assert transcript.timings["audio_duration_s"] == pytest.approx(transcript.duration_s, abs=0.01)


def test_rttm_and_srt_files(batch):
    outcomes, _, _ = batch
    rttm = Path(outcomes[0].outputs["rttm"]).read_text().splitlines()
    fields = [line.split() for line in rttm]
    assert fields and all(f[0] == "SPEAKER" and f[1] == "sales_call" and len(f) == 10 for f in fields)
    assert {f[7] for f in fields} == {"SPEAKER_00", "SPEAKER_01"}
    # the RTTM is the diarization's turns, which the transcript carries (so the JSON alone rebuilds it)
    transcript = Transcript.model_validate_json(Path(outcomes[0].outputs["json"]).read_text(encoding="utf-8"))
    assert [(f[7], float(f[3])) for f in fields] == [(t.speaker, round(t.start, 3)) for t in transcript.turns]
    srt = Path(outcomes[0].outputs["srt"]).read_text(encoding="utf-8")
    first = srt.split("\n\n")[0].splitlines()
    assert first[0] == "1" and " --> " in first[1] and first[2].startswith("SPEAKER_0")


def test_a_dialer_stereo_file_is_split_by_channel(batch, shared_data):
    outcomes, _, _ = batch
    transcript = Transcript.model_validate_json(Path(outcomes[2].outputs["json"]).read_text(encoding="utf-8"))
    assert transcript.source["channel_layout"] == "split" and transcript.models["diarizer"]["backend"] == "channels"
    assert [s.speaker for s in transcript.speakers] == ["SPEAKER_00", "SPEAKER_01"]
    refs = dict(line.split(" ", 1) for line in (shared_data / "asr_en" / "faster_whisper_stereo" / "refs.txt").read_text().splitlines())
    vocab = {
        "SPEAKER_00": set(refs["stereo_diarization-left"].lower().replace(",", "").replace(".", "").split()),
        "SPEAKER_01": set(refs["stereo_diarization-right"].lower().replace(".", "").split()),
    }
    words = [(u.speaker, w.word.lower().strip(".,!?")) for u in transcript.utterances for w in u.words]
    known = [(s, w) for s, w in words if w in vocab["SPEAKER_00"] ^ vocab["SPEAKER_01"]]
    correct = sum(w in vocab[s] for s, w in known)
    assert len(known) >= 12 and correct / len(known) >= 0.9, (correct, len(known))


def test_process_calls_the_hook_after_every_step_and_segment_and_uses_voiceprints(pipeline, dialogue, tmp_path):
    voiceprint = enroll([say(REP_VOICE, "This is my enrolment recording, I sell order software to operations teams.", tmp_path)])
    steps = []
    transcript = pipeline.process(
        dialogue[0], SpeechOptions(num_speakers=2, redact=False), call_id="c1",
        voiceprints={"REP-042": voiceprint}, hook=lambda step, artifact: steps.append(step),
    )  # fmt: skip
    assert [s for s in steps if s != "transcribing"] == [
        "decode", "diarize", "transcribe", "align", "roles", "redact", "transcript"]
    # and once per decoded segment while transcribing, so a hook that raises stops it early
    assert steps[1:steps.index("diarize")] == ["transcribing"] * steps.count("transcribing") and "transcribing" in steps
    rep = [s for s in transcript.speakers if s.role == "rep"]
    assert len(rep) == 1 and rep[0].rep_id == "REP-042" and transcript.models["roles"]["method"] == ["voiceprint"]
    assert rep[0].speaker == transcript.utterances[0].speaker
    assert transcript.options["pii__redact"] is False and transcript.models["pii"]["redacted"] == {}


def test_steps_compose_like_process_for_ray_stages(pipeline, shared_data):
    options = SpeechOptions()
    audio = pipeline.decode(shared_data / "asr_en" / "whisper_jfk" / "jfk.flac")
    diarization = pipeline.diarize(audio, options)
    transcriptions = pipeline.transcribe(audio, options)
    transcript = pipeline.assemble(audio, diarization, transcriptions, options, call_id="jfk")
    assert pipeline.layout(audio, options).mode == "mix"  # jfk is stereo with the same voice on both channels
    assert len(transcriptions) == 1 and "fellow Americans" in " ".join(u.text for u in transcript.utterances)


def test_bad_options_and_inputs_are_refused(pipeline, tmp_path):
    with pytest.raises(ValueError, match="min_speakers"):
        SpeechOptions(min_speakers=3, max_speakers=2)
    with pytest.raises(ValueError, match="max_pause_s"):
        SpeechOptions(max_pause_s=0)
    with pytest.raises(TypeError, match="path"):
        pipeline.process(12345)
    with pytest.raises(AudioError, match="file not found"):
        pipeline.process(tmp_path / "missing.wav")


def test_transcribe_refuses_an_unknown_call_type_and_impossible_counts_before_reading_audio(tmp_path):
    from typer.testing import CliRunner

    from talktrack.cli.main import app

    runner, missing = CliRunner(), str(tmp_path / "not_read.wav")
    command = ["--workspace", str(tmp_path), "transcribe", missing, "--out", str(tmp_path / "out")]
    unknown = runner.invoke(app, [*command, "--call-type", "conference"])
    assert unknown.exit_code == 2 and "known: meeting, phone_call" in unknown.output
    crossed = runner.invoke(app, [*command, "--min-speakers", "3", "--max-speakers", "2"])
    assert crossed.exit_code == 2 and "min_speakers (3) exceeds max_speakers (2)" in crossed.output
    zero = runner.invoke(app, [*command, "--speakers", "0", "--call-type", "phone_call"])
    assert zero.exit_code == 2 and not (tmp_path / "out").exists()


def test_write_outputs_replaces_existing_files_atomically(tmp_path):
    transcript = Transcript(speakers=[{"speaker": "SPEAKER_00"}], utterances=[utterance("SPEAKER_00", "hello")])
    (tmp_path / "x.json").write_text("old")
    paths = write_outputs(transcript, tmp_path, "x")
    assert json.loads(paths["json"].read_text())["utterances"][0]["text"] == "hello"
    assert paths["rttm"].read_text().startswith("SPEAKER x 1 0.000 1.000")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json", "x.rttm", "x.srt"]

