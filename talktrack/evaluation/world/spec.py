"""What to generate (:class:`WorldSpec`), the taxonomy it is generated in
(:class:`Taxonomy`), and what was written (:class:`WorldSummary`).

The spec is the only thing that varies between two worlds of the same taxonomy:
the same spec gives byte-identical files. Every random draw comes from
:func:`child_rng`, a generator derived from ``(seed, step, index...)``, so adding a
step or an entity never shifts the draws of another one.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Language = Literal["en", "zh"]


class WorldSpec(BaseModel):
    """Size and seed of one generated sales world.

    >>> WorldSpec(seed=3, deals=10, calls=5, languages="en").languages
    ('en',)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(7, ge=0)
    reps: int = Field(12, ge=2, description="people in reps.csv, one manager per team included")
    customers: int = Field(40, ge=1)
    deals: int = Field(60, ge=1)
    calls: int = Field(120, ge=0)
    languages: tuple[Language, ...] = ("en", "zh")
    audio: int = Field(2, ge=0, description="calls rendered to WAV with espeak-ng")
    audio_languages: tuple[Language, ...] | None = Field(
        None, description="render only calls in these languages (e.g. en for an English-only ASR model)"
    )
    screenshots: int = Field(8, ge=0, description="calendar invites drawn as screenshots (OCR reads them)")
    start: date = date(2025, 1, 1)
    months: int = Field(12, ge=1, le=60)
    as_of: date | None = Field(
        None, description="the world's last day: its months end with this day's month (start derived from it)"
    )
    team_size: int = Field(6, ge=2, description="people per team, its manager included")

    @field_validator("languages", "audio_languages", mode="before")
    @classmethod
    def _split_languages(cls, value: Any) -> Any:
        """Accept ``"en,zh"`` from a command line as well as a list."""
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="before")
    @classmethod
    def _start_from_as_of(cls, data: Any) -> Any:
        """``as_of`` fixes the end, so the start is the first day of the month ``months - 1`` before its month:
        the world holds ``months`` calendar months, the last one cut at ``as_of``."""
        if not isinstance(data, dict) or data.get("as_of") is None:
            return data
        if data.get("start") is not None:
            raise ValueError("give start or as_of, not both")
        as_of = data["as_of"] if isinstance(data["as_of"], date) else date.fromisoformat(str(data["as_of"]))
        first = as_of.year * 12 + as_of.month - 1 - (int(data.get("months", 12)) - 1)
        return {**data, "as_of": as_of, "start": date(first // 12, first % 12 + 1, 1)}

    @model_validator(mode="after")
    def _consistent(self) -> WorldSpec:
        if not self.languages or len(set(self.languages)) != len(self.languages):
            raise ValueError(f"languages must be distinct and non-empty, got {self.languages!r}")
        if self.audio_languages and not set(self.audio_languages) <= set(self.languages):
            raise ValueError(f"audio_languages {self.audio_languages!r} must be among languages {self.languages!r}")
        if self.audio > self.calls:
            raise ValueError(f"audio ({self.audio}) cannot exceed calls ({self.calls})")
        return self

    @property
    def end(self) -> date:
        """First day after the world: the day after ``as_of``, else ``start`` plus ``months`` calendar months."""
        if self.as_of is not None:
            return self.as_of + timedelta(days=1)
        month_index = self.start.month - 1 + self.months
        year, month = self.start.year + month_index // 12, month_index % 12 + 1
        day = min(self.start.day, calendar.monthrange(year, month)[1])
        return date(year, month, day)

    def periods(self) -> list[str]:
        """The ``YYYY-MM`` months of the world, in order (index = month index of hidden levels)."""
        first = self.start.year * 12 + self.start.month - 1
        return [f"{(first + m) // 12:04d}-{(first + m) % 12 + 1:02d}" for m in range(self.months)]


def child_rng(seed: int, *path: int) -> np.random.Generator:
    """A generator for one step (and entity) of the world, independent of all others.

    ``path`` names the draw, e.g. ``(STEP_CALLS, call_index)``; it is the spawn key of
    a :class:`numpy.random.SeedSequence`, which is what ``Generator.spawn`` uses.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=tuple(int(p) for p in path)))


class StageDef(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    threshold_days: float
    key_questions: tuple[str, ...] = ()


class Taxonomy(BaseModel):
    """The keys of the configuration the generator writes in (stages, dimensions, ...).

    Built from a mapping shaped like ``talktrack/configs/default.yaml`` (so also from
    ``Settings.model_dump()``); only the keys listed here are read.

    >>> Taxonomy.default().stage_keys[:2]
    ('lead', 'qualification')
    """

    model_config = ConfigDict(frozen=True)

    stages: tuple[StageDef, ...]
    capabilities: tuple[str, ...]
    objection_types: tuple[str, ...]
    moves: tuple[str, ...]
    progress_levels: tuple[str, ...]
    key_question_names: dict[str, dict[str, str]] = Field(default_factory=dict)

    @property
    def stage_keys(self) -> tuple[str, ...]:
        return tuple(stage.key for stage in self.stages)

    def stage(self, key: str) -> StageDef:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise KeyError(f"unknown stage {key!r}; known: {', '.join(self.stage_keys)}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Taxonomy:
        """Read the taxonomy keys out of a parsed configuration mapping."""
        names = config.get("key_questions") or {}
        return cls(
            stages=tuple(_stage_def(stage) for stage in config["stages"]),
            capabilities=tuple(_key(item) for item in config["capability_dimensions"]),
            objection_types=tuple(_key(item) for item in config["objection_types"]),
            moves=tuple(_key(item) for item in config["moves"]),
            progress_levels=tuple(_key(item) for item in config["progress_levels"]),
            key_question_names={key: dict(value) for key, value in names.items()},
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> Taxonomy:
        with open(path, encoding="utf-8") as handle:
            return cls.from_config(yaml.safe_load(handle))

    @classmethod
    def default(cls) -> Taxonomy:
        """The taxonomy of the embedded ``talktrack/configs/default.yaml``."""
        text = resources.files("talktrack.configs").joinpath("default.yaml").read_text(encoding="utf-8")
        return cls.from_config(yaml.safe_load(text))


def _key(item: Any) -> str:
    return item["key"] if isinstance(item, Mapping) else str(item)


def _stage_def(item: Mapping[str, Any]) -> StageDef:
    return StageDef(
        key=item["key"],
        threshold_days=float(item["threshold_days"]),
        key_questions=tuple(item.get("key_questions") or ()),
    )


class WorldSummary(BaseModel):
    """What :func:`generate_world` wrote: rows (or files) per entity, and where."""

    model_config = ConfigDict(frozen=True)

    out_dir: Path
    seed: int
    counts: dict[str, int]
    seconds: float
