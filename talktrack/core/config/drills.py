"""Settings of the virtual-customer drills (``drills:`` in the settings tree).

The numbers a deployment tunes live here, with the rest of the tree (``--config`` and
``TALKTRACK_DRILLS__...`` variables reach them); the hand-written reply examples and the
personas are content and stay in a file of their own, ``drills.file`` (null: the bundled
``configs/drills.yaml``), as the moment taxonomy and the SOP book do.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from talktrack.core.config.base import Strict


class DrillScoringSettings(Strict):
    """``score = 100 * (closeness_weight * closeness + moves_weight * moves_share)``; closeness is the
    mean cosine to the ``closest`` reference answers mapped from [floor, ceiling] to [0, 1]."""

    closeness_weight: float = Field(0.6, ge=0.0, le=1.0)
    moves_weight: float = Field(0.4, ge=0.0, le=1.0)
    closeness_floor: float = Field(0.2, ge=-1.0, le=1.0)
    closeness_ceiling: float = Field(0.75, ge=-1.0, le=1.0)
    closest: int = Field(3, ge=1, le=20)

    @model_validator(mode="after")
    def _usable(self) -> DrillScoringSettings:
        if self.closeness_weight + self.moves_weight <= 0:
            raise ValueError("closeness_weight and moves_weight are both 0: a score needs one of them")
        if self.closeness_ceiling <= self.closeness_floor:
            raise ValueError(f"closeness_ceiling ({self.closeness_ceiling}) must be above closeness_floor "
                             f"({self.closeness_floor})")
        return self


class DrillPolicySettings(Strict):
    """How the customer's reactions are learned from the corpus (see ``talktrack.models.drills.policy``)."""

    regularization_c: float = Field(1.0, gt=0.0)        # inverse L2 strength of each per-type logistic model
    min_episodes_per_type: int = Field(20, ge=1)        # fewer: smoothed counts instead of a model
    prior_strength: float = Field(3.0, ge=0.0)          # pseudo-episodes of the overall reaction mix
    reader_margin: float = Field(0.02, ge=-1.0, le=1.0)  # concede/push back only this far ahead of "neither"
    max_reply_lookahead: int = Field(3, ge=1, le=10)    # customer utterances searched for the reaction


class DrillGeneratorSettings(Strict):
    """The optional model that rephrases the customer's real lines (``none``: the real wording)."""

    kind: Literal["none", "transformers"] = "none"
    model_path: str | None = None  # transformers: a local text-generation model directory
    max_new_tokens: int = Field(48, ge=1, le=512)

    @model_validator(mode="after")
    def _model_for_transformers(self) -> DrillGeneratorSettings:
        if self.kind == "transformers" and not self.model_path:
            raise ValueError("kind 'transformers' needs model_path: a local text-generation model directory")
        return self


class DrillSettings(Strict):
    """Drill languages, scoring weights, policy knobs and the line generator; ``file`` holds the
    reply examples and personas (null: the bundled ``configs/drills.yaml``)."""

    file: str | None = None
    languages: tuple[Literal["en", "zh"], ...] = Field(("en", "zh"), min_length=1)
    scoring: DrillScoringSettings = DrillScoringSettings()
    policy: DrillPolicySettings = DrillPolicySettings()
    generator: DrillGeneratorSettings = DrillGeneratorSettings()
