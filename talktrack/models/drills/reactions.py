"""Read a real customer reply after a rep's answer: concede, push back, or neither.

The corpus has objection labels (moments) but no label for how a customer took an answer:
"Alright, that could work" carries no objection, and neither does "I'm still not sure".
This reader tells them apart zero-shot, from a handful of example phrasings per class in
``configs/drills.yaml``, by cosine to each class centroid in the multilingual space (one
space for English and Chinese). ``neither`` (backchannels, "okay", "go on") lets the
caller skip listener tokens and look at the next reply.

Example::

    reader = ReplyReader(embedder, margin=settings.drills.policy.reader_margin).fit({"concede": [...], "push_back": [...], "neither": [...]})
    reader.predict(["Fine, that works for me."])   # ["concede"]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

REPLY_CLASSES = ("concede", "push_back", "neither")


class ReplyReader:
    """Nearest class centroid over unit sentence vectors; ``margin`` favours ``neither`` when unsure."""

    def __init__(self, embedder, *, margin: float) -> None:
        self.embedder = embedder
        self.margin = margin

    def fit(self, examples: Mapping[str, Sequence[str]]) -> ReplyReader:
        missing = [label for label in REPLY_CLASSES if not examples.get(label)]
        if missing:
            raise ValueError(f"reply examples: no phrasings for {missing}; expected some for each of {REPLY_CLASSES}")
        centroids = []
        for label in REPLY_CLASSES:
            mean = self.embedder.encode(list(examples[label])).mean(axis=0)
            centroids.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
        self.centroids_ = np.stack(centroids).astype(np.float32)  # shape: (3, dim)
        return self

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """(n, 3) cosines to the concede, push back and neither centroids."""
        if not hasattr(self, "centroids_"):
            raise RuntimeError("ReplyReader is not fitted: call fit(examples)")
        return np.asarray(vectors, dtype=np.float32) @ self.centroids_.T

    def predict_vectors(self, vectors: np.ndarray) -> list[str]:
        scores = self.scores(vectors)
        scores[:, 2] += self.margin
        return [REPLY_CLASSES[i] for i in scores.argmax(axis=1)]

    def predict(self, texts: Sequence[str]) -> list[str]:
        return self.predict_vectors(self.embedder.encode(list(texts))) if texts else []
