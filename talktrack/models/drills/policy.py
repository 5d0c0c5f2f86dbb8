"""The customer policy: P(reaction | objection type, rep moves), learned from real episodes.

An episode of the corpus is a customer objection of type T, the moves of the rep's answer
(in order) and how the customer reacted: ``concede`` (no objection any more),
``push_back`` (the same objection again, or doubt) or ``new_objection`` (another type).

Per objection type, a multinomial logistic regression (L2, the smoothing) over move
features: one indicator per move and one per ordered pair of moves ("a before b"), so an
answer that confirms the timeline *then* offers installments can differ from the reverse.
A type with few episodes, or one reaction only, falls back to its counts plus
``prior_strength`` pseudo-episodes of the overall mix. The policy also keeps which type a
customer moves on to after a new objection (counts, add-one smoothed).

Example::

    knobs = settings.drills.policy
    policy = CustomerPolicy(objection_types, moves, C=knobs.regularization_c,
                            min_episodes=knobs.min_episodes_per_type, prior_strength=knobs.prior_strength).fit(examples)
    policy.predict_proba("price", ("confirm_timeline", "offer_installments"))
    # {"concede": 0.68, "push_back": 0.21, "new_objection": 0.11}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

REACTIONS = ("concede", "push_back", "new_objection")


@dataclass(frozen=True)
class ReactionExample:
    """One real episode: the objection, the moves that answered it, the reaction, the next type (if new)."""

    objection_type: str
    moves: tuple[str, ...]
    reaction: str
    next_type: str | None = None


class CustomerPolicy:
    """Per objection type, how real customers reacted to answers with these moves."""

    def __init__(self, objection_types: Sequence[str], moves: Sequence[str], *, C: float,
                 min_episodes: int, prior_strength: float) -> None:
        self.objection_types = tuple(objection_types)
        self.moves = tuple(moves)
        self.C = C
        self.min_episodes = min_episodes
        self.prior_strength = prior_strength

    # -- features --------------------------------------------------------------------------
    def features(self, moves: Sequence[str]) -> np.ndarray:
        """Move indicators then ordered-pair indicators; shape: (len(moves) + len(moves) ** 2,)."""
        n = len(self.moves)
        index = {m: i for i, m in enumerate(self.moves)}
        out = np.zeros(n + n * n, dtype=np.float32)
        known = [index[m] for m in moves if m in index]
        out[known] = 1.0
        for a, b in combinations(known, 2):
            if a != b:
                out[n + a * n + b] = 1.0
        return out

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, examples: Sequence[ReactionExample]) -> CustomerPolicy:
        from sklearn.linear_model import LogisticRegression

        examples = [e for e in examples if e.reaction in REACTIONS]
        if not examples:
            raise ValueError("CustomerPolicy.fit: no episodes with a known reaction; the corpus needs "
                             "customer objections answered by a rep and followed by a customer reply")
        overall = Counter(e.reaction for e in examples)
        self.overall_ = np.array([overall[r] for r in REACTIONS], dtype=float) / len(examples)
        self.models_, self.counts_, self.episodes_ = {}, {}, {}
        for objection_type in self.objection_types:
            rows = [e for e in examples if e.objection_type == objection_type]
            self.episodes_[objection_type] = len(rows)
            counts = Counter(e.reaction for e in rows)
            self.counts_[objection_type] = np.array([counts[r] for r in REACTIONS], dtype=float)
            if len(rows) >= self.min_episodes and len(counts) > 1:
                x = np.stack([self.features(e.moves) for e in rows])
                y = np.array([REACTIONS.index(e.reaction) for e in rows])
                self.models_[objection_type] = LogisticRegression(C=self.C, max_iter=2000).fit(x, y)
        self.transitions_ = self._fit_transitions(examples)
        return self

    def _fit_transitions(self, examples: Sequence[ReactionExample]) -> dict[str, dict[str, float]]:
        out = {}
        for objection_type in self.objection_types:
            others = [t for t in self.objection_types if t != objection_type]
            counts = Counter(e.next_type for e in examples
                             if e.objection_type == objection_type and e.next_type in others)
            total = sum(counts.values()) + len(others)
            out[objection_type] = {t: (counts[t] + 1) / total for t in others}
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "overall_"):
            raise RuntimeError("CustomerPolicy is not fitted: call fit(examples)")

    # -- prediction ------------------------------------------------------------------------
    def predict_proba(self, objection_type: str, moves: Sequence[str]) -> dict[str, float]:
        """P(concede, push_back, new_objection) after an answer with ``moves`` to ``objection_type``."""
        self._check_fitted()
        if objection_type not in self.episodes_:
            raise ValueError(f"objection type {objection_type!r}: expected one of {', '.join(self.objection_types)}")
        model = self.models_.get(objection_type)
        if model is None:
            smoothed = self.counts_[objection_type] + self.prior_strength * self.overall_
            probs = smoothed / smoothed.sum()
        else:
            probs = np.zeros(len(REACTIONS))
            probs[model.classes_] = model.predict_proba(self.features(moves)[None, :])[0]
        return {r: float(p) for r, p in zip(REACTIONS, probs, strict=True)}

    def next_objection_proba(self, objection_type: str) -> dict[str, float]:
        """Which type a customer raises after a new objection following ``objection_type``."""
        self._check_fitted()
        return dict(self.transitions_[objection_type])

    def sample(self, objection_type: str, moves: Sequence[str], rng: np.random.Generator) -> tuple[str, dict]:
        """A reaction drawn from the learned distribution, and the distribution."""
        probs = self.predict_proba(objection_type, moves)
        return REACTIONS[int(rng.choice(len(REACTIONS), p=_normalised(probs.values())))], probs

    def describe(self) -> dict:
        """What was learned from what: episodes per type and whether a model or counts answer."""
        self._check_fitted()
        return {t: {"episodes": self.episodes_[t], "model": "logistic" if t in self.models_ else "counts"}
                for t in self.objection_types}


def _normalised(values) -> np.ndarray:
    array = np.asarray(list(values), dtype=float)
    return array / array.sum()
