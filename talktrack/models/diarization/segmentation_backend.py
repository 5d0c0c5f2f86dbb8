"""The overlap-aware diarizer: local segmentation → speaker embeddings → clustering → reconstruction.

The recipe of pyannote's speaker-diarization-3.x pipelines, written here on embedded models:

1. **Segmentation** (:mod:`.segmentation`): 10 s chunks every ``step_s`` seconds; in each, the
   powerset model says which of up to three *local* speakers talk in every ~17 ms frame,
   two at once included. It also replaces silero-vad: speech is where someone talks.
2. **Embeddings**: each (chunk, local speaker) is embedded with CAM++ (:mod:`.campplus`) from
   its frames without overlap (all its frames when it has fewer than ``min_speech_s`` clean).
3. **Clustering**: the same average-linkage clustering as the window diarizer
   (:mod:`.clustering`, recording mean removed), over chunk speakers instead of 1.5 s windows,
   finds the speakers of the recording; within a chunk, two local speakers never map to the
   same one (Hungarian assignment on centroid similarity).
4. **Reconstruction**: per global frame, the number of speakers is the rounded mean of the
   chunks' local counts, and that many speakers with the highest mean activity are kept, so
   overlapped speech comes out as overlapping turns.

    >>> settings = load_settings().models.diarizer                           # doctest: +SKIP
    >>> diarizer = SegmentationDiarizer(segmentation_params(settings))
    >>> diarizer.diarize(decode_audio("meeting.wav"), speaker_bounds(settings)).turns[:2]
    [Turn(start=0.0, end=1.9, speaker='SPEAKER_00'), Turn(start=0.94, end=7.06, speaker='SPEAKER_01')]
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

import numpy as np

from talktrack.models.audio import DecodedAudio
from talktrack.models.diarization.base import Diarization, SpeakerBounds, label_by_first_appearance
from talktrack.models.diarization.campplus import EMBEDDING_DIM, SAMPLE_RATE, campplus_encoder
from talktrack.models.diarization.clustering import ClusteringOptions, cluster_embeddings, recentre
from talktrack.models.diarization.resegmentation import frames_to_spans
from talktrack.models.diarization.segmentation import SegmentationModel

MIN_EMBED_S = 0.1  # less speech than this in a chunk is not a speaker there
# Long recordings are worked through in pieces, so memory does not grow with their length
# (4 h, the decoder's limit, is 5,760 chunks: 3.7 GB as one array). For 60 min of meeting the
# peak went from 3.7 GB to 2.5 GB, the rest being the C allocator's hold on freed torch memory.
EMBED_BLOCK = 256  # chunk speakers embedded per call (at most max_embed_s of audio each)


@dataclass(frozen=True)
class SegmentationParams:
    """Every tunable parameter (values from ``models.diarizer.segmentation``: ``options.segmentation_params``);
    the configured defaults had the lowest DER on the ami_debug train clips over
    step 2.5 / 5 s, centring on/off, thresholds 0.3–1.2 and smallest clusters of 1 and 3 s.

    step_s: seconds between the starts of consecutive 10 s chunks (smaller: more votes per frame).
    min_speech_s: chunk speakers with less speech than this are assigned to the speakers found
        but do not shape them (their embeddings are noisy).
    max_embed_s: a chunk speaker is embedded from at most this much of its speech, the middle of
        it (None: all of it). CAM++ time is most of the backend's; 5 s left every train clip's
        result unchanged and took a third off that time, 3 s did not (README).
    clustering: threshold and smallest cluster, as in the window diarizer.
    """

    step_s: float
    min_speech_s: float
    max_embed_s: float | None
    clustering: ClusteringOptions

    def as_params(self) -> dict[str, float | int | str]:
        own = {f"segmentation__{k}": ("none" if v is None else v)
               for k, v in asdict(self).items() if k != "clustering"}
        return {**own, **self.clustering.as_params()}


_MODELS: dict[tuple[str, str], SegmentationModel] = {}
_MODELS_LOCK = threading.Lock()


def segmentation_model(checkpoint: str | None = None, device: str = "cpu") -> SegmentationModel:
    """The segmentation model, loaded once per process, checkpoint and device."""
    key = (str(checkpoint or ""), device)
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = SegmentationModel(checkpoint, device=device)
        return _MODELS[key]


class SegmentationDiarizer:
    """Overlap-aware diarizer on embedded models (see the module docstring)."""

    backend = "segmentation"

    def __init__(self, params: SegmentationParams, *, device: str = "cpu", checkpoint: str | None = None) -> None:
        self.params = params
        self.device, self.checkpoint = device, checkpoint

    def diarize(self, audio: DecodedAudio, bounds: SpeakerBounds) -> Diarization:
        return self.cluster(self.analyse(audio), bounds)

    def analyse(self, audio: DecodedAudio) -> Segmented:
        """Steps 1 and 2, the costly ones (segmentation model and CAM++): what :meth:`cluster` needs
        for any speaker bounds, so a second count (a phone call's expected 2) costs only a clustering."""
        timings: dict[str, float] = {}
        model = segmentation_model(self.checkpoint, self.device)
        signal = audio.mono.astype(np.float32, copy=False)
        started = time.perf_counter()
        starts, activity = segment(model, signal, self.params.step_s)
        timings["segmentation"] = time.perf_counter() - started
        started = time.perf_counter()
        embeddings, owners, weights = embed_chunk_speakers(model, signal, starts, activity, self.params,
                                                           device=self.device)
        timings["embedding"] = time.perf_counter() - started
        return Segmented(model, starts, activity, embeddings, owners, weights, audio.duration_s, timings)

    def cluster(self, segmented: Segmented, bounds: SpeakerBounds) -> Diarization:
        """Steps 3 and 4: the recording's speakers within ``bounds``, and their (overlapping) turns."""
        timings = dict(segmented.timings)
        model, activity = segmented.model, segmented.activity
        started = time.perf_counter()
        mapping = assign_global_speakers(segmented.embeddings, segmented.owners, segmented.weights,
                                         activity.shape[0], activity.shape[2], self.params.clustering,
                                         bounds.num, bounds.minimum, bounds.maximum, self.params.min_speech_s)
        timings["clustering"] = time.perf_counter() - started
        started = time.perf_counter()
        frames = reconstruct(model, segmented.starts, activity, mapping, segmented.duration_s)
        spans = [span for k in range(frames.shape[1]) for span in frames_to_spans(
            np.where(frames[:, k], k, -1), model.grid.step)]
        turns = label_by_first_appearance(spans)
        timings["reconstruction"] = time.perf_counter() - started
        timings["total"] = sum(timings.values())
        params = {**self.params.as_params(), **bounds.as_params(), "device": self.device,
                  "segmentation__checkpoint": model.path.name}
        return Diarization(turns, self.backend, params, timings)


@dataclass(frozen=True)
class Segmented:
    """A recording's chunks, their local speakers' activity and CAM++ embeddings (:meth:`SegmentationDiarizer.analyse`)."""

    model: SegmentationModel
    starts: np.ndarray
    activity: np.ndarray
    embeddings: np.ndarray
    owners: list[tuple[int, int]]
    weights: np.ndarray
    duration_s: float
    timings: dict[str, float]


def segment(model: SegmentationModel, signal: np.ndarray, step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Chunk start times (s) and each chunk's local activity (chunks, frames, local speakers).
    The last chunk ends with the signal; a signal shorter than a chunk is zero-padded."""
    size = model.chunk_samples
    last = max(0, signal.size - size)
    starts = list(range(0, last + 1, max(1, int(round(step_s * SAMPLE_RATE)))))
    if starts[-1] != last:
        starts.append(last)
    padded = signal if signal.size >= size else np.pad(signal, (0, size - signal.size))
    chunks = np.lib.stride_tricks.sliding_window_view(padded, size)  # views: no copy of the chunks
    return np.array(starts) / SAMPLE_RATE, model.local_activity([chunks[first] for first in starts])


def embed_chunk_speakers(model: SegmentationModel, signal: np.ndarray, starts: np.ndarray, activity: np.ndarray,
                         params: SegmentationParams, *, device: str = "cpu"):
    """One CAM++ embedding per (chunk, local speaker) with any speech: its frames without
    overlap when they reach ``min_speech_s``, else all its frames.
    Returns (embeddings (n, 192), owners [(chunk, speaker)], weights: seconds of speech)."""
    frame_samples = int(round(model.grid.step * SAMPLE_RATE))
    owners, masks, weights = [], [], []
    alone = activity.sum(axis=2) == 1
    for chunk, start in enumerate(starts):
        offset = int(round(start * SAMPLE_RATE))
        for speaker in range(activity.shape[2]):
            active = activity[chunk, :, speaker] > 0
            clean = active & alone[chunk]
            use = clean if clean.sum() * model.grid.step >= params.min_speech_s else active
            if params.max_embed_s is not None and use.sum() * model.grid.step > params.max_embed_s:
                keep = int(params.max_embed_s / model.grid.step)
                frames = np.flatnonzero(use)
                first = (frames.size - keep) // 2
                use = np.zeros_like(use)
                use[frames[first:first + keep]] = True
            seconds = use.sum() * model.grid.step
            if seconds < MIN_EMBED_S:
                continue
            owners.append((chunk, speaker))
            masks.append((offset, use))
            weights.append(seconds)
    if not owners:
        return np.zeros((0, EMBEDDING_DIM), np.float32), [], np.zeros(0)
    encoder = campplus_encoder(device)

    def speech_of(offset: int, use: np.ndarray) -> np.ndarray:
        mask = np.repeat(use, frame_samples)
        piece = signal[offset:offset + mask.size]
        return piece[mask[:piece.size]]

    # the audio and features of EMBED_BLOCK pieces at a time, not of a whole long recording
    embeddings = [encoder.embed([speech_of(*m) for m in masks[first:first + EMBED_BLOCK]])
                  for first in range(0, len(masks), EMBED_BLOCK)]
    return np.concatenate(embeddings), owners, np.array(weights)


def assign_global_speakers(embeddings: np.ndarray, owners: list[tuple[int, int]], weights: np.ndarray,
                           chunks: int, local_speakers: int, options: ClusteringOptions,
                           num_speakers: int | None, min_speakers: int, max_speakers: int,
                           min_speech_s: float = 0.5) -> np.ndarray:
    """(chunks, local speakers) → global speaker index, -1 where a local speaker has none.
    Chunk speakers with less than ``min_speech_s`` of speech do not shape the clusters but are
    assigned to them like the others."""
    from scipy.optimize import linear_sum_assignment

    mapping = np.full((chunks, local_speakers), -1, dtype=int)
    if not owners:
        return mapping
    unit = recentre(embeddings) if options.center and len(embeddings) > 1 else embeddings
    # the clusters are learnt from the chunk speakers with enough speech (all, when none has)
    solid = weights >= min_speech_s
    solid = solid if solid.any() else np.ones_like(solid)
    labels = cluster_embeddings(unit[solid], weights[solid], options, num_speakers=num_speakers,
                                min_speakers=min_speakers, max_speakers=max_speakers)
    count = int(labels.max()) + 1
    centroids = np.stack([unit[solid][labels == k].mean(axis=0) for k in range(count)])
    centroids /= np.clip(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9, None)
    similarity = unit @ centroids.T
    by_chunk: dict[int, list[int]] = {}
    for row, (chunk, _) in enumerate(owners):
        by_chunk.setdefault(chunk, []).append(row)
    for chunk, rows in by_chunk.items():
        picked, clusters = linear_sum_assignment(-similarity[rows])
        for i, k in zip(picked, clusters):
            mapping[chunk, owners[rows[i]][1]] = k
    return mapping


def reconstruct(model: SegmentationModel, starts: np.ndarray, activity: np.ndarray, mapping: np.ndarray,
                duration_s: float) -> np.ndarray:
    """Global frames (step = the model's frame step) × global speakers, True where one speaks."""
    step = model.grid.step
    n_frames = int(np.ceil(duration_s / step)) + 1
    speakers = max(int(mapping.max()) + 1, 1)
    score = np.zeros((n_frames, speakers))
    count = np.zeros(n_frames)
    votes = np.zeros(n_frames)
    local_frames = activity.shape[1]
    for chunk, start in enumerate(starts):
        index = np.round((start + model.grid.centres(local_frames)) / step).astype(int)
        keep = index < n_frames
        index, local = index[keep], activity[chunk][keep]
        votes[index] += 1
        count[index] += local.sum(axis=1)
        for speaker, k in enumerate(mapping[chunk]):
            if k >= 0:
                score[index, k] += local[:, speaker]
    mean_score = score / np.maximum(votes, 1)[:, None]  # frames no chunk covers stay 0
    speaking = np.rint(count / np.maximum(votes, 1)).astype(int)
    frames = np.zeros((n_frames, speakers), dtype=bool)
    order = np.argsort(-mean_score, axis=1, kind="stable")
    for rank in range(min(speakers, int(speaking.max(initial=0)))):
        chosen = order[:, rank]
        take = (speaking > rank) & (mean_score[np.arange(n_frames), chosen] > 0)
        frames[np.flatnonzero(take), chosen[take]] = True
    return frames
