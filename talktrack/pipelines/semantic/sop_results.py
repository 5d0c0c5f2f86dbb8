"""What an SOP check answers: per step covered or missing, where it was found, and how it sounds done well.

Plain frozen records, so a result is JSON by :func:`dataclasses.asdict` (``SopResult.to_dict``
adds the compliance share and the key-question lists), and ``options`` echoes the threshold,
margin, embedder and SOP file that produced it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class StepMatch:
    """Where a step was found: the rep's sentence and the utterance that holds it."""

    seq: int
    start_s: float
    end_s: float
    snippet: str
    similarity: float


@dataclass(frozen=True)
class Suggestion:
    """How a missing step sounds when done well: a won deal's rep sentence, or the SOP's own example."""

    source: Literal["won_call", "sop_example"]
    text: str
    call_id: str | None = None
    deal_id: str | None = None
    seq: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    similarity: float | None = None


@dataclass(frozen=True)
class StepResult:
    step: str
    name_en: str
    name_zh: str
    key_question: str | None
    covered: bool
    similarity: float                   # best similarity of any rep sentence to the step's examples
    match: StepMatch | None = None      # where it was covered (None when missing)
    suggestion: Suggestion | None = None  # for a missing step


@dataclass(frozen=True)
class SopResult:
    """One call checked against its SOPs; ``options`` echoes what produced it."""

    call_id: str | None
    deal_id: str | None
    stage: str
    language: str
    sops: list[str]
    steps: list[StepResult]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def covered_steps(self) -> list[str]:
        return [s.step for s in self.steps if s.covered]

    @property
    def missing_steps(self) -> list[str]:
        return [s.step for s in self.steps if not s.covered]

    @property
    def covered_key_questions(self) -> list[str]:
        return [s.key_question for s in self.steps if s.key_question and s.covered]

    @property
    def missing_key_questions(self) -> list[str]:
        return [s.key_question for s in self.steps if s.key_question and not s.covered]

    @property
    def compliance(self) -> float:
        """Share of required steps covered (0-1)."""
        return len(self.covered_steps) / len(self.steps) if self.steps else 1.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out |= {"compliance": round(self.compliance, 4), "covered_key_questions": self.covered_key_questions,
                "missing_key_questions": self.missing_key_questions}
        return out
