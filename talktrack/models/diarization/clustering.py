"""Group window embeddings into speakers, finding how many there are.

Two methods, both on cosine geometry of unit-length embeddings:

- ``agglomerative``: average-linkage clustering, merging until the closest two
  clusters are further apart than ``threshold`` (cosine distance). The count
  follows from the threshold, which also says "one speaker" when nothing is far
  enough apart; it is the default because it behaved best on the tuning set.
- ``spectral``: the agglomerative threshold decides one speaker versus several;
  for several, the count is the largest eigengap of the Laplacian of a
  k-nearest-neighbour affinity whose k is picked by the normalised maximum eigengap
  (Park et al. 2019, "Auto-tuning spectral clustering", NME-SC), then k-means on
  the spectral embedding.

With ``center`` (the default) the recording's mean embedding is removed first.
resemblyzer puts every window of a recording in one region of its space (all
pairwise similarities 0.6–0.8); two espeak-ng voices can differ less, in absolute
terms, than two stretches of one far-field AMI speaker. Removing the mean makes
the threshold relative to the recording, so one value served both the tuning
clips and generated calls, where no absolute threshold did.

Then clusters holding less than ``min_cluster_s`` seconds of speech are folded into
the nearest remaining cluster: on short calls a handful of windows is more often a
noise burst or an overlap than a speaker.

    >>> labels = cluster_embeddings(emb, weights_s, options, max_speakers=4)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

Method = Literal["agglomerative", "spectral"]


@dataclass(frozen=True)
class ClusteringOptions:
    """method: "agglomerative" or "spectral" (see the module docstring).
    center: subtract the recording's mean embedding first (and re-normalise), so that what all
        windows share (room, channel, codec, a TTS engine's timbre) stops counting as similarity;
        the resegmentation then scores in the same space.
    threshold: average-linkage cosine distance at which merging stops (0–2).
    min_cluster_s: a cluster with less speech than this is folded into its nearest neighbour
        (never below min_speakers, and not when num_speakers is given).
    """

    method: Method
    center: bool
    threshold: float
    min_cluster_s: float

    def as_params(self, prefix: str = "clustering") -> dict[str, float | int | str]:
        return {f"{prefix}__{k}": v for k, v in asdict(self).items()}


def cluster_embeddings(
    embeddings: np.ndarray,
    weights_s: np.ndarray,
    options: ClusteringOptions,
    *,
    num_speakers: int | None = None,
    min_speakers: int = 1,
    max_speakers: int = 6,
) -> np.ndarray:
    """Cluster labels 0..k-1 for ``embeddings`` (shape (n, d)), numbered by first appearance."""
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1:
        return np.zeros(1, dtype=int)
    unit = _unit(embeddings)
    if num_speakers is not None:
        count = min(num_speakers, n)
        spectral = options.method == "spectral" and count > 1
        return _renumber(_spectral(unit, count=count) if spectral else _agglomerative(unit, count=count))
    labels = _agglomerative(unit, threshold=options.threshold)
    count = len(np.unique(labels))
    bounded = int(np.clip(count, min(min_speakers, n), min(max_speakers, n)))
    if options.method == "spectral" and count > 1:
        labels = _spectral(unit, max_speakers=min(max_speakers, n))
        found = len(np.unique(labels))
        if not max(2, min_speakers) <= found <= min(max_speakers, n):
            labels = _spectral(unit, count=int(np.clip(found, max(2, min_speakers), min(max_speakers, n))))
    elif bounded != count:
        labels = _agglomerative(unit, count=bounded)
    labels = fold_small_clusters(unit, labels, weights_s, options.min_cluster_s, keep_at_least=min_speakers)
    return _renumber(labels)


def recentre(embeddings: np.ndarray) -> np.ndarray:
    """Embeddings minus their mean, re-normalised to unit length; shape kept."""
    if len(embeddings) < 2:
        return embeddings
    return _unit(embeddings - embeddings.mean(axis=0)).astype(embeddings.dtype, copy=False)


def fold_small_clusters(
    unit: np.ndarray,
    labels: np.ndarray,
    weights_s: np.ndarray,
    min_cluster_s: float,
    *,
    keep_at_least: int = 1,
) -> np.ndarray:
    """Reassign the windows of clusters with less than ``min_cluster_s`` of speech, smallest first."""
    labels = labels.copy()
    while True:
        ids = np.unique(labels)
        if len(ids) <= max(1, keep_at_least):
            return labels
        mass = np.array([weights_s[labels == c].sum() for c in ids])
        smallest = int(np.argmin(mass))
        if mass[smallest] >= min_cluster_s:
            return labels
        victim = ids[smallest]
        others = ids[ids != victim]
        centroids = _unit(np.stack([unit[labels == c].mean(axis=0) for c in others]))
        members = labels == victim
        labels[members] = others[np.argmax(unit[members] @ centroids.T, axis=1)]


def _agglomerative(
    unit: np.ndarray, *, threshold: float | None = None, count: int | None = None
) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(unit, method="average", metric="cosine")
    if count is not None:
        return fcluster(tree, count, criterion="maxclust") - 1
    return fcluster(tree, threshold, criterion="distance") - 1


def _pruned_affinity(unit: np.ndarray, neighbours: int) -> np.ndarray:
    """Binary k-nearest-neighbour affinity, symmetrised; shape (n, n)."""
    similarity = unit @ unit.T
    nearest = np.argsort(-similarity, axis=1)[:, :neighbours]
    affinity = np.zeros_like(similarity)
    np.put_along_axis(affinity, nearest, 1.0, axis=1)
    return (affinity + affinity.T) / 2


def _laplacian_eigen(affinity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    laplacian = np.diag(affinity.sum(axis=1)) - affinity
    return np.linalg.eigh(laplacian)


def _nme_eigen(unit: np.ndarray, max_speakers: int) -> tuple[np.ndarray, np.ndarray]:
    """Laplacian eigen-decomposition of the pruned affinity minimising (p / n) / max eigengap (NME-SC).

    p, the neighbour count, is searched over at most 12 values up to n / 4.
    """
    n = len(unit)
    best_ratio, best = np.inf, None
    for neighbours in np.unique(np.linspace(2, max(3, n // 4), 12).astype(int)):
        values, vectors = _laplacian_eigen(_pruned_affinity(unit, int(neighbours)))
        gaps = np.diff(values[: min(max_speakers, n - 1) + 1])
        ratio = (neighbours / n) / (gaps.max() + 1e-10)
        if ratio < best_ratio:
            best_ratio, best = ratio, (values, vectors)
    return best


def _spectral(unit: np.ndarray, *, count: int | None = None, max_speakers: int = 6) -> np.ndarray:
    """Spectral clustering into ``count`` clusters, or as many as the largest eigengap says."""
    from sklearn.cluster import KMeans

    values, vectors = _nme_eigen(unit, max(count or max_speakers, 2))
    if count is None:
        count = int(np.argmax(np.diff(values[: min(max_speakers, len(unit) - 1) + 1]))) + 1
    if count == 1:
        return np.zeros(len(unit), dtype=int)
    return KMeans(count, n_init=4, random_state=0).fit_predict(vectors[:, :count])


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9, None)


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Labels 0, 1, … in order of first appearance."""
    _, first = np.unique(labels, return_index=True)
    order = np.asarray(labels)[np.sort(first)]
    mapping = {old: new for new, old in enumerate(order)}
    return np.array([mapping[label] for label in labels], dtype=int)
