"""The shape of each CRM row, validated with pydantic (one model per entity).

Values arrive as CSV strings or JSON values; empty cells mean "no value". Keys that
depend on configuration (stages, capability dimensions, evidence kinds) are checked
by the loader against the settings, so the accepted list is always the configured one.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError


def _empty_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _month(value: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise ValueError("expected a month as YYYY-MM")
    return value


def _web_url(value: str) -> str:
    """An absolute http(s) URL: it becomes a link in the web pages, where ``javascript:`` would run."""
    scheme, _, rest = value.partition("://")
    if scheme.lower() not in ("http", "https") or not rest or any(c.isspace() for c in value):
        raise PydanticCustomError("web_url", "only http(s) URLs (http://... or https://...)")
    return value


Timestamp = Annotated[datetime, AfterValidator(_naive_utc)]
ExternalId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\s]+$")]
Language = Literal["en", "zh"]


class Row(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_cells(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: _empty_to_none(value) for key, value in data.items() if value is not None}
        return data


class TeamRow(Row):
    team_id: ExternalId
    name: str = Field(min_length=1)
    region: str | None = None
    manager_id: ExternalId | None = None


class RepRow(Row):
    rep_id: ExternalId
    name: str = Field(min_length=1)
    email: str | None = None
    team_id: ExternalId
    role: Literal["rep", "manager"] = "rep"
    language: Language = "en"
    hired_at: date | None = None


class CustomerRow(Row):
    customer_id: ExternalId
    name: str = Field(min_length=1)
    industry: str | None = None
    employees: int | None = Field(None, ge=0)
    purchase_frequency: float | None = Field(None, ge=0)
    open_positions: int | None = Field(None, ge=0)
    sentiment: float | None = Field(None, ge=-1, le=1)
    region: str | None = None
    language: Language = "en"
    created_at: date | None = None


class DealRow(Row):
    deal_id: ExternalId
    customer_id: ExternalId
    rep_id: ExternalId
    title: str | None = None
    amount: float | None = Field(None, ge=0)
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    created_at: Timestamp
    stage: str
    status: Literal["open", "won", "lost"] = "open"
    closed_at: Timestamp | None = None
    progress_level: str | None = None
    payment_terms_days: int | None = Field(None, ge=0)
    discount_pct: float | None = Field(None, ge=0, le=100)
    standard_contract: bool = True

    @model_validator(mode="after")
    def _closed_deals_have_a_date(self) -> DealRow:
        if self.status != "open" and self.closed_at is None:
            raise ValueError(f"closed_at is required when status is {self.status!r}")
        if self.closed_at is not None and self.closed_at < self.created_at:
            raise ValueError("closed_at is before created_at")
        return self


class StageEventRow(Row):
    deal_id: ExternalId
    stage: str
    entered_at: Timestamp


class CallRow(Row):
    call_id: ExternalId
    deal_id: ExternalId | None = None
    rep_id: ExternalId
    customer_id: ExternalId | None = None
    started_at: Timestamp
    duration_s: float | None = Field(None, ge=0)
    language: Language = "en"
    channel: Literal["phone", "video", "visit", "voice_note"] = "phone"
    stage: str | None = None
    audio_path: str | None = None
    transcript_path: str | None = None


class EvidenceRow(Row):
    evidence_id: ExternalId
    deal_id: ExternalId
    kind: str
    progress_level: str | None = None
    submitted_at: Timestamp
    title: str | None = None
    text: str | None = None
    path: str | None = None


class SurveyRow(Row):
    rep_id: ExternalId
    period: Annotated[str, AfterValidator(_month)]
    dimension: str
    source: Literal["customer", "manager", "peer", "self"]
    score: float = Field(ge=1, le=5)
    respondents: int = Field(1, ge=1)


class CourseRow(Row):
    course_id: ExternalId
    title: str = Field(min_length=1)
    dimension: str
    language: Language = "en"
    duration_h: float | None = Field(None, gt=0)
    url: Annotated[str, Field(max_length=2048), AfterValidator(_web_url)] | None = None
