"""A FAISS vector index with caller-chosen int64 ids, filters and atomic persistence.

Vectors are unit rows, so inner product is cosine similarity. Three kinds:

- ``flat``: exact search (``IndexIDMap2`` over ``IndexFlatIP``); ids can be removed in place.
- ``hnsw``: ``IndexHNSWFlat`` (inner product) with ``M``/``efConstruction``/``efSearch`` from
  :class:`~talktrack.core.config.IndexSettings`; it keeps the raw vectors, so a selective
  filter can still be searched exactly (see below) and removal rebuilds the graph from them.
- ``ivfpq``: ``IndexIVFPQ`` trained on (a sample of) the first vectors added; compact codes
  for tens of millions of rows, approximate scores, no raw vectors kept.

``auto`` is flat while the index holds at most ``exact_max_vectors`` vectors and turns into
HNSW (rebuilt from the flat vectors, no re-embedding) when an ``add`` crosses that size.

**Filters.** ``search(..., allowed_ids=...)`` passes a FAISS ``IDSelector`` so only allowed ids
are scored, and a filter never returns fewer than ``k`` hits while ``k`` allowed ids exist:

- flat: exhaustive over the allowed ids, exact by construction.
- hnsw: a graph walk that must skip most nodes loses recall and can run dry, so when the
  allowed ids are few (at most ``exact_max_vectors``, or under ``filter_exact_share`` of the
  index) they are scored exactly on the stored vectors (a selector on the flat storage: the
  cost is one dot product per allowed vector). Otherwise the filtered graph walk runs, and if
  it still comes back short, the exact path answers.
- ivfpq: the selector is applied inside the probed lists; if that comes back short, the
  search is repeated over every list.

**Files.** :meth:`save` writes ``<path>`` (``faiss.write_index``) and ``<path>.json`` (kind, dim,
count, parameters, embedder name, FAISS version, file size), each to a temporary file in the
same folder, fsynced, then ``os.replace``d; :meth:`load` checks them against each other and
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
import tempfile
from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np

from talktrack.core.config import IndexSettings

KINDS = ("flat", "hnsw", "ivfpq")
SIDECAR_SUFFIX = ".json"
FORMAT_VERSION = 1
IVF_MIN_TRAIN_VECTORS = 1_000      # PQ codebooks of 256 centroids need a few points each
IVF_TRAIN_PER_LIST = 40            # training sample: this many vectors per inverted list (faiss asks >= 39)


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

    # ----------------------------------------------------------------- state
    def __len__(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)

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
            params |= {"nlist": ivf.nlist if ivf else None, "nprobe": s.ivf_nprobe, "pq_m": s.pq_m}
        return params

    def ids(self) -> np.ndarray:
        """Every id in the index (int64; order: storage order for flat/HNSW, by list for IVF)."""
        if self._ids_cache is None:
            self._ids_cache = self._read_ids()
        return self._ids_cache

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, vectors)`` as stored; shape of vectors: (len(self), dim). Not for IVF-PQ (codes only)."""
        if self.kind == "ivfpq":
            raise VectorIndexError("an IVF-PQ index keeps compressed codes, not the vectors; "
                                   "use a flat or HNSW index")
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
        if self.kind == "ivfpq" and self._index is None:
            self._index = self._trained_ivfpq(vectors)
        elif self._outgrows_flat(len(ids)):
            self._convert_to_hnsw()
        self._index.add_with_ids(vectors, ids)
        self._ids_cache = None

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
            return self._index.search(queries, k, params=self._ivf_params(self.settings.ivf_nprobe))
        return self._index.search(queries, k)

    def _search_filtered(self, queries: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        selector = faiss.IDSelectorBatch(allowed)
        wanted = min(k, len(allowed))
        if self.kind == "flat":
            return self._index.search(queries, k, params=faiss.SearchParameters(sel=selector))
        if self.kind == "ivfpq":
            result = self._index.search(queries, k, params=self._ivf_params(self.settings.ivf_nprobe, selector))
            if _short(result[1], wanted):  # the allowed ids sit outside the probed lists: probe them all
                result = self._index.search(queries, k, params=self._ivf_params(self._ivf().nlist, selector))
            return result
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

    def _ivf_params(self, nprobe: int, selector=None):
        return faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)

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
        if self._index is None:  # an IVF-PQ index nothing was added to yet: nothing to train on
            raise VectorIndexError(f"{path}: refusing to save an untrained, empty IVF-PQ index")
        _atomic_write(path, lambda tmp: faiss.write_index(self._index, str(tmp)))
        sidecar = {"format": FORMAT_VERSION, "kind": self.kind, "dim": self.dim, "count": len(self),
                   "params": self.params, "settings": self.settings.model_dump(), "embedder": self.embedder,
                   "faiss_version": faiss.__version__, "index_bytes": path.stat().st_size}
        text = json.dumps(sidecar, indent=2, sort_keys=True)
        _atomic_write(sidecar_path(path), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

    @classmethod
    def load(cls, path: Path | str, *, dim: int | None = None,
             settings: IndexSettings | None = None) -> VectorIndex:
        """Read an index saved by :meth:`save`; ``dim`` (if given) must match the stored one.

        ``settings``: search-time parameters to use (efSearch, nprobe, filter rules); the
        structure (kind, M, nlist) is what was saved. None: the saved settings.
        """
        path = Path(path)
        meta = read_sidecar(path)
        if path.stat().st_size != meta.get("index_bytes"):
            raise VectorIndexError(f"{path}: corrupt index: {path.stat().st_size} bytes on disk, the sidecar says "
                                   f"{meta.get('index_bytes')}; rebuild it")
        try:
            raw = faiss.read_index(str(path))
        except RuntimeError as exc:
            reason = _first_line(exc)
            raise VectorIndexError(f"{path}: corrupt index, FAISS cannot read it ({reason}); rebuild it") from None
        if raw.d != meta["dim"] or raw.ntotal != meta["count"]:
            raise VectorIndexError(f"{path}: corrupt index: holds {raw.ntotal} x {raw.d}, the sidecar says "
                                   f"{meta['count']} x {meta['dim']}; rebuild it")
        if dim is not None and raw.d != dim:
            raise ValueError(f"{path}: index dimension {raw.d} does not match the embedder's {dim}; "
                             "the embedding model changed, rebuild the index")
        index = cls(raw.d, settings or IndexSettings(**meta["settings"]), embedder=meta.get("embedder", ""))
        index.kind = meta["kind"]
        index._index = raw
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

    def _convert_to_hnsw(self) -> None:
        ids, vectors = self.vectors()
        self.kind = "hnsw"
        self._index = self._empty("hnsw")
        self._index.add_with_ids(vectors, ids)
        self._ids_cache = None

    def _trained_ivfpq(self, vectors: np.ndarray):
        n, s = len(vectors), self.settings
        if n < IVF_MIN_TRAIN_VECTORS:
            raise ValueError(f"an IVF-PQ index needs at least {IVF_MIN_TRAIN_VECTORS} vectors in its first add "
                             f"to train on, got {n}; use kind flat or auto for small collections")
        if self.dim % s.pq_m:
            raise ValueError(f"pq_m={s.pq_m} must divide the vector dimension {self.dim}")
        nlist = s.ivf_nlist or default_nlist(n)
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFPQ(quantizer, self.dim, nlist, s.pq_m, 8, faiss.METRIC_INNER_PRODUCT)
        index.own_fields = True
        quantizer.this.disown()
        index.cp.min_points_per_centroid = index.pq.cp.min_points_per_centroid = 5  # we size the sample ourselves
        sample = np.random.default_rng(0).permutation(n)[: min(n, max(IVF_TRAIN_PER_LIST * nlist, 256 * 40))]
        index.train(np.ascontiguousarray(vectors[np.sort(sample)]))
        return index

    def _ivf(self):
        return None if self._index is None else faiss.extract_index_ivf(self._index)

    def _flat_storage(self):
        inner = faiss.downcast_index(self._index.index)
        return faiss.downcast_index(inner.storage) if isinstance(inner, faiss.IndexHNSW) else inner

    def _read_ids(self) -> np.ndarray:
        if self._index is None:
            return np.zeros(0, dtype=np.int64)
        if self.kind != "ivfpq":
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        invlists = self._ivf().invlists
        parts = [faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
                 for i in range(invlists.nlist) if invlists.list_size(i)]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def _int64(values: Iterable[int]) -> np.ndarray:
    array = values if isinstance(values, np.ndarray) else np.fromiter(values, dtype=np.int64)
    return np.ascontiguousarray(array, dtype=np.int64)


def default_nlist(n: int) -> int:
    """About ``4 * sqrt(n)`` inverted lists, and never fewer than ~40 training vectors per list."""
    return max(1, min(int(round(4 * math.sqrt(n))), n // 39))


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
