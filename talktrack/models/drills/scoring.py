"""Score a rep's drill answer 0-100 the way a coach would: what it does, and how close it is to what wins.

``score = 100 * clip(parts - penalties, 0, 1)`` (weights: ``settings.drills.scoring``):

- ``closeness``: the mean cosine of the answer to its ``closest`` nearest reference answers (real
  top-seller answers following *any* mined or approved track of the objection type, not only the
  best one; see :class:`Reference`), mapped from ``[closeness_floor, closeness_ceiling]`` to [0, 1];
- ``moves_share``: the share of a track's moves the answer makes, for the track it covers best
  (dropped from the mean when nothing is mined for the type yet);
- ``strengths``: what good answers do, read by :class:`~talktrack.models.drills.qualities.AnswerReader`
  (acknowledge, discovery question, quantified value, concrete next step), each presence times its
  weight, full at ``strengths_full``;
- ``penalties``: what loses deals (instant discount, running a competitor down, brushing the concern
  aside, not knowing), each presence times its penalty, subtracted.

Why not closeness alone: on hand-graded real answers (issue 16) a sound answer that follows no
mined track scored 12/100 and "take it or leave it" 18.6; closeness to generated top-seller
words rewards wording, a coach rewards moves.

Example::

    result = AnswerScorer(settings.drills.scoring).score(vector, ("acknowledge",), reference, found)
    result["score"], result["breakdown"]["moves_missing"], result["breakdown"]["qualities"]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from talktrack.core.config import DrillScoringSettings


@dataclass
class Reference:
    """What an answer to one objection type in one language is compared with.

    ``vectors``: (n, dim) unit vectors of the reference answers (same space as the answer):
    top-seller answers that follow any approved/edited track of the type, else any mined one;
    ``source``: ``approved``, ``mined`` or ``top_sellers`` (no track for the type: all top-seller
    answers); ``track_moves``: the moves of the best track (largest lift; empty without one) and
    ``tracks``: the moves of every track compared with, best first; ``spare_vectors`` /
    ``spare_items``: the other top-seller answers to the type (following no track): never
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
    tracks: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        if self.track_moves and not self.tracks:
            self.tracks = (tuple(self.track_moves),)


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

    def score(self, vector: np.ndarray, moves: Sequence[str], reference: Reference,
              found: Mapping[str, float] | None = None) -> dict:
        """The 0-100 score, its breakdown, and the reference rows nearest first (``order``).

        ``found``: quality presences from :class:`AnswerReader` (none: only closeness and moves count)."""
        closeness, mean_cosine, order = self.closeness(vector, reference)
        track = best_covered(reference.tracks, moves)
        covered = [m for m in track if m in moves]
        missing = [m for m in track if m not in moves]
        w = self.weights
        found = dict(found or {})
        parts = [(w.closeness_weight, closeness)]
        share = len(covered) / len(track) if track else None
        if track:
            parts.append((w.moves_weight, share))
        strengths = min(1.0, sum(w.strength_weights.get(k, 0.0) * v for k, v in found.items()) / w.strengths_full)
        if found:
            parts.append((w.qualities_weight, strengths))
        weight = sum(p for p, _ in parts) or 1.0
        positive = sum(p * v for p, v in parts) / weight
        penalty = sum(w.failure_penalties.get(k, 0.0) * v for k, v in found.items())
        total = float(np.clip(positive - penalty, 0.0, 1.0))
        breakdown = {
            "closeness": round(closeness, 4),
            "closeness_cosine": round(mean_cosine, 4),
            "moves_detected": list(dict.fromkeys(moves)),
            "moves_covered": covered,
            "moves_missing": missing,
            "moves_share": None if share is None else round(share, 4),
            "moves_in_track_order": in_order(track, moves) if track else None,
            "qualities": found,
            "strengths": round(strengths, 4) if found else None,
            "penalty": round(penalty, 4),
            "reference": {"source": reference.source, "track": reference.track_key, "track_moves": list(track),
                          "tracks": [list(t) for t in reference.tracks], "answers": int(len(reference.vectors)),
                          "note": reference.note},
            "weights": {"closeness": w.closeness_weight, "moves": w.moves_weight if track else 0.0,
                        "qualities": w.qualities_weight if found else 0.0},
        }
        return {"score": round(100.0 * total, 1), "breakdown": breakdown, "order": order}


def best_covered(tracks: Sequence[Sequence[str]], moves: Sequence[str]) -> tuple[str, ...]:
    """The track whose moves the answer covers the largest share of (the first, best, on a tie)."""
    if not tracks:
        return ()
    return tuple(max(tracks, key=lambda t: sum(m in moves for m in t) / max(len(t), 1)))


def in_order(track: Sequence[str], moves: Sequence[str]) -> bool:
    """True when the track's moves appear in ``moves`` in the track's order (others may come between)."""
    remaining = iter(moves)
    return all(any(m == t for m in remaining) for t in track)
