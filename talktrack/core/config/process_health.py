"""Process health: the key actions each stage expects by a deadline, and what counts as an effective touch.

Key actions are data because sales operations change them ("ROI calculation within 48 h after
the solution presentation" today, a pilot plan within a week tomorrow) without a release. An
action is *done* when evidence of one of its kinds was submitted, or a call of the deal showed one
of its moments, between entering ``after_stage`` and ``within_h`` hours later.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from talktrack.core.config.base import Strict
from talktrack.core.config.domain import STAGE_KEYS, Named


class MomentRef(Strict):
    """A moment a call must show, e.g. ``{kind: move, label: propose_next_step}``."""

    kind: Literal["objection", "move", "key_question"]
    label: str = Field(min_length=1)


class KeyAction(Named):
    after_stage: str
    within_h: float = Field(gt=0)
    evidence: list[str] = []
    moments: list[MomentRef] = []

    @field_validator("after_stage")
    @classmethod
    def _known_stage(cls, stage: str) -> str:
        if stage not in STAGE_KEYS:
            raise ValueError(f"after_stage {stage!r} is not one of: {', '.join(STAGE_KEYS)}")
        return stage

    @model_validator(mode="after")
    def _shown_somehow(self) -> KeyAction:
        if not self.evidence and not self.moments:
            raise ValueError(f"key action {self.key!r} names neither evidence kinds nor moments that show it")
        return self


class EfficiencySettings(Strict):
    """Team efficiency = effective touches per working hour x needs-diagnosis accuracy x solution match."""

    hours_per_day: float = Field(8.0, gt=0, le=24)
    # a call or visit with real content: this long, and the customer spoke this many utterances
    min_touch_s: float = Field(60.0, ge=0)
    min_customer_utterances: int = Field(3, ge=1)
    # the stage whose calls' key-question coverage is the diagnosis accuracy
    diagnosis_stage: str = "needs_diagnosis"
    # the stage whose calls show whether the solution matched: a customer objection of these types there says not
    solution_stage: str = "solution_presentation"
    mismatch_objections: list[str] = Field(default_factory=lambda: ["need"])

    @field_validator("diagnosis_stage", "solution_stage")
    @classmethod
    def _known_stage(cls, stage: str) -> str:
        if stage not in STAGE_KEYS:
            raise ValueError(f"{stage!r} is not one of: {', '.join(STAGE_KEYS)}")
        return stage


class ProcessHealthSettings(Strict):
    key_actions: list[KeyAction] = []
    efficiency: EfficiencySettings = EfficiencySettings()

    @field_validator("key_actions")
    @classmethod
    def _unique(cls, actions: list[KeyAction]) -> list[KeyAction]:
        keys = [action.key for action in actions]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"key actions named twice: {duplicates}")
        return actions
