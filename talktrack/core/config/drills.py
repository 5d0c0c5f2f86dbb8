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
    """How a drill answer scores 0-100 (see ``talktrack.models.drills.scoring``)::

        score = 100 * clip(parts - penalties, 0, 1)
        parts = weighted mean of closeness (closeness_weight), the best track's moves share
                (moves_weight; dropped when no track is mined) and the strengths share (qualities_weight)
        strengths share = min(1, sum(strength_weights[q] * presence[q]) / strengths_full)
        penalties = sum(failure_penalties[q] * presence[q])

    closeness is the mean cosine to the ``closest`` reference answers (of every mined or approved
    track of the type) mapped from [closeness_floor, closeness_ceiling] to [0, 1]; a quality's
    presence comes from the detector's moves, a cue, or its closest example phrasing mapped from
    [strength_floor, strength_ceiling] (a failure: [failure_floor, failure_ceiling]) to [0, 1]:
    failures need a closer match, a wrong penalty costs a rep more than a missed one. Chosen on the dev split of the hand-graded answers
    (``evaluation/real_phrasing/drill_answers.yaml``)."""

    closeness_weight: float = Field(0.1, ge=0.0, le=1.0)
    moves_weight: float = Field(0.15, ge=0.0, le=1.0)
    qualities_weight: float = Field(0.75, ge=0.0, le=1.0)
    closeness_floor: float = Field(0.2, ge=-1.0, le=1.0)
    closeness_ceiling: float = Field(0.75, ge=-1.0, le=1.0)
    closest: int = Field(3, ge=1, le=20)
    strength_floor: float = Field(0.35, ge=-1.0, le=1.0)
    strength_ceiling: float = Field(0.5, ge=-1.0, le=1.0)
    failure_floor: float = Field(0.5, ge=-1.0, le=1.0)
    failure_ceiling: float = Field(0.7, ge=-1.0, le=1.0)
    strengths_full: float = Field(2.5, gt=0.0)
    strength_weights: dict[str, float] = {"acknowledge": 1.0, "discovery": 1.0, "value": 1.0, "next_step": 1.0}
    failure_penalties: dict[str, float] = {"instant_discount": 0.4, "disparage_competitor": 0.4,
                                           "dismiss_concern": 0.4, "not_knowing": 0.4}

    @model_validator(mode="after")
    def _usable(self) -> DrillScoringSettings:
        if self.closeness_weight + self.moves_weight + self.qualities_weight <= 0:
            raise ValueError("closeness_weight, moves_weight and qualities_weight are all 0: a score needs one")
        for name, low, high in (("closeness", self.closeness_floor, self.closeness_ceiling),
                                ("strength", self.strength_floor, self.strength_ceiling),
                                ("failure", self.failure_floor, self.failure_ceiling)):
            if high <= low:
                raise ValueError(f"{name}_ceiling ({high}) must be above {name}_floor ({low})")
        negative = [k for k, v in (self.strength_weights | self.failure_penalties).items() if v < 0]
        if negative:
            raise ValueError(f"strength_weights and failure_penalties must be >= 0: {', '.join(negative)}")
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
