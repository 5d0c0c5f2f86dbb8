"""Does the pipeline keep every word that bare faster-whisper hears? WER and cpWER, same model, same run.

Why: the speech hub wraps faster-whisper (VAD, batching, diarization, word-to-speaker
alignment); each wrapper can lose or invent words that the bare model would have got right.
The target is relative — the pipeline's WER, and its speaker-attributed cpWER, at most the
bare model's WER on the same audio + 0.005 — so the reference only has to be the same for both.

Cases (every file with a reference):

- call 40 (``calls_en_telephone/Auto_Repairs_40_UTC``): the mono mix, whole and cut into
  30-60 s windows. Its *silver* references are each clean channel (agent, caller) transcribed
  alone by bare faster-whisper with the same model and settings: what the model hears without
  the other party, so a figure measures what mixing plus the pipeline lose, not tiny.en;
- the call-40 mixtures of :mod:`talktrack.evaluation.call_mixtures` (cross-talk, gain, noise,
  codecs) when that module is there, silver references from their clean channels the same way;
- ``asr_en``: jfk and LibriSpeech (human references, one speaker), and the two-channel stereo
  file (one reference per channel).

Per file: bare faster-whisper on the mixed audio against the time-ordered reference (the
channels' segments sorted by start) → WER; the pipeline (``SpeechPipeline.process``, PII
masking off: masking changes words on purpose) → WER of its utterances in time order, and
cpWER of its speakers against the reference's (:func:`~talktrack.evaluation.asr.score_speakers`).
Hesitation fillers are dropped on both sides (:func:`~talktrack.evaluation.asr.drop_fillers`).
``bare_batched_wer`` is faster-whisper's ``BatchedInferencePipeline`` on the same file: the
evidence behind ``models.transcriber.batched_min_duration_s``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from talktrack.core.config import Settings
from talktrack.evaluation.asr import drop_fillers, read_references, score, score_speakers
from talktrack.models.transcription import load_whisper, resolve_device, resolve_model
from talktrack.pipelines.speech.process import SpeechOptions, SpeechPipeline

CALL_40 = "calls_en_telephone/Auto_Repairs_40_UTC"
# (start, end) seconds of the call-40 windows: 30, 45 and 60 s, cut anywhere (words at the edges
# are cut in the clean channels too, so the references hear the same half-words)
CALL_40_WINDOWS = ((0.0, 30.0), (30.0, 75.0), (75.0, 135.0), (135.0, 165.0), (165.0, 210.0), (210.0, 245.0))
TARGET_MARGIN = 0.005


@dataclass(frozen=True)
class WordsCase:
    """One audio file and what was said in it: text per speaker, and all of it in time order."""

    name: str
    audio: Path
    references: dict[str, str]
    ordered_reference: str
    reference_kind: str  # "silver" (clean channels through bare faster-whisper) | "human"


class BareWhisper:
    """faster-whisper alone with the configured model and decoding settings, as a user would call it."""

    def __init__(self, settings: Settings):
        self.settings = settings.models.transcriber
        device, compute_type = resolve_device(self.settings)
        path = resolve_model(self.settings.model).path
        self.model = load_whisper(path, device, compute_type, self.settings.cpu_threads)

    def segments(self, path: Path, *, batched: bool = False) -> list[tuple[float, str]]:
        """(start, text) of each decoded segment."""
        kwargs = dict(beam_size=self.settings.beam_size, word_timestamps=True, vad_filter=True,
                      condition_on_previous_text=self.settings.condition_on_previous_text)
        if batched:
            from faster_whisper import BatchedInferencePipeline

            segments, _ = BatchedInferencePipeline(self.model).transcribe(
                str(path), batch_size=self.settings.batch_size, **kwargs)
        else:
            segments, _ = self.model.transcribe(str(path), **kwargs)
        return [(float(s.start), s.text) for s in segments]

    def text(self, path: Path, *, batched: bool = False) -> str:
        return " ".join(text for _, text in self.segments(path, batched=batched))


def silver_case(name: str, mix: Path, channels: dict[str, Path], bare: BareWhisper) -> WordsCase:
    """References from each clean channel transcribed alone; time order from the segments' starts."""
    segments = {speaker: bare.segments(path) for speaker, path in channels.items()}
    references = {speaker: " ".join(text for _, text in segs) for speaker, segs in segments.items()}
    ordered = sorted((start, text) for segs in segments.values() for start, text in segs)
    return WordsCase(name, mix, references, " ".join(text for _, text in ordered), "silver")


def call_40_cases(data: Path, folder: Path, bare: BareWhisper) -> list[WordsCase]:
    """The whole call-40 mix and its windows (cut from the mix and from each clean channel)."""
    import soundfile as sf

    base = data / CALL_40
    sources = {part: Path(f"{base}_{part}.wav") for part in ("mix", "agent", "caller")}
    audio = {part: sf.read(path, dtype="float32") for part, path in sources.items()}
    cases = [silver_case("call40_mix", sources["mix"], {p: sources[p] for p in ("agent", "caller")}, bare)]
    for start, end in CALL_40_WINDOWS:
        paths = {}
        for part, (samples, rate) in audio.items():
            paths[part] = folder / f"call40_{int(start):03d}_{int(end):03d}_{part}.wav"
            sf.write(paths[part], samples[int(start * rate):int(end * rate)], rate)
        name = f"call40_{int(start)}-{int(end)}s"
        cases.append(silver_case(name, paths["mix"], {p: paths[p] for p in ("agent", "caller")}, bare))
    return cases


def mixture_cases(data: Path, cache_dir: Path, bare: BareWhisper, *, split: str = "test",
                  count: int = 24) -> list[WordsCase]:
    """The call-40 mixtures (cross-talk, gain, noise, codec) with silver references from their channels."""
    from talktrack.evaluation.call_mixtures import build_call_mixtures

    return [silver_case(f"mixture_{m.id}", m.path, dict(m.channel_paths), bare)
            for m in build_call_mixtures(cache_dir, split, data=data, count=count)]


def human_cases(data: Path) -> list[WordsCase]:
    """asr_en files with their human references (the stereo file: one per channel)."""
    cases = []
    for audio, ref in (("whisper_jfk/jfk.flac", "whisper_jfk/jfk.ref.txt"),
                       ("wenet_librispeech/librispeech-1995-1837-0001.wav", "wenet_librispeech/text")):
        path = data / "asr_en" / audio
        text = read_references(data / "asr_en" / ref, [path])[str(path)] or ""
        cases.append(WordsCase(path.stem, path, {"speaker": text}, text, "human"))
    stereo = data / "asr_en/faster_whisper_stereo"
    lines = dict(line.split(maxsplit=1) for line in (stereo / "refs.txt").read_text().splitlines() if line.strip())
    references = {side: lines[f"stereo_diarization-{side}"] for side in ("left", "right")}
    cases.append(WordsCase("stereo_diarization", stereo / "stereo_diarization.wav", references,
                           " ".join(references.values()), "human"))
    return cases


def evaluate_case(case: WordsCase, bare: BareWhisper, pipeline: SpeechPipeline) -> dict[str, Any]:
    """Bare WER, bare-batched WER, pipeline WER and cpWER of one case (fillers dropped everywhere)."""
    reference = drop_fillers(case.ordered_reference)
    texts = {"reference": reference, "bare": drop_fillers(bare.text(case.audio))}
    batched_score = score(reference, drop_fillers(bare.text(case.audio, batched=True)))
    transcript = pipeline.process(case.audio, SpeechOptions(redact=False))
    utterances = sorted(transcript.utterances, key=lambda u: (u.start, u.end))
    texts["pipeline"] = drop_fillers(" ".join(u.text for u in utterances))
    bare_score, pipeline_score = score(reference, texts["bare"]), score(reference, texts["pipeline"])
    by_speaker: dict[str, str] = {}
    for u in utterances:
        by_speaker[u.speaker] = f"{by_speaker.get(u.speaker, '')} {u.text}"
    cp = score_speakers({k: drop_fillers(v) for k, v in case.references.items()},
                        {k: drop_fillers(v) for k, v in by_speaker.items()})
    bare_wer = bare_score["error_rate"]
    return {
        "file": case.name,
        "reference": case.reference_kind,
        "duration_s": round(transcript.duration_s, 2),
        "reference_words": bare_score["reference_units"],
        "bare_wer": bare_wer,
        "bare_batched_wer": batched_score["error_rate"],
        "pipeline_wer": pipeline_score["error_rate"],
        "pipeline_cpwer": cp["error_rate"],
        "pipeline_minus_bare": round(pipeline_score["error_rate"] - bare_wer, 4),
        "cpwer_minus_bare": round(cp["error_rate"] - bare_wer, 4),
        "speakers": {"reference": len(case.references), "pipeline": len(by_speaker)},
        "batched": transcript.options.get("transcription__batched"),
        "errors": {"bare": _errors(bare_score), "pipeline": _errors(pipeline_score), "cpwer": cp["errors"]},
        "texts": {key: " ".join(text.split()) for key, text in texts.items()},
    }


def bench_words(data: Path, settings: Settings, *, mixtures_cache: Path | None = None,
                cases: Sequence[WordsCase] | None = None) -> dict[str, Any]:
    """Every case → its row; pooled rates and the worst margins against the target."""
    bare = BareWhisper(settings)
    pipeline = SpeechPipeline(settings)
    with tempfile.TemporaryDirectory(prefix="talktrack-words-") as folder:
        if cases is None:
            cases = [*human_cases(data), *call_40_cases(data, Path(folder), bare)]
            if mixtures_cache is not None:
                cases += mixture_cases(data, mixtures_cache, bare)
        rows = [evaluate_case(case, bare, pipeline) for case in cases]
    return {"files": rows, "overall": _overall(rows), "target": f"pipeline WER and cpWER <= bare WER + {TARGET_MARGIN}",
            "model": settings.models.transcriber.model, "transcriber": settings.models.transcriber.model_dump()}


def _errors(row: dict[str, Any]) -> int:
    return row["substitutions"] + row["deletions"] + row["insertions"]


def _overall(rows: list[dict[str, Any]]) -> dict[str, Any]:
    words = sum(r["reference_words"] for r in rows)
    pooled = {key: round(sum(r["errors"][key] for r in rows) / words, 4) for key in ("bare", "pipeline", "cpwer")}
    margins = np.array([[r["pipeline_minus_bare"], r["cpwer_minus_bare"]] for r in rows])
    return {
        "files": len(rows),
        "reference_words": words,
        "bare_wer": pooled["bare"],
        "pipeline_wer": pooled["pipeline"],
        "pipeline_cpwer": pooled["cpwer"],
        "worst_pipeline_minus_bare": float(margins[:, 0].max()),
        "worst_cpwer_minus_bare": float(margins[:, 1].max()),
        "files_over_target": [r["file"] for r in rows
                              if max(r["pipeline_minus_bare"], r["cpwer_minus_bare"]) > TARGET_MARGIN],
    }
