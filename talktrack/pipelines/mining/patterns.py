"""Answer patterns: ordered move combinations, and which deals used them.

A pattern is an ordered tuple of moves; an answer uses it when the moves appear in that
order in the answer, not necessarily next to each other ("confirm the timeline, then
offer installments" is used by "acknowledge, confirm timeline, reframe, offer installments").
A deal uses a pattern for an objection type when any of its answers to that type does.
"Uses" is :func:`talktrack.models.talk_cues.is_subsequence`, the one definition the conversation
features share (re-exported here for the miners).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import combinations

from talktrack.models.talk_cues import is_subsequence

Pattern = tuple[str, ...]
__all__ = ["Pattern", "candidate_patterns", "deal_patterns", "is_subsequence", "pattern_key", "subsequences"]


def subsequences(moves: tuple[str, ...], max_length: int) -> set[Pattern]:
    """Every ordered sub-combination of ``moves`` of length 1..max_length (no move twice)."""
    found: set[Pattern] = set()
    for length in range(1, min(max_length, len(moves)) + 1):
        for positions in combinations(range(len(moves)), length):
            pattern = tuple(moves[i] for i in positions)
            if len(set(pattern)) == length:
                found.add(pattern)
    return found


def deal_patterns(answers: Iterable[tuple[str, ...]], max_length: int) -> set[Pattern]:
    """Patterns a deal used over all its answers to one objection type."""
    used: set[Pattern] = set()
    for moves in answers:
        used |= subsequences(moves, max_length)
    return used


def candidate_patterns(per_deal: list[set[Pattern]], min_support: int) -> list[Pattern]:
    """Patterns used by at least ``min_support`` deals and not used by at least as many."""
    counts = Counter(pattern for used in per_deal for pattern in used)
    total = len(per_deal)
    return sorted((p for p, n in counts.items() if n >= min_support and total - n >= min_support),
                  key=lambda p: (-counts[p], p))


def pattern_key(objection_type: str, pattern: Pattern) -> str:
    """``price:confirm_timeline>offer_installments``: how a track is named across re-mining."""
    return f"{objection_type}:{'>'.join(pattern)}"
