"""What a drill answer does that wins or loses deals, read sentence by sentence.

Closeness to top sellers' words alone scores a sound answer that follows no mined track at 12/100
(issue 16): an answer works because of what it *does*. A coach looks for strengths (acknowledge
the concern, ask a discovery question, quantify value or payback, offer a concrete next step)
and for failures that lose deals (an instant discount, running a competitor down, brushing the
concern aside, not knowing). Each quality is read from three kinds of evidence, the strongest
counting:

- a move of the moment detector that the quality lists (``moves``): 1;
- a surface cue (``cue: question``: a question sentence, :mod:`talktrack.models.talk_cues`): 1;
- the closest example phrasing (``examples``, any language: the multilingual space is shared)
  to any sentence of the answer, its cosine mapped from the kind's ``(floor, ceiling)`` to ``[0, 1]``.

The qualities, their evidence and their feedback text are content (``answer_qualities`` in the
drill book); the floor, ceiling and weights are settings (``drills.scoring``).

Example::

    reader = AnswerReader(embedder, book.answer_qualities,
                          spans={"strength": (0.35, 0.5), "failure": (0.5, 0.7)}).fit()
    reader.read("I hear you. What does their quote include?", moves=("acknowledge",))
    # {"acknowledge": 1.0, "discovery": 1.0, "value": 0.1, ...}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from talktrack.models.talk_cues import is_question_sentence, sentences

KINDS = ("strength", "failure")


class AnswerQuality(BaseModel):
    """One quality: ``kind`` strength or failure, its evidence, and what the rep is told (per language)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["strength", "failure"]
    moves: tuple[str, ...] = ()
    cue: Literal["question"] | None = None
    name: dict[str, str] = Field(min_length=1)
    advice: dict[str, str] = Field(min_length=1)
    examples: dict[str, list[str]] = {}


class AnswerReader:
    """Presence 0-1 of each quality in an answer; ``embedder`` has ``encode(texts)`` (unit vectors)."""

    def __init__(self, embedder, qualities: Mapping[str, AnswerQuality], *,
                 spans: Mapping[str, tuple[float, float]]) -> None:
        self.embedder = embedder
        self.qualities = qualities
        self.spans = spans  # kind -> (floor, ceiling) of the example cosine

    def fit(self) -> AnswerReader:
        """Embed the example phrasings once (a few hundred sentences)."""
        texts, owners = [], []
        for position, quality in enumerate(self.qualities.values()):
            for phrasings in quality.examples.values():
                texts += phrasings
                owners += [position] * len(phrasings)
        self.examples_ = self.embedder.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        self.owners_ = np.asarray(owners, dtype=int)  # shape: (n_examples,), index into qualities
        return self

    def similarities(self, text: str) -> np.ndarray:
        """(n_qualities,) best cosine of any sentence of ``text`` to any example of each quality."""
        if not hasattr(self, "examples_"):
            raise RuntimeError("AnswerReader is not fitted: call fit()")
        best = np.full(len(self.qualities), -1.0, dtype=np.float32)
        parts = sentences(text) or [text]
        if not len(self.owners_):
            return best
        cosines = np.asarray(self.embedder.encode(parts), dtype=np.float32) @ self.examples_.T  # (sentences, examples)
        top = cosines.max(axis=0)
        np.maximum.at(best, self.owners_, top)
        return best

    def read(self, text: str, moves: Sequence[str] = ()) -> dict[str, float]:
        """Presence 0-1 per quality (in the book's order)."""
        similar = self.similarities(text)
        asks = any(is_question_sentence(s) for s in sentences(text))
        found = {}
        for position, (key, quality) in enumerate(self.qualities.items()):
            floor, ceiling = self.spans[quality.kind]
            evidence = float(np.clip((similar[position] - floor) / max(ceiling - floor, 1e-6), 0.0, 1.0))
            if set(quality.moves) & set(moves) or (quality.cue == "question" and asks):
                evidence = 1.0
            found[key] = round(evidence, 4)
        return found


def feedback(qualities: Mapping[str, AnswerQuality], found: Mapping[str, float], weights: Mapping[str, float],
             language: str, *, present: float = 0.5) -> dict:
    """What the rep is told, in ``language``: what was good, what is missing, which move to add.

    The move to add is the failure's remedy when the answer made one, else the missing strength
    with the largest weight."""
    def say(quality: AnswerQuality, field: str) -> str:
        texts = getattr(quality, field)
        return texts.get(language) or texts.get("en") or next(iter(texts.values()))

    strengths = {k: q for k, q in qualities.items() if q.kind == "strength"}
    failures = [k for k, q in qualities.items() if q.kind == "failure" and found.get(k, 0.0) >= present]
    good = [k for k in strengths if found.get(k, 0.0) >= present]
    missing = sorted((k for k in strengths if k not in good), key=lambda k: -weights.get(k, 0.0))
    add = failures[0] if failures else (missing[0] if missing else None)
    return {
        "language": language,
        "good": [say(strengths[k], "name") for k in good],
        "missing": [say(strengths[k], "name") for k in missing],
        "mistakes": [say(qualities[k], "name") for k in failures],
        "add": add,
        "advice": say(qualities[add], "advice") if add else None,
    }
