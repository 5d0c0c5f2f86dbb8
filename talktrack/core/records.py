"""Domain records shared across layers: the transcript of one call.

The speech pipeline writes this schema, the world generator writes it, and the
CRM import reads it, so a real call and a generated one follow the same path.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TRANSCRIPT_SCHEMA = "talktrack.transcript/1"

Role = Literal["rep", "customer", "unknown"]


class Word(BaseModel):
    model_config = ConfigDict(extra="ignore")

    start: float = Field(ge=0)
    end: float = Field(ge=0)
    word: str
    probability: float | None = Field(None, ge=0, le=1)


class TranscriptSpeaker(BaseModel):
    model_config = ConfigDict(extra="ignore")

    speaker: str = Field(min_length=1, max_length=32)
    role: Role = "unknown"
    role_confidence: float | None = Field(None, ge=0, le=1)
    rep_id: str | None = None


class TranscriptUtterance(BaseModel):
    model_config = ConfigDict(extra="ignore")

    start: float = Field(ge=0)
    end: float = Field(ge=0)
    speaker: str = Field(min_length=1, max_length=32)
    role: Role = "unknown"
    text: str
    language: str | None = None
    words: list[Word] | None = None

    @model_validator(mode="after")
    def _ordered_times(self) -> TranscriptUtterance:
        if self.end < self.start:
            raise ValueError(f"utterance ends ({self.end}) before it starts ({self.start})")
        return self


class TranscriptTurn(BaseModel):
    """One stretch of one speaker's voice as the diarizer found it (turns may overlap; utterances are
    the words grouped by speaker, so a turn without words has no utterance)."""

    model_config = ConfigDict(extra="ignore")

    start: float = Field(ge=0)
    end: float = Field(ge=0)
    speaker: str = Field(min_length=1, max_length=32)


class Transcript(BaseModel):
    """One call: who spoke (with roles), every utterance with its times, and the diarization turns
    behind them (``turns``: empty for a transcript that was not diarized here, e.g. an imported one)."""

    model_config = ConfigDict(extra="ignore")

    schema_: Literal["talktrack.transcript/1"] = Field(TRANSCRIPT_SCHEMA, alias="schema")
    call_id: str | None = None
    language: str = "en"
    duration_s: float | None = Field(None, ge=0)
    speakers: list[TranscriptSpeaker]
    utterances: list[TranscriptUtterance]
    turns: list[TranscriptTurn] = []
    source: dict[str, Any] = {}
    options: dict[str, Any] = {}
    models: dict[str, Any] = {}
    timings: dict[str, Any] = {}

    @model_validator(mode="after")
    def _speakers_declared(self) -> Transcript:
        declared = {speaker.speaker for speaker in self.speakers}
        undeclared = sorted({u.speaker for u in self.utterances} - declared)
        if undeclared:
            raise ValueError(f"utterances name speakers not listed under 'speakers': {undeclared}")
        return self
