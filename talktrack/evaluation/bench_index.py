"""Benchmark of the utterance index: embedding throughput, and build time, single-query latency
and recall@10 of HNSW (and IVF-PQ) at 100k and 1M vectors made from real embeddings.

**Vectors.** Embedding a million utterances on a laptop CPU takes hours, so the distinct
English *sentences* of a generated world are embedded once (MiniLM, cached by text hash),
and each synthetic utterance vector is the normalised sum of the real embeddings of 1-3
sentences drawn from that pool, as a multi-sentence utterance would be. Queries are real
utterances held out of the pool (their sentences' owners never feed it), embedded whole.

**Figures.** For each size: HNSW build time (M, efConstruction from settings) and, for each
efSearch of a sweep, recall@10 vs exact search (tie-aware, see
:mod:`talktrack.evaluation.semantic.retrieval`) and single-query p50/p99 latency through
:meth:`VectorIndex.search`; the smallest efSearch reaching the recall target is reported as
``chosen``. The same for IVF-PQ over an nprobe sweep, an exact (flat) latency baseline, and,
at the first size, filtered search (the allowed share vs recall and latency).

**Compressed (IVF-PQ) run** (:func:`run_compressed_bench`, key ``compressed`` of the same JSON,
the figures above kept): ``size`` vectors (10M by default) composed the same way, but only their
recipe is held (13 bytes a vector) and they are made 100k at a time, so memory stays bounded.
Exact truth for the queries by brute force over those chunks; the index trained on a sample,
then added to chunk by chunk, saved, loaded memory-mapped, and queried one query at a time
(recall@10 tie-aware, p50/p99); peak resident memory of the process; filtered searches
(allowed share vs hits returned, recall against exact over the allowed vectors); and in the
same run the exact (flat) and HNSW baselines on a subset, as latency ratios.

Example::

    run_index_bench(Path("bench/results/index.json"), sizes=(100_000,), world_dir=Path("/tmp/world"))
    run_compressed_bench(Path("bench/results/index.json"), size=2_000_000, world_dir=Path("/tmp/world"))
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from talktrack.core.config import IndexSettings, Settings, load_settings
from talktrack.core.progress import Progress
from talktrack.evaluation.semantic.retrieval import TIE_EPSILON, build_index, exact_top_k, tie_aware_recall
from talktrack.models.embedding import EmbedderSet
from talktrack.models.vector_index import VectorIndex

RECALL_TARGET = 0.95
P50_TARGET_MS = 5.0
EF_SWEEP = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536)
NPROBE_SWEEP = (8, 16, 32, 64, 128)
FILTER_SHARES = (0.5, 0.2, 0.05, 0.01)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def run_index_bench(out_path: Path, sizes: tuple[int, ...] = (100_000, 1_000_000), *, world_dir: Path | None = None,
                    settings: Settings | None = None, cache_dir: Path | None = None, n_queries: int = 1000,
                    throughput_texts: int = 3000, ivfpq: bool = True, threads: int = 1, seed: int = 0,
                    progress: Progress | None = None) -> dict:
    """Run the benchmark and write its JSON to ``out_path``; returns the same dict.

    ``world_dir``: a generated world (None: generate a 9000-call one under ``cache_dir``).
    ``threads``: FAISS OpenMP threads (1 on a shared machine: spinning threads of an
    oversubscribed CPU cost more than they give).
    """
    settings = settings or load_settings(environ={})
    cache_dir = Path(cache_dir or Path.home() / ".cache" / "talktrack" / "bench-index")
    world_dir = world_dir or _generated_world(cache_dir / "world", seed)
    texts = english_utterances(world_dir)
    embedders = EmbedderSet.from_settings(settings.models.embedder, cache_dir=cache_dir / "embeddings")
    result = {"benchmark": "index", "machine": _machine(threads), "world": str(world_dir),
              "throughput": embedding_throughput(embedders, world_dir, throughput_texts, seed)}
    faiss.omp_set_num_threads(threads)  # after the embedders ran: torch may share the OpenMP runtime
    pool, queries, source = sentence_pool_and_queries(embedders, texts, n_queries, seed, progress)
    result["vector_source"] = source
    vectors = composed_vectors(pool, max(sizes), seed)
    result["sizes"] = {}
    for size in sorted(sizes):
        base = vectors[:size]
        result["sizes"][str(size)] = size_figures(base, queries, settings.semantic.index, ivfpq=ivfpq,
                                                  filtered=size == min(sizes), seed=seed)
        _write(out_path, result)
    return result


COMPRESSED_RECALL_TARGET = 0.9
COMPRESSED_RSS_TARGET_GB = 4.0
COMPRESSED_FILTER_SHARES = (0.05, 0.01, 0.001)
BASELINE_FLAT_SUBSET = 1_000_000
BASELINE_HNSW_SUBSET = 100_000


def run_compressed_bench(out_path: Path, size: int = 10_000_000, *, world_dir: Path | None = None,
                         settings: Settings | None = None, cache_dir: Path | None = None, n_queries: int = 1000,
                         recall_queries: int = 300, chunk: int = 100_000, threads: int = 1, seed: int = 0,
                         progress: Progress | None = None) -> dict:
    """The compressed-index run (module docstring); merged into ``out_path`` under ``compressed``.

    ``n_queries`` are held out of the sentence pool as in :func:`run_index_bench` (the same pool,
    so the first 1M vectors are that run's); the first ``recall_queries`` of them are searched
    (exact truth by brute force costs ``size * recall_queries`` dot products: 10M x 300 here).
    """
    settings = settings or load_settings(environ={})
    cache_dir = Path(cache_dir or Path.home() / ".cache" / "talktrack" / "bench-index")
    world_dir = world_dir or _generated_world(cache_dir / "world", seed)
    embedders = EmbedderSet.from_settings(settings.models.embedder, cache_dir=cache_dir / "embeddings")
    pool, queries, source = sentence_pool_and_queries(embedders, english_utterances(world_dir), n_queries, seed,
                                                      progress)
    faiss.omp_set_num_threads(threads)
    machine = _machine(threads)  # the load average before the run: it moves every latency on a shared machine
    with tempfile.TemporaryDirectory(prefix="talktrack-bench-ivfpq-", dir=cache_dir) as workdir:
        figures = compressed_figures(Composer(pool, size, seed), queries[:recall_queries], settings.semantic.index,
                                     Path(workdir),
                                     chunk=chunk, seed=seed, progress=progress)
    figures |= {"vector_source": source, "machine": machine | {"load_average_at_end": _load()}, "world": str(world_dir)}
    result = json.loads(Path(out_path).read_text(encoding="utf-8")) if Path(out_path).is_file() else {}
    result["compressed"] = figures
    _write(out_path, result)
    return result


def compressed_figures(composer: Composer, queries: np.ndarray, settings: IndexSettings, workdir: Path, *,
                       chunk: int, seed: int, progress: Progress | None) -> dict:
    """Everything the compressed run measures (module docstring), ``composer.n`` vectors."""
    size = composer.n
    settings = settings.model_copy(update={"kind": "ivfpq"})
    figures: dict = {"vectors": size, "queries": len(queries), "chunk": chunk,
                     "rss_before_mb": _rss_mb(), "targets": {"recall_at_10": COMPRESSED_RECALL_TARGET,
                                                            "p50_ms": P50_TARGET_MS,
                                                            "peak_rss_gb": COMPRESSED_RSS_TARGET_GB}}
    started = time.perf_counter()
    truth_ids, truth_scores = _chunked_truth(composer, queries, chunk, progress)
    figures["exact_truth_s"] = round(time.perf_counter() - started, 1)

    index = VectorIndex(composer.pool.shape[1], settings)
    started = time.perf_counter()
    sample_ids = np.sort(np.random.default_rng(seed + 3).choice(size, size=min(size, settings.ivf_train_sample),
                                                                 replace=False))
    index.train(composer.rows(sample_ids), expected_size=size, reason="bench: a random sample")
    train_s = time.perf_counter() - started
    for ids, vectors in composer.chunks(chunk):
        index.add(ids, vectors)
        if progress:
            progress("add compressed", int(ids[-1]) + 1, size)
    build_s = time.perf_counter() - started
    path = workdir / "index.faiss"
    index.save(path)
    figures["build"] = {"train_s": round(train_s, 1), "build_s": round(build_s, 1),
                        "vectors_per_s": round(size / build_s), "params": index.params,
                        "index_file_mb": round(path.stat().st_size / 2**20),
                        "vector_file_mb": round((workdir / "index.faiss.vectors").stat().st_size / 2**20),
                        "rss_after_build_mb": _rss_mb()}
    del index

    loaded = VectorIndex.load(path, settings=settings)
    figures["rss_after_mmap_load_mb"] = _rss_mb()
    sweep = []
    for nprobe, rerank in ((8, 10), (16, 10), (16, 20), (32, 20)):
        loaded.settings = settings.model_copy(update={"ivf_nprobe": nprobe, "ivf_rerank": rerank})
        found, latencies = _single_queries(loaded, queries)
        sweep.append({"nprobe": nprobe, "rerank": rerank, **_percentiles(latencies),
                      "recall_at_10": round(_composed_recall(composer, queries, found, truth_scores), 4)})
    loaded.settings = settings
    default = next(row for row in sweep if (row["nprobe"], row["rerank"]) == (settings.ivf_nprobe, settings.ivf_rerank))
    figures["search"] = {"memory_mapped": loaded.params["memory_mapped"], "sweep": sweep, "default": default}
    figures["filtered"] = _compressed_filtered(loaded, composer, queries[:100], seed)
    del loaded
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    figures["baseline"] = _baselines(composer, queries, default["p50_ms"], progress)
    figures["meets_targets"] = {
        "recall_at_10": default["recall_at_10"] >= COMPRESSED_RECALL_TARGET,
        "p50_ms": default["p50_ms"] <= P50_TARGET_MS,
        "peak_rss": figures["peak_rss_mb"] <= COMPRESSED_RSS_TARGET_GB * 1024}
    return figures


def _chunked_truth(composer: Composer, queries: np.ndarray, chunk: int,
                   progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-10 of every query by brute force over the composed vectors, chunk by chunk."""
    best_scores = np.full((len(queries), 10), -np.inf, dtype=np.float32)
    best_ids = np.full((len(queries), 10), -1, dtype=np.int64)
    for ids, vectors in composer.chunks(chunk):
        part_ids, part_scores = exact_top_k(vectors, queries, 10)
        scores = np.concatenate([best_scores, part_scores], axis=1)
        merged = np.concatenate([best_ids, part_ids + ids[0]], axis=1)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :10]
        best_scores, best_ids = np.take_along_axis(scores, order, axis=1), np.take_along_axis(merged, order, axis=1)
        if progress:
            progress("exact truth", int(ids[-1]) + 1, composer.n)
    return best_ids, best_scores


def _composed_recall(composer: Composer, queries: np.ndarray, found: np.ndarray, truth_scores: np.ndarray,
                     allowed: np.ndarray | None = None) -> float:
    """Tie-aware recall@10 (as :func:`tie_aware_recall`) with the returned vectors remade from the recipe."""
    rows = np.maximum(found, 0)
    exact = np.einsum("qd,qkd->qk", queries, composer.rows(rows.ravel()).reshape(*rows.shape, -1))
    good = (found >= 0) & (exact >= truth_scores[:, -1:] - TIE_EPSILON)
    if allowed is not None:
        good &= np.isin(found, allowed)
    return float(good.sum() / truth_scores.size)


def _compressed_filtered(index: VectorIndex, composer: Composer, queries: np.ndarray, seed: int) -> list[dict]:
    """Filtered search on the loaded index: hits returned (never fewer than k), recall vs exact over the allowed."""
    rng = np.random.default_rng(seed + 4)
    rows = []
    for share in COMPRESSED_FILTER_SHARES:
        allowed = np.sort(rng.choice(composer.n, size=max(10, int(share * composer.n)), replace=False))
        _, truth_scores = exact_top_k(composer.rows(allowed), queries, 10)
        found, latencies = _single_queries(index, queries, allowed)
        path = "exact over allowed" if len(allowed) <= index.settings.exact_max_vectors else "ivf + selector, widened"
        rows.append({"allowed_share": share, "allowed": len(allowed), "path": path,
                     "fewest_hits": int((found >= 0).sum(axis=1).min()),
                     "recall_at_10": round(_composed_recall(composer, queries, found, truth_scores, allowed), 4),
                     **_percentiles(latencies)})
    return rows


def _baselines(composer: Composer, queries: np.ndarray, compressed_p50: float, progress: Progress | None) -> dict:
    """Same-run baselines on subsets: exact (flat) search and HNSW, and the compressed p50 as a ratio of each."""
    flat_n = min(composer.n, BASELINE_FLAT_SUBSET)
    flat = faiss.IndexFlatIP(composer.pool.shape[1])
    for ids, vectors in composer.chunks(100_000):
        if ids[0] >= flat_n:
            break
        flat.add(vectors[: flat_n - ids[0]])
    latencies = []
    for query in queries[:50]:
        started = time.perf_counter()
        flat.search(query[None, :], 10)
        latencies.append((time.perf_counter() - started) * 1000)
    exact = {"vectors": flat_n, **_percentiles(latencies), "queries_timed": 50}
    del flat
    hnsw_n = min(composer.n, BASELINE_HNSW_SUBSET)
    base = composer.rows(np.arange(hnsw_n))
    hnsw, build_s = build_index(base, IndexSettings(kind="hnsw"))
    _, hnsw_truth = exact_top_k(base, queries, 10)
    found, latencies = _single_queries(hnsw, queries)
    hnsw_row = {"vectors": hnsw_n, "build_s": round(build_s, 1), "efSearch": hnsw.settings.hnsw_ef_search,
                "recall_at_10": round(tie_aware_recall(base, queries, found, hnsw_truth), 4), **_percentiles(latencies)}
    return {"exact_flat": exact, "hnsw": hnsw_row,
            "compressed_p50_over_exact_p50": round(compressed_p50 / exact["p50_ms"], 4),
            "compressed_p50_over_hnsw_p50": round(compressed_p50 / hnsw_row["p50_ms"], 2),
            "note": "baselines on the first vectors of the same composed set; exact scales linearly with size"}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _rss_mb() -> int:
    """Resident memory of this process now (VmRSS), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024)
    return -1


def english_utterances(world_dir: Path) -> list[str]:
    """Distinct English utterance texts of a generated world's transcripts, in file order."""
    texts: dict[str, None] = {}
    for path in sorted((world_dir / "transcripts").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for utterance in data["utterances"]:
            if (utterance.get("language") or data.get("language")) == "en":
                texts.setdefault(utterance["text"].strip(), None)
    if not texts:
        raise ValueError(f"{world_dir}: no English utterances in transcripts/*.json")
    return list(texts)


def sentence_pool_and_queries(embedders: EmbedderSet, texts: list[str], n_queries: int, seed: int,
                              progress: Progress | None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Real embeddings: the sentence pool (from utterances not held out) and the held-out queries."""
    rng = np.random.default_rng(seed)
    multi = [t for t in texts if len(split_sentences(t)) > 1]
    held = set(rng.choice(len(multi), size=min(n_queries, len(multi) // 5), replace=False).tolist())
    query_texts = [multi[i] for i in sorted(held)]
    held_texts = set(query_texts)
    sentences = list(dict.fromkeys(s for t in texts if t not in held_texts for s in split_sentences(t)))
    english = embedders.space("english")
    pool = _encode(english, sentences, "embed sentences", progress)
    queries = _encode(english, query_texts, "embed queries", progress)
    source = {"kind": "composed real embeddings", "model": english.name, "dim": english.dim,
              "sentences": len(sentences), "from_utterances": len(texts) - len(query_texts),
              "composition": "each vector = normalised sum of the embeddings of 1-3 sentences drawn uniformly",
              "queries": f"{len(query_texts)} held-out multi-sentence utterances, embedded whole (not in the index)"}
    return pool, queries, source


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def composed_vectors(pool: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` unit vectors, each the normalised sum of 1-3 random rows of ``pool``; shape (n, dim)."""
    return Composer(pool, n, seed).rows(np.arange(n))


class Composer:
    """The recipe of ``n`` composed vectors (which 1-3 pool rows each sums: 13 bytes a vector), so that
    10M of them can be made chunk by chunk, or by id for scoring, without holding 15 GB of floats."""

    def __init__(self, pool: np.ndarray, n: int, seed: int, chunk: int = 100_000) -> None:
        rng = np.random.default_rng(seed + 1)
        self.pool, self.n = pool, n
        self.counts = np.empty(n, dtype=np.int8)
        self.picks = np.empty((n, 3), dtype=np.int32)
        for begin in range(0, n, chunk):  # drawn chunk by chunk: the first 1M are the 1M bench's vectors
            m = min(chunk, n - begin)
            self.counts[begin : begin + m] = rng.integers(1, 4, size=m)
            self.picks[begin : begin + m] = rng.integers(0, len(pool), size=(m, 3))

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of ``ids``; shape (len(ids), dim)."""
        picks, counts = self.picks[ids], self.counts[ids]
        total = self.pool[picks[:, 0]].copy()
        for j in (1, 2):
            use = counts > j
            total[use] += self.pool[picks[use, j]]
        return total / np.linalg.norm(total, axis=1, keepdims=True)

    def chunks(self, size: int = 100_000):
        """``(ids, vectors)`` of every vector, ``size`` at a time."""
        for begin in range(0, self.n, size):
            ids = np.arange(begin, min(begin + size, self.n))
            yield ids, self.rows(ids)


def size_figures(base: np.ndarray, queries: np.ndarray, settings: IndexSettings, *, ivfpq: bool, filtered: bool,
                 seed: int) -> dict:
    """Everything measured at one size (see the module docstring)."""
    truth_ids, truth_scores = exact_top_k(base, queries, 10)
    figures = {"vectors": len(base), "queries": len(queries), "exact": _exact_latency(base, queries)}
    hnsw, build_s = build_index(base, settings.model_copy(update={"kind": "hnsw"}))
    params = hnsw.params  # before the sweep changes efSearch
    sweep = [_measure(hnsw, base, queries, truth_scores, hnsw_ef_search=ef) | {"efSearch": ef} for ef in EF_SWEEP]
    figures["hnsw"] = {"build_s": round(build_s, 1), "params": params, "sweep": sweep,
                       "chosen": _chosen(sweep), "memory_mb": round(_hnsw_bytes(hnsw) / 2**20)}
    if filtered:
        figures["hnsw_filtered"] = _filtered(hnsw, base, queries[:200], settings, seed)
    del hnsw
    if ivfpq:
        index, build_s = build_index(base, settings.model_copy(update={"kind": "ivfpq"}))
        params = index.params
        sweep = [_measure(index, base, queries, truth_scores, ivf_nprobe=p) | {"nprobe": p} for p in NPROBE_SWEEP]
        figures["ivfpq"] = {"build_s": round(build_s, 1), "params": params, "sweep": sweep,
                            "chosen": _chosen(sweep)}
    return figures


def _measure(index: VectorIndex, base: np.ndarray, queries: np.ndarray, truth_scores: np.ndarray, **params) -> dict:
    index.settings = index.settings.model_copy(update=params)
    found, latencies = _single_queries(index, queries)
    return {"recall_at_10": round(tie_aware_recall(base, queries, found, truth_scores), 4), **_percentiles(latencies)}


def _single_queries(index: VectorIndex, queries: np.ndarray, allowed=None) -> tuple[np.ndarray, list[float]]:
    found = np.empty((len(queries), 10), dtype=np.int64)
    latencies = []
    for i, query in enumerate(queries):
        started = time.perf_counter()
        _, ids = index.search(query[None, :], 10, allowed_ids=allowed)
        latencies.append((time.perf_counter() - started) * 1000)
        found[i] = ids[0]
    return found, latencies


def _percentiles(latencies: list[float]) -> dict:
    return {"p50_ms": round(float(np.percentile(latencies, 50)), 3), "p99_ms": round(float(np.percentile(latencies, 99)), 3)}


def _chosen(sweep: list[dict]) -> dict | None:
    """The cheapest setting that reaches the recall target, with the verdict on both targets."""
    good = [row for row in sweep if row["recall_at_10"] >= RECALL_TARGET]
    if not good:
        return None
    best = min(good, key=lambda row: row["p50_ms"])
    return best | {"meets_target": best["p50_ms"] <= P50_TARGET_MS,
                   "target": f"p50 <= {P50_TARGET_MS} ms at recall@10 >= {RECALL_TARGET}"}


def _exact_latency(base: np.ndarray, queries: np.ndarray, n: int = 50) -> dict:
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    latencies = []
    for query in queries[:n]:
        started = time.perf_counter()
        index.search(query[None, :], 10)
        latencies.append((time.perf_counter() - started) * 1000)
    return _percentiles(latencies) | {"queries_timed": n}


def _filtered(index: VectorIndex, base: np.ndarray, queries: np.ndarray, settings: IndexSettings, seed: int) -> list[dict]:
    """Filtered search through VectorIndex (selector or exact fallback) vs exact over the allowed rows."""
    index.settings = settings
    rows = []
    rng = np.random.default_rng(seed + 2)
    for share in FILTER_SHARES:
        allowed = np.sort(rng.choice(len(base), size=max(10, int(share * len(base))), replace=False))
        _, truth_scores = exact_top_k(base[allowed], queries, 10)
        found, latencies = _single_queries(index, queries, allowed)
        path = "exact over allowed" if index.filter_searches_exactly(len(allowed)) else "hnsw + selector"
        rows.append({"allowed_share": share, "allowed": len(allowed), "path": path,
                     "recall_at_10": round(tie_aware_recall(base, queries, found, truth_scores), 4),
                     **_percentiles(latencies)})
    return rows


def embedding_throughput(embedders: EmbedderSet, world_dir: Path, n: int, seed: int) -> dict:
    """Sentences per second of each backend on ``n`` distinct generated utterances (no cache)."""
    figures = {}
    for space, language in (("english", "en"), ("multilingual", "zh")):
        texts = _utterances_in(world_dir, language)[:n]
        embedder = embedders.space(space).inner  # the raw model: the cache would measure SQLite
        embedder.encode(texts[:32])  # warm-up (lazy initialisation)
        started = time.perf_counter()
        embedder.encode(texts)
        seconds = time.perf_counter() - started
        figures[space] = {"model": embedder.name, "language": language, "texts": len(texts),
                          "sentences_per_s": round(len(texts) / seconds, 1), "seconds": round(seconds, 2)}
    return figures


def _utterances_in(world_dir: Path, language: str) -> list[str]:
    texts: dict[str, None] = {}
    for path in sorted((world_dir / "transcripts").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for utterance in data["utterances"]:
            if (utterance.get("language") or data.get("language")) == language:
                texts.setdefault(utterance["text"], None)
    return list(texts)


def _encode(embedder, texts: list[str], step: str, progress: Progress | None, batch: int = 1024) -> np.ndarray:
    out = np.empty((len(texts), embedder.dim), dtype=np.float32)
    for begin in range(0, len(texts), batch):
        out[begin : begin + batch] = embedder.encode(texts[begin : begin + batch])
        if progress:
            progress(step, min(begin + batch, len(texts)), len(texts))
    return out


def _hnsw_bytes(index: VectorIndex) -> int:
    n, m = len(index), index.settings.hnsw_m
    return n * index.dim * 4 + n * m * 2 * 4 + n * 8  # vectors + level-0 links + ids (upper levels ~1/M more)


def _generated_world(folder: Path, seed: int) -> Path:
    from talktrack.evaluation.world import WorldSpec, generate_world

    if not (folder / "transcripts").is_dir():
        generate_world(WorldSpec(seed=seed + 11, reps=40, customers=1200, deals=3000, calls=9000, audio=0), folder)
    return folder


def _machine(threads: int) -> dict:
    return {"cpus": os.cpu_count(), "faiss_threads": threads, "faiss": faiss.__version__,
            "platform": platform.platform(), "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def _write(out_path: Path, result: dict) -> None:
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    record = result | {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    tmp = out_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out_path)
