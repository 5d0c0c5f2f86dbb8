"""The exact vectors behind a compressed (IVF-PQ) index: one flat file of rows, read memory-mapped.

Why keep them: PQ codes rank only roughly (recall@10 0.47 at 1M vectors with 32 sub-quantizers,
``bench/results/index.json``), so the best few hundred candidates are re-scored on their real
vectors; and retraining the codebooks needs the vectors. On disk they cost 768 bytes a vector
in float16 (384 dimensions), and only the rows a query touches are paged in.

Rows are only ever appended: the FAISS id of a vector is its row number, ``row_ids`` maps a row
to the caller's id, and a removed vector keeps its row with id -1. Saving writes ``row_ids``
beside the file; a file longer than the saved row count (rows appended after the last save,
then a crash) is read up to that count and overwritten by the next append.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

DTYPES = ("float16", "float32")
READ_CHUNK = 65_536                     # rows read (and scored) at a time by the exact scans


class VectorStore:
    """Unit vectors in rows of a file; ``row_ids[row]`` is the caller's id of a row (-1: removed)."""

    def __init__(self, path: Path, dim: int, dtype: str, row_ids: np.ndarray | None = None,
                 *, temporary: bool = False) -> None:
        if dtype not in DTYPES:
            raise ValueError(f"vector store dtype must be one of {DTYPES}, got {dtype!r}")
        self.path = Path(path)
        self.dim = int(dim)
        self.dtype = np.dtype(dtype)
        self.temporary = temporary       # a private temp file until the index is first saved
        ids = np.zeros(0, dtype=np.int64) if row_ids is None else np.asarray(row_ids, dtype=np.int64)
        self._ids = ids.copy()            # grows by doubling: appends in chunks stay linear
        self._rows = len(ids)
        self._live = int((ids >= 0).sum())
        self._map: np.ndarray | None = None
        self._lookup: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def temporary_store(cls, dim: int, dtype: str) -> VectorStore:
        folder = Path(tempfile.mkdtemp(prefix="talktrack-vectors-"))
        path = folder / "vectors.bin"
        path.touch()
        return cls(path, dim, dtype, temporary=True)

    @classmethod
    def open(cls, path: Path, dim: int, dtype: str, row_ids: np.ndarray) -> VectorStore:
        """The store saved at ``path`` with ``len(row_ids)`` rows; raises ValueError when the file is shorter."""
        store = cls(path, dim, dtype, row_ids)
        need = store._rows * store._row_bytes
        have = path.stat().st_size if path.is_file() else -1
        if have < need:
            raise ValueError(f"{path}: vector file holds {max(have, 0)} bytes, {store._rows} rows need {need}")
        return store

    # ----------------------------------------------------------------- state
    def __len__(self) -> int:
        return self._rows

    @property
    def live(self) -> int:
        return self._live

    @property
    def row_ids(self) -> np.ndarray:
        return self._ids[: self._rows]

    @property
    def _row_bytes(self) -> int:
        return self.dim * self.dtype.itemsize

    def live_rows(self) -> np.ndarray:
        return np.flatnonzero(self.row_ids >= 0)

    def ids(self) -> np.ndarray:
        ids = self.row_ids
        return ids[ids >= 0].copy()

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """The rows of the live vectors among ``ids`` (absent ids are skipped), ascending."""
        if self._lookup is None:
            rows = self.live_rows()
            order = np.argsort(self.row_ids[rows], kind="stable")
            self._lookup = (self.row_ids[rows][order], rows[order])
        sorted_ids, rows = self._lookup
        if len(sorted_ids) == 0:
            return np.zeros(0, dtype=np.int64)
        where = np.searchsorted(sorted_ids, ids)
        where = np.minimum(where, len(sorted_ids) - 1)
        hit = sorted_ids[where] == ids
        return np.sort(rows[where[hit]])

    # --------------------------------------------------------------- change
    def append(self, ids: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """Write ``vectors`` (shape: (n, dim)) after the last row; returns their rows."""
        start = self._rows
        with open(self.path, "r+b") as handle:
            handle.seek(start * self._row_bytes)
            handle.write(np.ascontiguousarray(vectors, dtype=self.dtype).tobytes())
            handle.truncate()
        end = start + len(ids)
        if end > len(self._ids):
            grown = np.full(max(end, 2 * len(self._ids)), -1, dtype=np.int64)
            grown[:start] = self._ids[:start]
            self._ids = grown
        self._ids[start:end] = ids
        self._rows, self._live = end, self._live + len(ids)
        self._map, self._lookup = None, None
        return np.arange(start, end, dtype=np.int64)

    def drop(self, rows: np.ndarray) -> None:
        """Mark ``rows`` removed (their bytes stay; the row numbers are never reused)."""
        rows = rows[self._ids[rows] >= 0]
        self._ids[rows] = -1
        self._live -= len(rows)
        self._lookup = None

    # ----------------------------------------------------------------- read
    def read(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of ``rows`` as float32; shape: (len(rows), dim)."""
        if self._map is None:
            self._map = (np.memmap(self.path, dtype=self.dtype, mode="r", shape=(self._rows, self.dim))
                         if self._rows else np.zeros((0, self.dim), dtype=self.dtype))
        return np.asarray(self._map[rows], dtype=np.float32)

    def exact_top_k(self, queries: np.ndarray, k: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact inner-product top ``k`` of ``queries`` over ``rows``: ``(scores, rows)``, shape (nq, k), -1 padded."""
        nq = len(queries)
        best_scores = np.full((nq, k), -np.inf, dtype=np.float32)
        best_rows = np.full((nq, k), -1, dtype=np.int64)
        for begin in range(0, len(rows), READ_CHUNK):
            part = rows[begin : begin + READ_CHUNK]
            scores = queries @ self.read(part).T                     # shape: (nq, len(part))
            take = min(k, len(part))
            top = np.argpartition(-scores, take - 1, axis=1)[:, :take]
            merged_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, axis=1)], axis=1)
            merged_rows = np.concatenate([best_rows, part[top]], axis=1)
            order = np.argsort(-merged_scores, axis=1, kind="stable")[:, :k]
            best_scores = np.take_along_axis(merged_scores, order, axis=1)
            best_rows = np.take_along_axis(merged_rows, order, axis=1)
        return best_scores, best_rows

    # ---------------------------------------------------------------- files
    def save_to(self, target: Path) -> None:
        """Make ``target`` this store's file (moved from a temp file, copied from another save), fsynced."""
        target = Path(target)
        if self.path != target:
            if self.temporary:
                shutil.move(self.path, target)
                shutil.rmtree(self.path.parent, ignore_errors=True)
            else:
                shutil.copyfile(self.path, target)
            self.path, self.temporary, self._map = target, False, None
        with open(self.path, "rb+") as handle:
            os.fsync(handle.fileno())

    def discard(self) -> None:
        """Delete a temp file nobody saved (an index that turned into another kind)."""
        if self.temporary:
            shutil.rmtree(self.path.parent, ignore_errors=True)
