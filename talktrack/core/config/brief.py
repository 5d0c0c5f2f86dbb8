"""The manager's daily brief (``management.brief``): "three checks and one question".

The checks' limits are the product brief's (new leads at least 35 % of the pool, invalid leads under
8 %); the windows say what "the pool" and "new" mean, since the CRM keeps no such flag: the pool is
the team's leads created in the last ``pool_days``, new ones those created in the last ``new_days``.
The question's answers are clustered each week by meaning; a cluster whose answers sit far from every
known objection type and topic is shown as a possible market signal.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from talktrack.core.config.base import Strict


class KnownTopic(Strict):
    """A topic reps often mention that is *not* news (besides the objection types of the moment taxonomy)."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    examples: tuple[str, ...] = Field(min_length=1)


class SurpriseSettings(Strict):
    """How answers to "which customer surprised you today?" are clustered and judged new."""

    question_en: str = "Which customer surprised you today, and how?"
    question_zh: str = "今天哪位客户让你感到意外？为什么？"
    cluster_distance: float = Field(0.70, gt=0, lt=2, description="cosine distance at which clusters stop merging")
    min_answers: int = Field(3, ge=1, description="a cluster needs this many answers to be shown")
    min_reps: int = Field(2, ge=1, description="... from this many different reps (one rep's hobby is no signal)")
    known_similarity: float = Field(0.32, gt=0, lt=1,
                                    description="an answer this close (cosine) to a known label's centre is known")
    max_answer_chars: int = Field(2000, ge=20)
    known_topics: tuple[KnownTopic, ...] = ()


class BriefSettings(Strict):
    pool_days: int = Field(90, ge=1)
    new_days: int = Field(30, ge=1)
    min_new_share: float = Field(0.35, ge=0, le=1)
    max_invalid_share: float = Field(0.08, ge=0, le=1)
    surprises: SurpriseSettings = SurpriseSettings()

    @model_validator(mode="after")
    def _new_within_pool(self) -> BriefSettings:
        if self.new_days > self.pool_days:
            raise ValueError(f"new_days ({self.new_days}) must not exceed pool_days ({self.pool_days})")
        return self
