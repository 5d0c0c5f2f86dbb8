"""A FAISS vector index with caller-chosen int64 ids, filters and atomic persistence.

Vectors are unit rows, so inner product is cosine similarity. Three kinds:

- ``flat``: exact search (``IndexIDMap2`` over ``IndexFlatIP``); ids can be removed in place.
- ``hnsw``: ``IndexHNSWFlat`` (inner product) with ``M``/``efConstruction``/``efSearch`` from
  :class:`~talktrack.core.config.IndexSettings`; it keeps the raw vectors, so a selective
  filter can still be searched exactly (see below) and removal rebuilds the graph from them.
- ``ivfpq``: ``IndexIVFPQ`` (``pq_m`` byte codes a vector, ~72 bytes with its id: 10M vectors
  in ~0.7 GB), its exact vectors kept on disk in a :class:`VectorStore` (float16 by default)
  so that the ``ivf_rerank * k`` best PQ candidates are re-scored exactly. FAISS ids are rows
  of that store. See "Compressed index" below.

``auto`` is flat while the index holds at most ``exact_max_vectors`` vectors, turns into HNSW
(rebuilt from the flat vectors, no re-embedding) when an ``add`` crosses that size, and into
IVF-PQ when an ``add`` takes it past ``compressed_min_vectors`` (HNSW keeps every float32
vector and its links in memory: ~1.7 GB per million 384-d vectors, 10M would not fit).

**Compressed index.** Trained on a random sample (``ivf_train_sample`` vectors; ``nlist`` about
``4 * sqrt(n)``, at most sample/39) of the vectors present when it is created, or of a sample
given to :meth:`train` with the size expected. Later adds are encoded with the trained
codebooks, appended to the store, no retraining, until :meth:`retrain_reason` says so: the
index outgrew its training size ``ivf_retrain_growth`` times (its lists get long and slow), or
the new vectors sit farther from their nearest centroid than the training sample did by
``ivf_drift_tolerance`` in mean cosine (the codebooks no longer describe the data); then it is
retrained from the stored vectors. Saved indexes load with ``IO_FLAG_MMAP`` (``ivf_mmap``):
the inverted lists stay in the file and the page cache, read-only; the first add or removal
reads the file into memory.

**Filters.** ``search(..., allowed_ids=...)`` passes a FAISS ``IDSelector`` so only allowed ids
are scored, and a filter never returns fewer than ``k`` hits while ``k`` allowed ids exist:

- flat: exhaustive over the allowed ids, exact by construction.
- hnsw: a graph walk that must skip most nodes loses recall and can run dry, so when the
  allowed ids are few (at most ``exact_max_vectors``, or under ``filter_exact_share`` of the
  index) they are scored exactly on the stored vectors (a selector on the flat storage: the
  cost is one dot product per allowed vector). Otherwise the filtered graph walk runs, and if
  it still comes back short, the exact path answers.
- ivfpq: at most ``exact_max_vectors`` allowed vectors are scored exactly from the store;
  otherwise the selector is applied inside the probed lists, and a short answer is searched
  again with 4x the lists probed, up to every list (which finds every allowed vector).

**Files.** :meth:`save` writes ``<path>`` (``faiss.write_index``) and ``<path>.json`` (kind, dim,
count, parameters, embedder name, FAISS version, file size), each to a temporary file in the
same folder, fsynced, then ``os.replace``d; IVF-PQ adds ``<path>.vectors`` (the store, appended
in place) and ``<path>.rows.npy`` (the id of each row; the sidecar holds the row count); :meth:`load` checks them against each other and
raises :class:`VectorIndexError` naming the file for a missing, truncated or unreadable index.

Example::

    index = VectorIndex(384, IndexSettings(kind="flat"), embedder="st:all-MiniLM-L6-v2")
    index.add(np.array([7, 9]), vectors)            # shape: (2, 384), unit rows
    scores, ids = index.search(query, k=5, allowed_ids=[9])
    index.save(folder / "english.faiss")
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np

from talktrack.core.config import IndexSettings
from talktrack.models.vector_store import VectorStore

KINDS = ("flat", "hnsw", "ivfpq")
SIDECAR_SUFFIX = ".json"
FORMAT_VERSION = 1
IVF_MIN_TRAIN_VECTORS = 1_000      # PQ codebooks of 256 centroids need a few points each
IVF_TRAIN_PER_LIST = 39            # k-means wants this many training vectors per inverted list
IVF_KMEANS_ITERATIONS = 15         # faiss' default 25 costs 40 % more training for no recall measured
ADD_CHUNK = 100_000                # vectors re-added at a time when a compressed index is (re)built
DRIFT_SAMPLE = 1_000               # vectors of an add whose centroid similarity is measured for drift
STORE_SUFFIX, ROWS_SUFFIX = ".vectors", ".rows.npy"


class VectorIndexError(RuntimeError):
    """An index file that is missing, unreadable or inconsistent with its sidecar."""


class VectorIndex:
    """Unit vectors under int64 ids; see the module docstring for kinds, filters and files."""

    def __init__(self, dim: int, settings: IndexSettings | None = None, *, embedder: str = "") -> None:
        if dim < 1:
            raise ValueError(f"dim must be positive, got {dim}")
        self.dim = int(dim)
        self.settings = settings or IndexSettings()
        self.embedder = embedder
        self.kind = self.settings.kind if self.settings.kind in KINDS else "flat"  # auto starts flat
        self._index = None if self.kind == "ivfpq" else self._empty(self.kind)
        self._ids_cache: np.ndarray | None = None
        self._store: VectorStore | None = None   # ivfpq: the exact vectors, FAISS ids are its rows
        self._training: dict = {}                # ivfpq: what it was trained on, drift statistics
        self._mapped_from: Path | None = None    # ivfpq loaded memory-mapped (read-only) from this file

    # ----------------------------------------------------------------- state
    def __len__(self) -> int:
        if self.kind == "ivfpq":
            return 0 if self._store is None else self._store.live
        return int(self._index.ntotal)

    @property
    def params(self) -> dict:
        """The parameters that shape this index (echoed in the sidecar and in reports)."""
        s = self.settings
        params: dict = {"requested_kind": s.kind, "exact_max_vectors": s.exact_max_vectors,
                        "filter_exact_share": s.filter_exact_share}
        if self.kind == "hnsw":
            params |= {"M": s.hnsw_m, "efConstruction": s.hnsw_ef_construction, "efSearch": s.hnsw_ef_search}
        if self.kind == "ivfpq":
            ivf = self._ivf()
            params |= {"nlist": ivf.nlist if ivf else None, "nprobe": s.ivf_nprobe,
                       "pq_m": self._index.pq.M if ivf else s.pq_m, "rerank": s.ivf_rerank,
                       "store_dtype": self._store.dtype.name if self._store else s.ivf_store_dtype,
                       "memory_mapped": self._mapped_from is not None, "training": dict(self._training)}
        return params

    def ids(self) -> np.ndarray:
        """Every id in the index (int64; order: storage order for flat/HNSW, by list for IVF)."""
        if self._ids_cache is None:
            self._ids_cache = self._read_ids()
        return self._ids_cache

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, vectors)`` as stored; shape of vectors: (len(self), dim) (IVF-PQ: read from its store)."""
        if self.kind == "ivfpq":
            if self._store is None:
                return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
            rows = self._store.live_rows()
            return self._store.row_ids[rows].copy(), self._store.read(rows)
        matrix = faiss.vector_to_array(self._flat_storage().codes).view(np.float32).reshape(len(self), self.dim)
        return self.ids().copy(), matrix

    # ------------------------------------------------------------------ add
    def add(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        """Add ``vectors`` (shape: (n, dim)) under ``ids``; ids already in the index are refused."""
        ids = _int64(ids)
        vectors = self._check_vectors(vectors, "vectors")
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        if len(ids) == 0:
            return
        if len(np.unique(ids)) != len(ids):
            raise ValueError("ids passed to add() repeat")
        clash = np.intersect1d(ids, self.ids())
        if len(clash):
            raise ValueError(f"{len(clash)} ids are already in the index (e.g. {int(clash[0])}); "
                             "remove them first")
        if self._outgrows_uncompressed(len(ids)):
            self._convert_to_ivfpq()
        elif self._outgrows_flat(len(ids)):
            self._convert_to_hnsw()
        self._ids_cache = None
        if self.kind == "ivfpq":
            self._add_compressed(ids, vectors)
        else:
            self._index.add_with_ids(vectors, ids)

    def remove(self, ids: Iterable[int]) -> int:
        """Drop ``ids`` (absent ones are ignored); returns how many were removed.

        HNSW graphs cannot drop nodes, so the graph is rebuilt from the kept vectors.
        """
        ids = _int64(ids)
        present = np.isin(self.ids(), ids)
        if not present.any():
            return 0
        if self.kind == "hnsw":
            kept_ids, kept = self.vectors()
            self._index = self._empty("hnsw")
            self._index.add_with_ids(kept[~present], kept_ids[~present])
        elif self.kind == "ivfpq":
            rows = self._store.rows_of(ids)
            if self._index is not None:
                self._writable().remove_ids(faiss.IDSelectorBatch(rows))
            self._store.drop(rows)
        else:
            self._index.remove_ids(faiss.IDSelectorBatch(np.ascontiguousarray(ids)))
        self._ids_cache = None
        return int(present.sum())

    # --------------------------------------------------------------- search
    def search(self, vectors: np.ndarray, k: int,
               allowed_ids: Iterable[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` by cosine: ``(scores, ids)``, each shape (nq, k); missing places hold id -1.

        ``allowed_ids``: only these ids may be returned (None: no filter).
        """
        queries = self._check_vectors(vectors, "query")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if len(self) == 0:
            return _empty_result(len(queries), k)
        if allowed_ids is None:
            return self._search_all(queries, k)
        allowed = np.unique(_int64(allowed_ids))
        if len(allowed) == 0:
            return _empty_result(len(queries), k)
        return self._search_filtered(queries, k, allowed)

    def _search_all(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "hnsw":
            return self._index.search(queries, k, params=self._hnsw_params(k))
        if self.kind == "ivfpq":
            if self._index is None:  # too few vectors to train on yet: exact over the store
                return self._exact_rows(queries, k, self._store.live_rows())
            return self._compressed_search(queries, k, self.settings.ivf_nprobe)
        return self._index.search(queries, k)

    def _search_filtered(self, queries: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "ivfpq":  # its FAISS ids are store rows: the selector is built there
            return self._compressed_filtered(queries, k, allowed)
        selector = faiss.IDSelectorBatch(allowed)
        wanted = min(k, len(allowed))
        if self.kind == "flat":
            return self._index.search(queries, k, params=faiss.SearchParameters(sel=selector))
        if self.filter_searches_exactly(len(allowed)):
            return self._exact_on_storage(queries, k, selector)
        result = self._index.search(queries, k, params=self._hnsw_params(k, selector))
        return self._exact_on_storage(queries, k, selector) if _short(result[1], wanted) else result

    def filter_searches_exactly(self, n_allowed: int) -> bool:
        """Whether an HNSW search allowed ``n_allowed`` ids scores them exactly instead of walking the graph."""
        s = self.settings
        return n_allowed <= s.exact_max_vectors or n_allowed < s.filter_exact_share * len(self)

    def _hnsw_params(self, k: int, selector=None):
        return faiss.SearchParametersHNSW(sel=selector, efSearch=max(k, self.settings.hnsw_ef_search))

    def _compressed_search(self, queries: np.ndarray, k: int, nprobe: int, selector=None) -> tuple[np.ndarray, np.ndarray]:
        """IVF-PQ candidates (``ivf_rerank * k`` of them) re-scored on the stored vectors; ids, not rows."""
        rerank = self.settings.ivf_rerank
        fetch = k * rerank if rerank else k
        scores, rows = self._index.search(queries, fetch, params=faiss.SearchParametersIVF(sel=selector, nprobe=nprobe))
        if rerank:
            scores, rows = self._rescored(queries, rows, k)
        return scores, self._ids_of_rows(rows)

    def _rescored(self, queries: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        out_scores, out_rows = _empty_result(len(queries), k)
        for i, (query, candidates) in enumerate(zip(queries, rows, strict=True)):
            candidates = np.sort(candidates[candidates >= 0])  # ascending rows: sequential reads of the file
            exact = self._store.read(candidates) @ query
            best = np.argsort(-exact, kind="stable")[:k]
            out_scores[i, : len(best)], out_rows[i, : len(best)] = exact[best], candidates[best]
        return out_scores, out_rows

    def _compressed_filtered(self, queries: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = self._store.rows_of(allowed)
        if len(rows) == 0:
            return _empty_result(len(queries), k)
        if self._index is None or len(rows) <= self.settings.exact_max_vectors:
            return self._exact_rows(queries, k, rows)
        selector, wanted = faiss.IDSelectorBatch(rows), min(k, len(rows))
        nprobe, nlist = self.settings.ivf_nprobe, self._ivf().nlist
        while True:
            result = self._compressed_search(queries, k, min(nprobe, nlist), selector)
            if nprobe >= nlist or not _short(result[1], wanted):
                return result
            nprobe *= 4  # the allowed vectors sit outside the probed lists: probe more (all at last)

    def _exact_rows(self, queries: np.ndarray, k: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores, found = self._store.exact_top_k(queries, k, rows)
        return scores, self._ids_of_rows(found)

    def _ids_of_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.where(rows >= 0, self._store.row_ids[np.maximum(rows, 0)], -1)

    def _exact_on_storage(self, queries: np.ndarray, k: int, selector) -> tuple[np.ndarray, np.ndarray]:
        """Exact scores of the allowed vectors, read from the HNSW index's flat storage."""
        translated = faiss.IDSelectorTranslated(self._index.id_map, selector)
        scores, positions = self._flat_storage().search(queries, k, params=faiss.SearchParameters(sel=translated))
        ids = np.where(positions >= 0, self.ids()[np.maximum(positions, 0)], -1)
        return scores, ids

    # ---------------------------------------------------------------- files
    def save(self, path: Path | str) -> None:
        """Write the index and its JSON sidecar atomically (temp file, fsync, rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        extra: dict = {}
        if self.kind == "ivfpq":
            extra = self._save_store(path)
        else:
            for stale in (companion(path, STORE_SUFFIX), companion(path, ROWS_SUFFIX)):
                stale.unlink(missing_ok=True)  # left by an IVF-PQ index saved here before
            _atomic_write(path, lambda tmp: faiss.write_index(self._index, str(tmp)))
        sidecar = {"format": FORMAT_VERSION, "kind": self.kind, "dim": self.dim, "count": len(self),
                   "params": self.params, "settings": self.settings.model_dump(), "embedder": self.embedder,
                   "faiss_version": faiss.__version__, "index_bytes": path.stat().st_size} | extra
        text = json.dumps(sidecar, indent=2, sort_keys=True)
        _atomic_write(sidecar_path(path), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

    def _save_store(self, path: Path) -> dict:
        """IVF-PQ files: the store (moved or copied to ``<path>.vectors``), its row ids, the FAISS index."""
        if self._index is None:
            raise VectorIndexError(f"{path}: refusing to save an IVF-PQ index that is not trained yet ({len(self)} "
                                   f"vectors; it trains at {IVF_MIN_TRAIN_VECTORS}); use kind auto for small collections")
        self._store.save_to(companion(path, STORE_SUFFIX))
        row_ids = self._store.row_ids.copy()
        _atomic_write(companion(path, ROWS_SUFFIX), lambda tmp: _write_npy(tmp, row_ids))
        if self._mapped_from is None:
            _atomic_write(path, lambda tmp: faiss.write_index(self._index, str(tmp)))
        elif self._mapped_from.resolve() != path.resolve():  # unchanged since loaded: the file is the index
            _atomic_write(path, lambda tmp: shutil.copyfile(self._mapped_from, tmp))
        return {"store_rows": len(self._store), "store_dtype": self._store.dtype.name, "training": self._training}

    @classmethod
    def load(cls, path: Path | str, *, dim: int | None = None,
             settings: IndexSettings | None = None) -> VectorIndex:
        """Read an index saved by :meth:`save`; ``dim`` (if given) must match the stored one.

        ``settings``: search-time parameters to use (efSearch, nprobe, rerank, filter rules,
        ``ivf_mmap``); the structure (kind, M, nlist, pq_m) is what was saved. None: the saved settings.
        """
        path = Path(path)
        meta = read_sidecar(path)
        if path.stat().st_size != meta.get("index_bytes"):
            raise VectorIndexError(f"{path}: corrupt index: {path.stat().st_size} bytes on disk, the sidecar says "
                                   f"{meta.get('index_bytes')}; rebuild it")
        settings = settings or IndexSettings(**meta["settings"])
        mapped = meta["kind"] == "ivfpq" and settings.ivf_mmap
        try:
            raw = faiss.read_index(str(path), faiss.IO_FLAG_MMAP if mapped else 0)
        except RuntimeError as exc:
            reason = _first_line(exc)
            raise VectorIndexError(f"{path}: corrupt index, FAISS cannot read it ({reason}); rebuild it") from None
        if raw.d != meta["dim"] or raw.ntotal != meta["count"]:
            raise VectorIndexError(f"{path}: corrupt index: holds {raw.ntotal} x {raw.d}, the sidecar says "
                                   f"{meta['count']} x {meta['dim']}; rebuild it")
        if dim is not None and raw.d != dim:
            raise ValueError(f"{path}: index dimension {raw.d} does not match the embedder's {dim}; "
                             "the embedding model changed, rebuild the index")
        index = cls(raw.d, settings, embedder=meta.get("embedder", ""))
        index.kind = meta["kind"]
        index._index = raw
        if index.kind == "ivfpq":
            index._store = _open_store(path, raw, meta)
            index._training = dict(meta.get("training") or {})
            index._mapped_from = path if mapped else None
        return index

    # -------------------------------------------------------------- helpers
    def _check_vectors(self, vectors: np.ndarray, what: str) -> np.ndarray:
        array = np.asarray(vectors, dtype=np.float32)
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] != self.dim:
            raise ValueError(f"{what}: expected shape (n, {self.dim}), got {tuple(np.shape(vectors))}")
        norms = np.linalg.norm(array, axis=1, keepdims=True)
        return np.ascontiguousarray(array / np.maximum(norms, 1e-12))

    def _empty(self, kind: str):
        if kind == "hnsw":
            inner = faiss.IndexHNSWFlat(self.dim, self.settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = self.settings.hnsw_ef_construction
            inner.hnsw.efSearch = self.settings.hnsw_ef_search
        else:
            inner = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIDMap2(inner)
        index.own_fields = True  # the map frees the inner index; Python must not free it too
        inner.this.disown()
        return index

    def _outgrows_flat(self, adding: int) -> bool:
        """``auto`` turns HNSW when an add takes a flat index past ``exact_max_vectors``."""
        s = self.settings
        return s.kind == "auto" and self.kind == "flat" and len(self) + adding > s.exact_max_vectors

    def _outgrows_uncompressed(self, adding: int) -> bool:
        """``auto`` turns IVF-PQ when an add takes it past ``compressed_min_vectors``."""
        s = self.settings
        return s.kind == "auto" and self.kind != "ivfpq" and len(self) + adding > s.compressed_min_vectors

    def _convert_to_ivfpq(self) -> None:
        """Move the vectors into a store, untrained: the add that follows trains on a sample of old and new."""
        ids, vectors = self.vectors()
        self.kind, self._index = "ivfpq", None
        self._store = VectorStore.temporary_store(self.dim, self.settings.ivf_store_dtype)
        self._store.append(ids, vectors)

    # ------------------------------------------------------- compressed index
    def train(self, sample: np.ndarray, expected_size: int | None = None, *, reason: str = "train()") -> None:
        """(Re)train an IVF-PQ index's codebooks on ``sample`` (shape: (n, dim)), sized for ``expected_size``.

        Lets a large build train once on a sample and then add in bounded chunks; vectors already
        in the index are re-encoded from the store.
        """
        if self.kind != "ivfpq":
            raise ValueError(f"train() is for IVF-PQ indexes; this one is {self.kind}")
        sample = self._check_vectors(sample, "sample")
        self._mapped_from = None
        self._index = self._trained(sample, max(expected_size or 0, len(sample), len(self)), reason)
        self._fill_from_store()

    def retrain_reason(self) -> str | None:
        """Why the codebooks no longer fit (None: they do): size grown past ``ivf_retrain_growth`` times
        what they were trained for, or new vectors farther from the centroids by ``ivf_drift_tolerance``."""
        t, s = self._training, self.settings
        if self.kind != "ivfpq" or self._index is None or not t:
            return None
        if len(self) > s.ivf_retrain_growth * t["trained_on"]:
            return f"size: {len(self)} vectors > {s.ivf_retrain_growth} x {t['trained_on']} trained for"
        if t["added_since"] >= max(DRIFT_SAMPLE, 0.1 * t["trained_on"]) and t["drift_count"]:
            recent = t["drift_sum"] / t["drift_count"]
            if t["centroid_similarity"] - recent > s.ivf_drift_tolerance:
                return (f"drift: new vectors' mean centroid cosine {recent:.3f} vs {t['centroid_similarity']:.3f} "
                        "at training")
        return None

    def _add_compressed(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._check_pq_m()
        if self._store is None:
            self._store = VectorStore.temporary_store(self.dim, self.settings.ivf_store_dtype)
        index = self._writable()
        rows = self._store.append(ids, vectors)
        if index is None:  # not trained yet: searched exactly from the store until there is enough to train on
            if self._store.live >= IVF_MIN_TRAIN_VECTORS:
                self._retrain(f"{self.settings.kind}: trained on the first {self._store.live} vectors")
            return
        index.add_with_ids(vectors, rows)
        self._note_drift(vectors)
        reason = self.retrain_reason()
        if reason:
            self._retrain(reason)

    def _retrain(self, reason: str) -> None:
        rows = self._store.live_rows()
        sample = self._store.read(rows[_sample_rows(len(rows), self.settings.ivf_train_sample)])
        retrains = self._training.get("retrains", -1) + 1
        self._mapped_from = None
        self._index = self._trained(sample, len(rows), reason)
        self._training["retrains"] = retrains
        self._fill_from_store()

    def _check_pq_m(self) -> None:
        if self.dim % self.settings.pq_m:
            raise ValueError(f"pq_m={self.settings.pq_m} must divide the vector dimension {self.dim} "
                             "(64 divides 384 and 512)")

    def _trained(self, sample: np.ndarray, expected: int, reason: str):
        s = self.settings
        self._check_pq_m()
        if len(sample) < IVF_MIN_TRAIN_VECTORS:
            raise ValueError(f"an IVF-PQ index needs at least {IVF_MIN_TRAIN_VECTORS} vectors to train on, got "
                             f"{len(sample)}; use kind flat or auto for small collections")
        sample = np.ascontiguousarray(sample[_sample_rows(len(sample), s.ivf_train_sample)])
        nlist = max(1, min(s.ivf_nlist or default_nlist(expected), len(sample) // IVF_TRAIN_PER_LIST))
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFPQ(quantizer, self.dim, nlist, s.pq_m, 8, faiss.METRIC_INNER_PRODUCT)
        index.own_fields = True
        quantizer.this.disown()
        index.cp.niter = IVF_KMEANS_ITERATIONS
        index.cp.min_points_per_centroid = index.pq.cp.min_points_per_centroid = 5  # we size the sample ourselves
        index.train(sample)
        probe = sample[_sample_rows(len(sample), 10 * DRIFT_SAMPLE)]
        similarity = float(index.quantizer.search(probe, 1)[0].mean())
        self._training = {"reason": reason, "trained_on": int(expected), "sample": len(sample), "nlist": nlist,
                          "centroid_similarity": round(similarity, 5), "added_since": 0, "drift_sum": 0.0,
                          "drift_count": 0, "retrains": self._training.get("retrains", 0)}
        return index

    def _fill_from_store(self) -> None:
        rows = self._store.live_rows() if self._store is not None else np.zeros(0, dtype=np.int64)
        for begin in range(0, len(rows), ADD_CHUNK):
            part = rows[begin : begin + ADD_CHUNK]
            self._index.add_with_ids(self._store.read(part), part)

    def _note_drift(self, vectors: np.ndarray) -> None:
        probe = vectors[:: max(1, len(vectors) // DRIFT_SAMPLE)][:DRIFT_SAMPLE]
        similarity = self._ivf().quantizer.search(probe, 1)[0]
        t = self._training
        t["added_since"] += len(vectors)
        t["drift_sum"] += float(similarity.sum())
        t["drift_count"] += len(probe)

    def _writable(self):
        """The FAISS index, read into memory first when it is memory-mapped (those lists are read-only)."""
        if self._mapped_from is not None:
            raw = faiss.read_index(str(self._mapped_from))
            if raw.ntotal != self._index.ntotal:
                raise VectorIndexError(f"{self._mapped_from}: changed on disk since it was loaded; load it again")
            self._index, self._mapped_from = raw, None
        return self._index

    def _convert_to_hnsw(self) -> None:
        ids, vectors = self.vectors()
        self.kind = "hnsw"
        self._index = self._empty("hnsw")
        self._index.add_with_ids(vectors, ids)
        self._ids_cache = None

    def _ivf(self):
        return None if self._index is None else faiss.extract_index_ivf(self._index)

    def _flat_storage(self):
        inner = faiss.downcast_index(self._index.index)
        return faiss.downcast_index(inner.storage) if isinstance(inner, faiss.IndexHNSW) else inner

    def _read_ids(self) -> np.ndarray:
        if self.kind == "ivfpq":
            return self._store.ids() if self._store is not None else np.zeros(0, dtype=np.int64)
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)


def _int64(values: Iterable[int]) -> np.ndarray:
    array = values if isinstance(values, np.ndarray) else np.fromiter(values, dtype=np.int64)
    return np.ascontiguousarray(array, dtype=np.int64)


def default_nlist(n: int) -> int:
    """About ``4 * sqrt(n)`` inverted lists, and never fewer than ~40 training vectors per list."""
    return max(1, min(int(round(4 * math.sqrt(n))), n // 39))


def companion(path: Path, suffix: str) -> Path:
    """A file saved beside the index at ``path`` (``<path><suffix>``)."""
    return path.with_name(path.name + suffix)


def _open_store(path: Path, raw, meta: dict) -> VectorStore:
    """The vector store of the IVF-PQ index at ``path``, checked against the index and its sidecar."""
    try:
        row_ids = np.load(companion(path, ROWS_SUFFIX))[: meta["store_rows"]]
        store = VectorStore.open(companion(path, STORE_SUFFIX), raw.d, meta["store_dtype"], row_ids)
    except (OSError, ValueError, KeyError) as exc:
        raise VectorIndexError(f"{path}: missing or corrupt vector store ({_first_line(exc)}); rebuild it") from None
    if len(store) != meta["store_rows"] or store.live != raw.ntotal:
        raise VectorIndexError(f"{path}: corrupt index: {store.live} live stored vectors for {raw.ntotal} in the "
                               "index; rebuild it")
    return store


def _sample_rows(n: int, size: int) -> np.ndarray:
    """At most ``size`` of ``range(n)``, drawn at random (seeded: a rebuild trains on the same sample), ascending."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=size, replace=False))


def _write_npy(path: str, array: np.ndarray) -> None:
    with open(path, "wb") as handle:  # a handle: np.save would append ".npy" to a temp name
        np.save(handle, array)


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> dict:
    """The JSON sidecar of the index at ``path``; :class:`VectorIndexError` when either file is missing or bad."""
    meta_path = sidecar_path(path)
    if not path.is_file():
        raise VectorIndexError(f"{path}: no index file here")
    if not meta_path.is_file():
        raise VectorIndexError(f"{path}: corrupt index: its sidecar {meta_path.name} is missing; rebuild it")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise VectorIndexError(f"{meta_path}: corrupt sidecar, not JSON ({exc}); rebuild the index") from None
    missing = {"kind", "dim", "count", "settings", "index_bytes"} - set(meta)
    if missing or meta["kind"] not in KINDS:
        raise VectorIndexError(f"{meta_path}: corrupt sidecar (missing {sorted(missing)} or bad kind); "
                               "rebuild the index")
    return meta


def _atomic_write(path: Path, write) -> None:
    """Run ``write(temp_path)`` on a temp file beside ``path``, fsync it, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _short(ids: np.ndarray, wanted: int) -> bool:
    """True when any query row came back with fewer than ``wanted`` hits."""
    return bool(((ids >= 0).sum(axis=1) < wanted).any())


def _empty_result(nq: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((nq, k), -np.inf, dtype=np.float32), np.full((nq, k), -1, dtype=np.int64)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
