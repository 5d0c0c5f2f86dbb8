"""Score a rep's drill answer 0-100 against reference top-seller answers and a talk track.

``score = 100 * (closeness_weight * closeness + moves_weight * moves_share)`` where

- ``closeness``: the mean cosine of the answer to its ``closest`` nearest reference answers
  (real top-seller answers; see :class:`Reference`), mapped linearly from
  ``[closeness_floor, closeness_ceiling]`` to ``[0, 1]`` and clipped;
- ``moves_share``: the share of the reference track's moves that the answer makes.

The weights are ``settings.drills.scoring`` (defaults 0.6 closeness, 0.4 moves). When the reference has no
track (nothing mined for that objection type yet), closeness carries the whole score and
the breakdown says so.

Example::

    result = AnswerScorer(settings.drills.scoring).score(vector, ("acknowledge",), reference)
    result["score"], result["breakdown"]["moves_missing"]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from talktrack.core.config import DrillScoringSettings


@dataclass
class Reference:
    """What an answer to one objection type in one language is compared with.

    ``vectors``: (n, dim) unit vectors of the reference answers (same space as the answer);
    ``source``: ``approved`` (answers following an approved/edited track), ``mined`` (a mined
    track, none approved yet) or ``top_sellers`` (no track for the type: all top-seller answers);
    ``track_moves``: the moves of the reference track (empty without one); ``spare_vectors`` /
    ``spare_items``: the other top-seller answers to the type (not following the track): never
    scored against, only shown when fewer than three reference answers exist.
    """

    vectors: np.ndarray
    source: str
    track_key: str | None = None
    track_moves: tuple[str, ...] = ()
    note: str = ""
    items: list[dict] = field(default_factory=list)  # one per row of vectors: what to show the rep
    spare_vectors: np.ndarray | None = None
    spare_items: list[dict] = field(default_factory=list)


class AnswerScorer:
    def __init__(self, weights: DrillScoringSettings) -> None:
        self.weights = weights

    def closeness(self, vector: np.ndarray, reference: Reference) -> tuple[float, float, np.ndarray]:
        """(closeness 0-1, mean cosine of the nearest, order of the reference rows by cosine)."""
        if not len(reference.vectors):
            return 0.0, 0.0, np.zeros(0, dtype=int)
        cosines = reference.vectors @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-cosines)
        mean = float(cosines[order[: self.weights.closest]].mean())
        w = self.weights
        span = max(w.closeness_ceiling - w.closeness_floor, 1e-6)
        return float(np.clip((mean - w.closeness_floor) / span, 0.0, 1.0)), mean, order

    def score(self, vector: np.ndarray, moves: Sequence[str], reference: Reference) -> dict:
        """The 0-100 score, its breakdown, and the reference rows nearest first (``order``)."""
        closeness, mean_cosine, order = self.closeness(vector, reference)
        track = list(reference.track_moves)
        covered = [m for m in track if m in moves]
        missing = [m for m in track if m not in moves]
        w = self.weights
        if track:
            share = len(covered) / len(track)
            total = (w.closeness_weight * closeness + w.moves_weight * share) / (w.closeness_weight + w.moves_weight)
        else:
            share, total = None, closeness
        breakdown = {
            "closeness": round(closeness, 4),
            "closeness_cosine": round(mean_cosine, 4),
            "moves_detected": list(dict.fromkeys(moves)),
            "moves_covered": covered,
            "moves_missing": missing,
            "moves_share": None if share is None else round(share, 4),
            "moves_in_track_order": in_order(track, moves) if track else None,
            "reference": {"source": reference.source, "track": reference.track_key, "track_moves": track,
                          "answers": int(len(reference.vectors)), "note": reference.note},
            "weights": {"closeness": w.closeness_weight, "moves": w.moves_weight if track else 0.0},
        }
        return {"score": round(100.0 * total, 1), "breakdown": breakdown, "order": order}


def in_order(track: Sequence[str], moves: Sequence[str]) -> bool:
    """True when the track's moves appear in ``moves`` in the track's order (others may come between)."""
    remaining = iter(moves)
    return all(any(m == t for m in remaining) for t in track)
