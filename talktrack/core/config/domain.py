"""The sales domain as configured: the six stages, progress levels, key questions, named keys, tiers."""

from __future__ import annotations

from pydantic import Field, model_validator

from talktrack.core.config.base import Strict

STAGE_KEYS = (
    "lead",
    "qualification",
    "needs_diagnosis",
    "solution_presentation",
    "negotiation",
    "contract_delivery",
)


class Named(Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_en: str
    name_zh: str


class Stage(Named):
    threshold_days: float = Field(gt=0)
    key_questions: list[str] = []
    required_evidence: list[str] = []


class ProgressLevel(Named):
    evidence: list[str]


class KeyQuestion(Strict):
    name_en: str
    name_zh: str


class CustomerTiers(Strict):
    a: float = Field(0.6, gt=0, lt=1)
    b: float = Field(0.3, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> CustomerTiers:
        if self.b >= self.a:
            raise ValueError(f"tier b ({self.b}) must be below tier a ({self.a})")
        return self
