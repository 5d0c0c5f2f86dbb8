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
    # What a deal must show, verified, before it leaves this stage (the stage gate): evidence kinds,
    # all of them; an item that is a list is met by any one of its kinds.
    required_evidence: list[str | list[str]] = []

    def required_groups(self) -> list[tuple[str, ...]]:
        """Each requirement as the kinds that meet it: ``[[a, b], c]`` → ``[(a, b), (c,)]``."""
        return [tuple(item) if isinstance(item, list) else (item,) for item in self.required_evidence]


class StageGateSettings(Strict):
    """A stage change is checked for the verified evidence of the stages it leaves.

    ``enforce``: false accepts a change without it as ``unverified`` (listed for the manager); true
    refuses it (409, naming what is missing). Imported history is never refused, only marked.
    """

    enforce: bool = False
    # Evidence submitted up to this long after the change still counts (notes are written after the
    # meeting); a change checked before it arrived is checked again by `talktrack gates check`.
    evidence_grace_h: float = Field(48.0, ge=0)


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
