"""Where TalkTrack keeps and runs things: the catalog, CRM import, Ray, the service, the demo world."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from talktrack.core.config.base import Strict


class CatalogSettings(Strict):
    url: str | None = None
    echo_sql: bool = False


class ImportSettings(Strict):
    encoding: str = "utf-8"
    max_bad_row_share: float = Field(1.0, ge=0.0, le=1.0)
    # Chats and e-mails: a pause longer than this between two messages of one thread starts a new conversation.
    chat_gap_h: float = Field(12.0, gt=0)

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError("unknown text encoding; use e.g. utf-8, gb18030, latin-1") from exc
        return value


class RaySettings(Strict):
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


class DemoSettings(Strict):
    seed: int = 7
    reps: int = Field(12, ge=2)
    customers: int = Field(40, ge=1)
    deals: int = Field(60, ge=1)
    calls: int = Field(120, ge=0)
    languages: list[Literal["en", "zh"]] = ["en", "zh"]
    audio: int = Field(2, ge=0)


class QuotaSettings(Strict):
    """Requests per API key per minute (a sliding window), per worker process; past it: 429 + Retry-After."""

    uploads_per_minute: int = Field(30, ge=1)  # POST /v1/calls, audio to POST /v1/crm/voice-notes
    drills_per_minute: int = Field(120, ge=1)  # POST /v1/drills and drill turns


class ServingSettings(Strict):
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
    # A key found valid is trusted this long per process (no catalog query per request); a
    # revocation takes effect within it. 0 checks the catalog on every request.
    key_cache_ttl_s: float = Field(5.0, ge=0)
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
