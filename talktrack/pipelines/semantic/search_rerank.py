"""Search re-ranking by pseudo-relevance feedback: widen a short query with its best first hits.

A query such as "customer says we are too expensive" describes what it wants; the lines that
answer it say it indirectly ("that's steep for a team our size", "报价比预算高了一倍"). The first
few hits of a plain cosine search are usually right, and they are worded the way the other
answers are, in both languages, so the query vector plus the mean of its top ``k`` hits (Rocchio
feedback) finds more of them. Measured on the hand-written search set (``talktrack bench
real-phrasing``): with the multilingual USE space, k=3 and alpha=1 chosen on the dev queries,
recall@10 of dense search rises by about 0.05 per language on dev and test; still far under the
0.9 the issue asks.

The index developer owns how the utterance index searches; this module only re-scores
vectors it is given, so the index can call it on its candidate vectors.
"""

from __future__ import annotations

import numpy as np

DEFAULT_K = 3
DEFAULT_ALPHA = 1.0


def expand_queries(queries: np.ndarray, candidates: np.ndarray, *, k: int = DEFAULT_K,
                   alpha: float = DEFAULT_ALPHA) -> np.ndarray:
    """Unit-length queries moved toward the mean of their ``k`` best candidates (rows: unit vectors)."""
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
    candidates = np.asarray(candidates, dtype=np.float32)
    if candidates.ndim != 2 or candidates.shape[1] != queries.shape[1]:
        raise ValueError(f"expand_queries: candidates {candidates.shape} do not match queries {queries.shape}")
    if k < 1 or alpha < 0:
        raise ValueError(f"expand_queries: k must be >= 1 and alpha >= 0 (got k={k}, alpha={alpha})")
    if len(candidates) == 0:
        return queries
    top = np.argsort(-(queries @ candidates.T), axis=1)[:, : min(k, len(candidates))]
    expanded = queries + alpha * candidates[top].mean(axis=1)
    return expanded / np.maximum(np.linalg.norm(expanded, axis=1, keepdims=True), 1e-12)


def rerank(queries: np.ndarray, candidates: np.ndarray, *, top: int = 10, k: int = DEFAULT_K,
           alpha: float = DEFAULT_ALPHA) -> np.ndarray:
    """Per query, the ``top`` candidate positions best first after feedback expansion."""
    scores = expand_queries(queries, candidates, k=k, alpha=alpha) @ np.asarray(candidates, dtype=np.float32).T
    return np.argsort(-scores, axis=1, kind="stable")[:, :top]
