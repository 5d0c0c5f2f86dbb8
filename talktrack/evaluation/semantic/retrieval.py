"""Search recall@k of the approximate indexes (HNSW, IVF-PQ) against exact search on the same vectors.

Recall is *tie-aware*: a returned vector counts as a true neighbour when its exact cosine
is at least the k-th best exact cosine (minus 1e-5). Generated (and real) calls repeat
phrases word for word, so dozens of vectors can tie for the top places; counting ids would
punish an index for picking equally good duplicates.

Queries are held out: with no queries given, a random sample of the vectors is taken out of
the base before indexing, so no query finds itself.

Example::

    report = evaluate_search_recall(UtteranceIndex(catalog, settings, workspace), k=10)
    report["spaces"]["english"]["hnsw"]["recall_at_k"]
"""

from __future__ import annotations

import time

import numpy as np

from talktrack.core.config import IndexSettings
from talktrack.models.vector_index import IVF_MIN_TRAIN_VECTORS, VectorIndex
from talktrack.pipelines.semantic.index import SPACES, UtteranceIndex

TIE_EPSILON = 1e-5


def evaluate_search_recall(source: UtteranceIndex | np.ndarray, queries: np.ndarray | None = None, *, k: int = 10,
                           settings: IndexSettings | None = None, n_queries: int = 200, seed: int = 0,
                           kinds: tuple[str, ...] = ("hnsw", "ivfpq")) -> dict:
    """Recall@k of each approximate kind vs exact search, as a JSON-ready dict.

    ``source``: a built :class:`UtteranceIndex` (each embedding space is measured on the
    vectors it stores: one per distinct text, so word-for-word copies do not pile up as
    duplicates in the graph) or a matrix of unit vectors (shape: (n, dim)). ``queries``: query
    vectors (shape: (q, dim)); None holds out ``n_queries`` rows of the base.
    ``settings``: the index parameters (None: the index's own, or the defaults).
    """
    if isinstance(source, UtteranceIndex):
        settings = settings or source.settings.semantic.index
        spaces = {}
        for space in SPACES:
            index = source.space_index(space)
            if index is not None:
                spaces[space] = recall_on_matrix(index.vectors()[1], None, k=k, settings=settings,
                                                 n_queries=n_queries, seed=seed, kinds=kinds)
        return {"k": k, "recall": "tie-aware, vs exact search", "spaces": spaces}
    return recall_on_matrix(np.asarray(source, dtype=np.float32), queries, k=k, settings=settings or IndexSettings(),
                            n_queries=n_queries, seed=seed, kinds=kinds)


def recall_on_matrix(vectors: np.ndarray, queries: np.ndarray | None, *, k: int, settings: IndexSettings,
                     n_queries: int, seed: int, kinds: tuple[str, ...]) -> dict:
    base, queries = _split_queries(vectors, queries, n_queries, seed)
    truth_ids, truth_scores = exact_top_k(base, queries, k)
    result: dict = {"vectors": len(base), "queries": len(queries), "k": k}
    for kind in kinds:
        if kind == "ivfpq" and len(base) < IVF_MIN_TRAIN_VECTORS:
            result[kind] = {"skipped": f"IVF-PQ needs at least {IVF_MIN_TRAIN_VECTORS} vectors, have {len(base)}"}
            continue
        index, build_s = build_index(base, settings.model_copy(update={"kind": kind}))
        _, found = index.search(queries, k)
        result[kind] = {"recall_at_k": round(tie_aware_recall(base, queries, found, truth_scores), 4),
                        "build_s": round(build_s, 3), "params": index.params}
    return result


def build_index(base: np.ndarray, settings: IndexSettings) -> tuple[VectorIndex, float]:
    """A :class:`VectorIndex` of ``base`` with row numbers as ids, and the seconds it took."""
    started = time.perf_counter()
    index = VectorIndex(base.shape[1], settings)
    index.add(np.arange(len(base), dtype=np.int64), base)
    return index, time.perf_counter() - started


def exact_top_k(base: np.ndarray, queries: np.ndarray, k: int, chunk: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by inner product, in chunks of the base (bounded memory): (ids, scores), shape (q, k)."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.full((len(queries), k), -1, dtype=np.int64)
    for begin in range(0, len(base), chunk):
        scores = queries @ base[begin : begin + chunk].T  # shape: (q, chunk)
        take = min(k, scores.shape[1])
        top = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        merged_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, axis=1)], axis=1)
        merged_ids = np.concatenate([best_ids, top + begin], axis=1)
        order = np.argsort(-merged_scores, axis=1, kind="stable")[:, :k]
        best_scores = np.take_along_axis(merged_scores, order, axis=1)
        best_ids = np.take_along_axis(merged_ids, order, axis=1)
    return best_ids, best_scores


def tie_aware_recall(base: np.ndarray, queries: np.ndarray, found: np.ndarray, truth_scores: np.ndarray) -> float:
    """Share of the exact top-k places filled by a vector at least as close as the exact k-th."""
    kth = truth_scores[:, -1:]
    rows = np.maximum(found, 0)
    true_scores = np.einsum("qd,qkd->qk", queries, base[rows])  # exact cosine of what was returned
    good = (found >= 0) & (true_scores >= kth - TIE_EPSILON)
    return float(good.sum() / truth_scores.size)


def _split_queries(vectors: np.ndarray, queries: np.ndarray | None, n_queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if queries is not None:
        return vectors, np.asarray(queries, dtype=np.float32)
    if len(vectors) < 20:
        raise ValueError(f"need at least 20 vectors to hold queries out, got {len(vectors)}")
    held = np.random.default_rng(seed).choice(len(vectors), size=min(n_queries, len(vectors) // 10), replace=False)
    keep = np.ones(len(vectors), dtype=bool)
    keep[held] = False
    return np.ascontiguousarray(vectors[keep]), np.ascontiguousarray(vectors[held])
