"""Settings of the semantic layer: utterance index, moments, talk-track mining, SOPs, evidence."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from talktrack.core.config.base import Strict


class IndexSettings(Strict):
    """The FAISS utterance index: exact while small, HNSW beyond ``exact_max_vectors``, compressed
    IVF-PQ (codes in memory, exact vectors on disk for re-ranking) beyond ``compressed_min_vectors``."""

    kind: Literal["auto", "flat", "hnsw", "ivfpq"] = "auto"
    exact_max_vectors: int = Field(50_000, ge=0)
    # auto: IVF-PQ once the index would hold more than this (HNSW needs ~1.7 GB per million 384-d vectors)
    compressed_min_vectors: int = Field(2_000_000, ge=1_000)
    hnsw_m: int = Field(32, ge=4, le=128)
    hnsw_ef_construction: int = Field(80, ge=8)
    hnsw_ef_search: int = Field(768, ge=8)
    ivf_nlist: int | None = Field(None, ge=1)      # null: about 4 * sqrt(n)
    ivf_nprobe: int = Field(16, ge=1)
    pq_m: int = Field(64, ge=1)                   # PQ sub-quantizers (8 bits each); divides 384 and 512
    ivf_train_sample: int = Field(100_000, ge=1_000)  # vectors the coarse and PQ codebooks are trained on
    ivf_rerank: int = Field(20, ge=0)              # re-score rerank * k PQ candidates on the stored vectors (0: PQ scores)
    ivf_store_dtype: Literal["float16", "float32"] = "float16"  # the on-disk copy of the vectors
    ivf_mmap: bool = True                          # load IVF-PQ lists memory-mapped (read-only until the next add)
    ivf_retrain_growth: float = Field(4.0, gt=1.0)  # retrain once the index outgrows its training size this many times
    ivf_drift_tolerance: float = Field(0.05, gt=0.0, le=1.0)  # ... or new vectors sit this much farther from the centroids
    # HNSW with a filter keeping under this share of the vectors (or <= exact_max_vectors): exact search over them
    filter_exact_share: float = Field(0.05, ge=0.0, le=1.0)
    # utterances with fewer content units (Latin words/numbers + CJK characters) are not indexed
    min_text_units: int = Field(2, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> IndexSettings:
        if self.compressed_min_vectors <= self.exact_max_vectors:
            raise ValueError(f"compressed_min_vectors ({self.compressed_min_vectors}) must be above exact_max_vectors "
                             f"({self.exact_max_vectors}): auto goes flat, then HNSW, then IVF-PQ")
        if self.ivf_nlist is not None and self.ivf_nprobe > self.ivf_nlist:
            raise ValueError(f"ivf_nprobe ({self.ivf_nprobe}) cannot exceed ivf_nlist ({self.ivf_nlist})")
        if self.ivf_nlist is not None and self.ivf_train_sample < 39 * self.ivf_nlist:
            raise ValueError(f"ivf_train_sample ({self.ivf_train_sample}) must be at least 39 * ivf_nlist "
                             f"({39 * self.ivf_nlist}): k-means needs ~39 points per list")
        return self


class MomentSettings(Strict):
    """Objection and move detection (``configs/moments.yaml`` holds the taxonomy and examples)."""

    taxonomy: str | None = None          # null: the bundled configs/moments.yaml
    objection_threshold: float = Field(0.5, ge=0.0, le=1.0)
    move_threshold: float = Field(0.5, ge=0.0, le=1.0)
    regularization_c: float = Field(30.0, gt=0.0)  # inverse L2 strength of the logistic regressions
    coach_weight: float = Field(5.0, gt=0.0)       # a coach's label counts as this many taxonomy examples
    generated_weight: float = Field(1.0, gt=0.0)
    max_labels_per_class: int | None = Field(None, ge=1)  # generated labels per (kind, label, language); null: all
    batch_calls: int = Field(100, ge=1)            # calls embedded and committed together by detect_calls


class MiningSettings(Strict):
    """Talk-track mining: the one source of ``talktrack.pipelines.mining.MiningOptions``."""

    top_sellers: int = Field(3, ge=1)
    min_support_deals: int = Field(15, ge=1)
    max_pattern_length: int = Field(3, ge=1, le=4)
    confidence: float = Field(0.95, gt=0.5, lt=1.0)
    exemplars: int = Field(3, ge=0, le=20)
    max_tracks_per_type: int = Field(4, ge=1)
    rep_penalty: float = Field(1.0, gt=0.0)      # L2 strength on the per-rep terms of the adjusted effect
    # When nearly every deal that uses a selected pattern goes on to a longer one (this share of
    # its deals), the data cannot tell them apart; the longer one is what reps say, so it is reported.
    extension_share: float = Field(0.9, gt=0.0, le=1.0)


class SopSettings(Strict):
    """SOP compliance (``configs/sops.yaml`` holds the steps and example phrasings)."""

    file: str | None = None              # null: the bundled configs/sops.yaml
    # Tuned on a generated training world (seed 11), see talktrack.evaluation.semantic.sop.
    step_threshold: float = Field(0.40, ge=0.0, le=1.0)               # English space (all-MiniLM-L6-v2)
    step_threshold_multilingual: float = Field(0.525, ge=0.0, le=1.0)  # multilingual USE space (zh, mixed)
    # A sentence counts only for its best step of the book, and only when that step leads the
    # second best by at least this much; null: for every step above the threshold.
    margin: float | None = Field(0.0, ge=0.0, le=1.0)
    multilingual_example_languages: tuple[Literal["en", "zh"], ...] = ("zh", "en")
    # An English call is scored in these spaces, similarities averaged (each misses paraphrases the other finds).
    english_spaces: tuple[Literal["english", "multilingual"], ...] = Field(("english", "multilingual"), min_length=1)
    # A question with the customer's answer: its step similarity blended with the answer's (0: answers ignored).
    answer_weight: float = Field(0.5, ge=0.0, le=1.0)
    # A step's score: max similarity to its phrasings blended with the similarity to their mean (0: max only).
    centroid_weight: float = Field(0.5, ge=0.0, le=1.0)
    suggestion_pool_calls: int = Field(100, ge=0)   # latest won-deal calls searched for a missing step's example


class EvidenceSettings(Strict):
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
    # calendar screenshots (read by OCR): this customer's name, and a date/time of a conversation of the deal
    screenshot_name_similarity: float = Field(0.8, ge=0.0, le=1.0)
    screenshot_time_tolerance_min: float = Field(30.0, ge=0.0)
    calendar_utc_offset_h: float = Field(0.0, ge=-14.0, le=14.0)


class SemanticSettings(Strict):
    index: IndexSettings = IndexSettings()
    moments: MomentSettings = MomentSettings()
    mining: MiningSettings = MiningSettings()
    sop: SopSettings = SopSettings()
    evidence: EvidenceSettings = EvidenceSettings()
