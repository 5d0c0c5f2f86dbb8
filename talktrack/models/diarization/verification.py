"""Does a diarization's split hold? Speakers whose voices are not told apart are merged back.

Why: a clustering's count is a by-product of a threshold over short windows (resemblyzer) or of a
local model's chunk speakers (segmentation); on a mono phone call with cross-talk, a codec and a
12 dB level difference, one party's loud and quiet stretches or her overlapped speech can come out
as separate speakers (a real 4-minute two-party call: 4 found). Each speaker's own speech — the
stretches where nobody else is labelled — is embedded afresh with CAM++ (:mod:`.campplus`,
trained on far more speakers and noisier speech than resemblyzer), and then, closest pair first:

- two speakers whose centroids are closer than ``split_distance`` (cosine distance) are one;
- a speaker with less than ``minor_share`` of the speech is one with its nearest speaker unless
  its voice is clearly distinct (farther than ``minor_distance``): a few seconds of a "speaker"
  are more often a split, an echo or a noise burst than a person;
- while there are more speakers than ``bounds.maximum`` (what the call is: a two-party phone
  call from the dialer or CRM caps it at 2), the closest two are merged.

A speaker with no clean speech long enough to embed has no voice to defend it and joins the
speaker it overlaps most (or the largest). Speakers are never split here: this can only say fewer.

    >>> pieces = speaker_pieces(audio.mono, diarization, campplus_encoder(), options)   # doctest: +SKIP
    >>> mapping = merge_plan(pieces, options, maximum=2)
    >>> relabel(diarization, mapping).speakers
    ['SPEAKER_00', 'SPEAKER_01']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from talktrack.models.diarization.base import Diarization, Turn, label_by_first_appearance

SAMPLE_RATE = 16000
MAX_PIECES = 20  # per speaker: at most a minute of speech is embedded, so the check costs the same on long calls


@dataclass(frozen=True)
class VerificationOptions:
    """piece_s: a speaker's clean speech is embedded in pieces of at most this many seconds.
    min_piece_s: shorter clean stretches are not embedded (CAM++ is unreliable under ~0.5 s).
    split_distance: cosine distance between two speakers' centroids under which they are one.
    minor_share: a speaker with less than this share of the speech is "minor".
    minor_distance: a minor speaker closer than this to its nearest speaker joins it.
    expected_distance: a split asked for because the call should have that many speakers is kept
        only if no two of its embedded voices are closer than this ...
    expected_min_s: ... and every speaker of it has at least this many seconds of speech.
    tie_keeps: "segmentation" or "window": which backend's result the combined diarizer keeps when
        both verified counts agree on a recording of unknown kind (a meeting);
    tie_keeps_expected: the same when the kind of call is known (a two-party phone call).
    """

    piece_s: float
    min_piece_s: float
    split_distance: float
    minor_share: float
    minor_distance: float
    expected_distance: float
    expected_min_s: float
    tie_keeps: str
    tie_keeps_expected: str

    def as_params(self, prefix: str = "verify") -> dict[str, float | str]:
        return {f"{prefix}__{k}": v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class SpeakerPieces:
    """The embedded clean speech of a diarization's speakers (one row per piece).

    embeddings: (n, 192) unit vectors; labels: the speaker of each piece; seconds: each piece's
    length; speech_s: every speaker's total speech, embedded or not (its turns' union)."""

    embeddings: np.ndarray
    labels: list[str]
    seconds: np.ndarray
    speech_s: dict[str, float]
    overlap_s: dict[tuple[str, str], float]


def speaker_pieces(signal: np.ndarray, diarization: Diarization, encoder, options: VerificationOptions) -> SpeakerPieces:
    """Cut each speaker's clean speech (16 kHz ``signal``) into pieces and embed them."""
    spans, labels = [], []
    for speaker, stretches in clean_speech(diarization.turns).items():
        own = [piece for start, end in stretches for piece in _pieces(start, end, options.piece_s, options.min_piece_s)]
        if len(own) > MAX_PIECES:  # an hour-long call: a voice is known from a minute, spread over the call
            own = [own[i] for i in np.linspace(0, len(own) - 1, MAX_PIECES).round().astype(int)]
        spans += own
        labels += [speaker] * len(own)
    segments = [signal[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)] for a, b in spans]
    embeddings = encoder.embed(segments) if segments else np.zeros((0, 192), np.float32)
    seconds = np.array([b - a for a, b in spans])
    return SpeakerPieces(embeddings, labels, seconds, _speech_s(diarization.turns), _overlaps(diarization.turns))


def merge_plan(pieces: SpeakerPieces, options: VerificationOptions, *, maximum: int) -> dict[str, str]:
    """Each speaker → the speaker it stays or becomes (see the module docstring)."""
    speakers = sorted(pieces.speech_s, key=lambda s: -pieces.speech_s[s])
    owner = {s: s for s in speakers}
    voiced = {s for s in speakers if s in pieces.labels}
    for silent in [s for s in speakers if s not in voiced]:
        if voiced:
            owner[silent] = _most_overlapped(silent, sorted(voiced), pieces)
    groups = {s: [s] for s in speakers if owner[s] == s}
    total = sum(pieces.speech_s.values()) or 1.0
    while len(groups) > 1:
        centroids = {g: _centroid(pieces, members) for g, members in groups.items()}
        names = [g for g in groups if centroids[g] is not None]
        pair, distance = _closest(names, centroids)
        if pair is None:
            break
        small = min(pair, key=lambda g: _group_speech(pieces, groups[g]))
        minor = _group_speech(pieces, groups[small]) / total < options.minor_share
        if not (distance < options.split_distance or (minor and distance < options.minor_distance)
                or len(groups) > maximum):
            break
        keep = pair[0] if small == pair[1] else pair[1]
        groups[keep] += groups.pop(small)
    final = {member: keep for keep, members in groups.items() for member in members}
    return {s: final.get(s, final.get(owner[s], s)) for s in speakers}


def split_holds(pieces: SpeakerPieces, options: VerificationOptions) -> bool:
    """A forced split (a phone call heard as one voice, asked for two) stands when every speaker has
    ``expected_min_s`` of speech and no two embedded voices are closer than ``expected_distance``.

    A speaker with no clean stretch long enough to embed cannot be checked by voice and does not
    veto: on the train mixtures the quiet party behind a codec often speaks in short bursts only
    (train_23: 3.2 s, none of it a clean 0.5 s). A one-party recording forced into two gives a
    second "speaker" of 0.1–0.7 s, stopped by ``expected_min_s``, or a voice close to the first
    (0.31–0.32 apart on the train side), stopped by ``expected_distance``."""
    speakers = list(pieces.speech_s)
    if len(speakers) < 2 or min(pieces.speech_s.values()) < options.expected_min_s:
        return False
    centroids = {s: _centroid(pieces, [s]) for s in speakers}
    voiced = [s for s in speakers if centroids[s] is not None]
    return len(voiced) < 2 or _closest(voiced, centroids)[1] >= options.expected_distance


def relabel(diarization: Diarization, mapping: dict[str, str]) -> Diarization:
    """The turns under their merged names (a merged speaker's overlapping turns become one),
    renamed SPEAKER_00, 01, … by first appearance."""
    by_speaker: dict[str, list[tuple[float, float]]] = {}
    for turn in diarization.turns:
        by_speaker.setdefault(mapping.get(turn.speaker, turn.speaker), []).append((turn.start, turn.end))
    spans = [(a, b, speaker) for speaker, intervals in by_speaker.items() for a, b in _union(intervals)]
    return Diarization(label_by_first_appearance(spans), diarization.backend, dict(diarization.params),
                       dict(diarization.timings))


def clean_speech(turns: list[Turn]) -> dict[str, list[tuple[float, float]]]:
    """Each speaker's stretches where no other speaker is labelled."""
    by_speaker: dict[str, list[tuple[float, float]]] = {}
    for turn in turns:
        by_speaker.setdefault(turn.speaker, []).append((turn.start, turn.end))
    clean = {}
    for speaker, intervals in by_speaker.items():
        others = _union([(t.start, t.end) for t in turns if t.speaker != speaker])
        clean[speaker] = _subtract(_union(intervals), others)
    return clean


def _pieces(start: float, end: float, piece_s: float, min_piece_s: float) -> list[tuple[float, float]]:
    length = end - start
    if length < min_piece_s:
        return []
    count = max(1, int(np.ceil(length / piece_s)))
    edges = np.linspace(start, end, count + 1)
    return [(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:])]


def _centroid(pieces: SpeakerPieces, members: list[str]) -> np.ndarray | None:
    rows = [i for i, label in enumerate(pieces.labels) if label in members]
    if not rows:
        return None
    mean = (pieces.embeddings[rows] * pieces.seconds[rows, None]).sum(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-9)


def _closest(names: list[str], centroids: dict[str, np.ndarray | None]) -> tuple[tuple[str, str] | None, float]:
    best, distance = None, np.inf
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            d = 1.0 - float(centroids[a] @ centroids[b])
            if d < distance:
                best, distance = (a, b), d
    return best, distance


def _group_speech(pieces: SpeakerPieces, members: list[str]) -> float:
    return sum(pieces.speech_s[m] for m in members)


def _most_overlapped(speaker: str, candidates: list[str], pieces: SpeakerPieces) -> str:
    def shared(other: str) -> tuple[float, float]:
        key = tuple(sorted((speaker, other)))
        return pieces.overlap_s.get(key, 0.0), pieces.speech_s[other]

    return max(candidates, key=shared)


def _speech_s(turns: list[Turn]) -> dict[str, float]:
    by_speaker: dict[str, list[tuple[float, float]]] = {}
    for turn in turns:
        by_speaker.setdefault(turn.speaker, []).append((turn.start, turn.end))
    return {s: sum(b - a for a, b in _union(v)) for s, v in by_speaker.items()}


def _overlaps(turns: list[Turn]) -> dict[tuple[str, str], float]:
    by_speaker: dict[str, list[tuple[float, float]]] = {}
    for turn in turns:
        by_speaker.setdefault(turn.speaker, []).append((turn.start, turn.end))
    unions = {s: _union(v) for s, v in by_speaker.items()}
    names = sorted(unions)
    out = {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            out[(a, b)] = sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in unions[a] for s2, e2 in unions[b])
    return out


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _subtract(intervals: list[tuple[float, float]], holes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    for start, end in intervals:
        cursor = start
        for a, b in holes:
            if b <= cursor or a >= end:
                continue
            if a > cursor:
                out.append((cursor, a))
            cursor = max(cursor, b)
        if cursor < end:
            out.append((cursor, end))
    return out
