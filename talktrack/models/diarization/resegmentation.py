"""From window clusters to turn boundaries: frame scores, Viterbi smoothing, short-turn cleanup.

Windows overlap (1.5 s long every 0.5 s by default), so each ``step_s`` frame of
speech is covered by a few windows. A frame's score for speaker k is the mean
cosine similarity between the covering windows' embeddings and speaker k's
centroid. A Viterbi pass over the speech frames then picks one speaker per frame,
paying ``change_penalty`` (similarity × seconds) per speaker change, so a change
needs sustained evidence. After each pass the centroids are re-estimated from the
windows' new labels (``iterations`` times): a light-weight resegmentation in the
spirit of VB-HMM, without its cost. Finally runs shorter than ``min_turn_s`` are
given to the neighbour that scores higher over them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from talktrack.models.diarization.embedding import Windows


@dataclass(frozen=True)
class ResegmentationOptions:
    """step_s: frame length of the label grid.
    change_penalty: similarity × seconds a speaker change must gain to be taken.
    iterations: centroid re-estimations after the first Viterbi pass.
    min_turn_s: shorter runs between other speech are given to the better-scoring neighbour.
    """

    step_s: float
    change_penalty: float
    iterations: int
    min_turn_s: float

    def as_params(self, prefix: str = "resegmentation") -> dict[str, float | int | str]:
        return {f"{prefix}__{k}": v for k, v in asdict(self).items()}


def resegment(
    regions_s: list[tuple[float, float]],
    windows: Windows,
    labels: np.ndarray,
    duration_s: float,
    options: ResegmentationOptions,
) -> np.ndarray:
    """Speaker index per ``step_s`` frame, -1 outside speech; shape (ceil(duration_s / step_s),)."""
    step = options.step_s
    n_frames = int(np.ceil(duration_s / step))
    speech = _speech_mask(regions_s, n_frames, step)
    frame_labels = np.full(n_frames, -1, dtype=int)
    if len(windows) == 0 or not speech.any():
        return frame_labels
    count = int(labels.max()) + 1
    for iteration in range(options.iterations + 1):
        scores = frame_scores(windows, labels, count, n_frames, step)[speech]  # shape (speech frames, count)
        frame_labels[speech] = viterbi(scores * step, options.change_penalty)
        if iteration < options.iterations:
            labels = _window_majority(windows, frame_labels, labels, step, count)
    frame_labels[speech] = _absorb_short_runs(frame_labels[speech], scores, options.min_turn_s / step)
    return frame_labels


def frame_scores(windows: Windows, labels: np.ndarray, count: int, n_frames: int, step: float) -> np.ndarray:
    """Mean similarity of covering windows to each centroid; shape (n_frames, count).

    Frames no window covers take the scores of the nearest covered frame.
    """
    centroids = np.zeros((count, windows.embeddings.shape[1]), dtype=np.float64)
    for k in range(count):
        members = labels == k
        if members.any():
            centroids[k] = windows.embeddings[members].mean(axis=0)
    centroids /= np.clip(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9, None)
    similarity = windows.embeddings @ centroids.T  # shape (windows, count)
    totals = np.zeros((n_frames, count))
    covered = np.zeros(n_frames)
    for (start, end), row in zip(_frame_index(windows.spans_s, step, n_frames), similarity):
        totals[start:end] += row
        covered[start:end] += 1
    hit = np.flatnonzero(covered)
    scores = totals / np.maximum(covered, 1)[:, None]
    if hit.size and hit.size < n_frames:
        scores = scores[_nearest(hit, np.arange(n_frames))]
    return scores


def viterbi(scores: np.ndarray, change_penalty: float) -> np.ndarray:
    """Best label path through ``scores`` (shape (frames, k)) with a cost per label change."""
    frames, count = scores.shape
    if count == 1 or frames == 0:
        return np.zeros(frames, dtype=int)
    total = scores[0].copy()
    back = np.zeros((frames, count), dtype=int)
    states = np.arange(count)
    for t in range(1, frames):
        best = int(np.argmax(total))
        switch = total[best] - change_penalty
        stay = total >= switch
        back[t] = np.where(stay, states, best)
        total = np.where(stay, total, switch) + scores[t]
    path = np.zeros(frames, dtype=int)
    path[-1] = int(np.argmax(total))
    for t in range(frames - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def _absorb_short_runs(path: np.ndarray, scores: np.ndarray, min_frames: float) -> np.ndarray:
    """Give runs shorter than ``min_frames`` (not at the edges) to the better-scoring neighbour."""
    if min_frames <= 1 or path.size == 0:
        return path
    path = path.copy()
    while True:
        bounds = np.flatnonzero(np.diff(np.r_[-2, path, -2]))  # run starts..., end
        runs = list(zip(bounds[:-1], bounds[1:]))
        inner = [(b - a, i) for i, (a, b) in enumerate(runs) if 0 < i < len(runs) - 1 and b - a < min_frames]
        if not inner:
            return path
        _, i = min(inner)
        (a, b), left, right = runs[i], path[runs[i - 1][0]], path[runs[i + 1][0]]
        path[a:b] = left if scores[a:b, left].sum() >= scores[a:b, right].sum() else right


def _window_majority(
    windows: Windows, frame_labels: np.ndarray, previous: np.ndarray, step: float, count: int
) -> np.ndarray:
    """Each window's new label: the most frequent frame label inside its span."""
    labels = previous.copy()
    for i, (start, end) in enumerate(_frame_index(windows.spans_s, step, len(frame_labels))):
        inside = frame_labels[start:end]
        inside = inside[inside >= 0]
        if inside.size:
            labels[i] = int(np.bincount(inside, minlength=count).argmax())
    return labels


def _speech_mask(regions_s: list[tuple[float, float]], n_frames: int, step: float) -> np.ndarray:
    mask = np.zeros(n_frames, dtype=bool)
    for start, end in regions_s:
        mask[int(round(start / step)) : int(round(end / step))] = True
    return mask


def _frame_index(spans_s: np.ndarray, step: float, n_frames: int) -> list[tuple[int, int]]:
    """(first, stop) frame of each span, at least one frame long, clipped to the grid."""
    index = []
    for a, b in spans_s:
        first = int(round(a / step))
        index.append((min(first, n_frames), min(max(int(round(b / step)), first + 1), n_frames)))
    return index


def _nearest(sorted_hits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    right = np.clip(np.searchsorted(sorted_hits, targets), 0, sorted_hits.size - 1)
    left = np.clip(right - 1, 0, sorted_hits.size - 1)
    closer_left = np.abs(sorted_hits[left] - targets) <= np.abs(sorted_hits[right] - targets)
    return np.where(closer_left, sorted_hits[left], sorted_hits[right])


def frames_to_spans(frame_labels: np.ndarray, step: float) -> list[tuple[float, float, int]]:
    """Runs of equal non-negative labels as (start_s, end_s, label)."""
    spans = []
    bounds = np.flatnonzero(np.diff(np.r_[-2, frame_labels, -2]))
    for a, b in zip(bounds[:-1], bounds[1:]):
        if frame_labels[a] >= 0:
            spans.append((a * step, b * step, int(frame_labels[a])))
    return spans
