"""A FAISS index over all evidence texts, one per embedding space, kept in the workspace.

Texts are embedded with the customer's name masked (and capitalised person names in
English), so a note copied from another customer with the names swapped lands on top
of its source. Vectors are unit length, so inner product is cosine; at tens of
thousands of documents an exact ``IndexFlatIP`` answers in milliseconds.

Files under ``workspace.index_dir / "evidence"``: ``<space>.faiss`` and
``<space>.json`` (the evidence id, deal, customer, submission time and text hash of each
row, and the embedder's name). :meth:`EvidenceIndex.sync` adds new evidence to what is
on disk and re-embeds only when a text changed or a document went away (the embedding
cache makes that cheap). Writes go to a temporary file first, then replace the old one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from talktrack.core.progress import Progress
from talktrack.models.embedding import EmbedderSet, detect_language
from talktrack.pipelines.semantic.evidence.sources import EvidenceRow

FORMAT_VERSION = 1
_PERSON = re.compile(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b")
_CN_COMPANY = re.compile(r"[\u4e00-\u9fff]{2,14}(?:有限公司|集团|公司)")
MASK = "[客户]"


def mask_names(text: str, names: tuple[str, ...]) -> str:
    """``text`` with the given customer names, Chinese company names and English 'First Last' masked."""
    for name in sorted((n for n in names if n), key=len, reverse=True):
        text = text.replace(name, MASK)
    text = _CN_COMPANY.sub(MASK, text)
    return _PERSON.sub("[人]", text)


def text_language(text: str) -> str:
    return detect_language(text)


@dataclass(frozen=True)
class IndexedEvidence:
    """One row of the index."""

    evidence_id: str
    deal_id: str
    customer_pk: int
    submitted_at: datetime | None
    text_hash: str

    def to_json(self) -> list:
        return [self.evidence_id, self.deal_id, self.customer_pk,
                self.submitted_at.isoformat() if self.submitted_at else None, self.text_hash]

    @classmethod
    def from_json(cls, row: list) -> IndexedEvidence:
        at = datetime.fromisoformat(row[3]) if row[3] else None
        return cls(row[0], row[1], int(row[2]), at, row[4])


@dataclass(frozen=True)
class Neighbour:
    """A similar evidence document: its row and the cosine similarity of the masked texts."""

    row: IndexedEvidence
    similarity: float


def masked_text(row: EvidenceRow) -> str:
    return mask_names(row.text, (row.customer_name,))


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class EvidenceIndex:
    """Per-space FAISS indexes over masked evidence texts, with the rows they map back to."""

    def __init__(self, directory: Path, embedders: EmbedderSet) -> None:
        self.directory = Path(directory)
        self.embedders = embedders
        self._indexes: dict[str, object] = {}
        self._rows: dict[str, list[IndexedEvidence]] = {}
        self._position: dict[str, tuple[str, int]] = {}

    def sync(self, rows: list[EvidenceRow], progress: Progress | None = None) -> dict:
        """Bring the index in line with ``rows`` (the catalog's evidence); returns counts per space."""
        wanted: dict[str, list[EvidenceRow]] = {}
        for row in rows:
            if row.text.strip():
                wanted.setdefault(self.embedders.space_for(text_language(row.text)), []).append(row)
        counts = {}
        for space, space_rows in sorted(wanted.items()):
            counts[space] = self._sync_space(space, space_rows, progress)
        for space in set(self._indexes) - set(wanted):
            self._indexes.pop(space), self._rows.pop(space)
        self._position = {r.evidence_id: (space, i) for space, rs in self._rows.items() for i, r in enumerate(rs)}
        return counts

    def _sync_space(self, space: str, rows: list[EvidenceRow], progress) -> dict:
        embedder = self.embedders.space(space)
        index, existing = self._load(space, embedder.name)
        fresh = [IndexedEvidence(r.evidence_id, r.deal_id, r.customer_pk, r.submitted_at, _hash(masked_text(r)))
                 for r in rows]
        current = {r.evidence_id: r.text_hash for r in existing}
        unchanged = all(current.get(r.evidence_id) == r.text_hash for r in fresh if r.evidence_id in current)
        if index is None or not unchanged or len(current) > sum(r.evidence_id in current for r in fresh):
            index, existing, todo = None, [], list(zip(fresh, rows))  # rebuild: something changed or went away
        else:
            todo = [(f, r) for f, r in zip(fresh, rows) if f.evidence_id not in current]
        index = index if index is not None else _new_index(embedder.dim)
        self._add(index, embedder, todo, space, progress)
        self._indexes[space], self._rows[space] = index, existing + [f for f, _ in todo]
        if todo or not (self.directory / f"{space}.faiss").exists():
            self._save(space, embedder.name)
        return {"rows": len(self._rows[space]), "added": len(todo)}

    def _add(self, index, embedder, todo, space: str, progress, batch: int = 512) -> None:
        for begin in range(0, len(todo), batch):
            chunk = todo[begin:begin + batch]
            index.add(embedder.encode([masked_text(r) for _, r in chunk]))
            if progress:
                progress(f"embed {space}", min(begin + batch, len(todo)), len(todo))

    def _load(self, space: str, embedder_name: str):
        import faiss

        meta_path, index_path = self.directory / f"{space}.json", self.directory / f"{space}.faiss"
        if not (meta_path.exists() and index_path.exists()):
            return None, []
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("version") != FORMAT_VERSION or meta.get("embedder") != embedder_name:
            return None, []
        index = faiss.read_index(str(index_path))
        rows = [IndexedEvidence.from_json(r) for r in meta["rows"]]
        return (index, rows) if index.ntotal == len(rows) else (None, [])

    def _save(self, space: str, embedder_name: str) -> None:
        import faiss

        self.directory.mkdir(parents=True, exist_ok=True)
        index_path, meta_path = self.directory / f"{space}.faiss", self.directory / f"{space}.json"
        faiss.write_index(self._indexes[space], str(index_path) + ".tmp")
        os.replace(str(index_path) + ".tmp", index_path)
        meta = {"version": FORMAT_VERSION, "embedder": embedder_name,
                "rows": [r.to_json() for r in self._rows[space]]}
        tmp = meta_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, meta_path)

    def space_of(self, text: str) -> str:
        return self.embedders.space_for(text_language(text))

    def vector_of(self, evidence_id: str) -> tuple[str, np.ndarray] | None:
        """The stored vector of an indexed document (no re-embedding), with its space."""
        if evidence_id not in self._position:
            return None
        space, position = self._position[evidence_id]
        return space, self._indexes[space].reconstruct(position)

    def embed(self, text: str, names: tuple[str, ...]) -> tuple[str, np.ndarray]:
        space = self.space_of(text)
        return space, self.embedders.space(space).encode([mask_names(text, names)])[0]

    def search(self, space: str, vector: np.ndarray, k: int) -> list[Neighbour]:
        """The ``k`` most similar documents of ``space``, best first."""
        index = self._indexes.get(space)
        if index is None or index.ntotal == 0:
            return []
        sims, ids = index.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), min(k, index.ntotal))
        rows = self._rows[space]
        return [Neighbour(rows[i], float(s)) for s, i in zip(sims[0], ids[0]) if i >= 0]

    def search_many(self, space: str, vectors: np.ndarray, k: int) -> list[list[Neighbour]]:
        index = self._indexes.get(space)
        if index is None or index.ntotal == 0:
            return [[] for _ in range(len(vectors))]
        sims, ids = index.search(np.asarray(vectors, dtype=np.float32), min(k, index.ntotal))
        rows = self._rows[space]
        return [[Neighbour(rows[i], float(s)) for s, i in zip(srow, irow) if i >= 0] for srow, irow in zip(sims, ids)]


def _new_index(dim: int):
    import faiss

    return faiss.IndexFlatIP(dim)
