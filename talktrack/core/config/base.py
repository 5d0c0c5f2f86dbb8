"""What every settings section shares: strict, frozen models, and the error a bad value raises."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigError(ValueError):
    """A setting that cannot be used; the message names key, value and what is accepted."""


class Strict(BaseModel):
    """A settings section: unknown keys are refused (a typo fails at start), values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
