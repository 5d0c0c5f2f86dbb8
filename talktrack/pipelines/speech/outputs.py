"""A transcript on disk: ``<stem>.json`` (talktrack.transcript/1), ``<stem>.rttm``, ``<stem>.srt``.

Every file is written to a temporary name in the target directory and moved into
place with ``os.replace``, so a reader (the importer, a file watcher) sees the old
file or the new one, never half of one.

    >>> paths = write_outputs(transcript, "out", "call-001")     # doctest: +SKIP
    >>> sorted(paths)
    ['json', 'rttm', 'srt']
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from talktrack.core.records import Transcript, TranscriptUtterance
from talktrack.pipelines.speech.align import TurnLike, locate_words

MAX_CUE_S = 7.0  # a subtitle longer than this is hard to follow
MAX_CUE_CHARS = 84  # two lines of 42, the usual broadcast limit


def write_outputs(transcript: Transcript, out_dir: str | Path, stem: str) -> dict[str, Path]:
    """Write the three files (RTTM from the transcript's diarization turns, see :func:`to_rttm`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {kind: out_dir / f"{stem}.{kind}" for kind in ("json", "rttm", "srt")}
    atomic_write_text(paths["json"], to_json(transcript))
    atomic_write_text(paths["rttm"], to_rttm(transcript, stem))
    atomic_write_text(paths["srt"], to_srt(transcript))
    return paths


def atomic_write_text(path: Path, text: str) -> None:
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def to_json(transcript: Transcript) -> str:
    """The transcript as ``talktrack.transcript/1`` JSON (UTF-8 text, Chinese unescaped)."""
    return json.dumps(transcript.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=2) + "\n"


def to_rttm(transcript: Transcript, uri: str) -> str:
    """NIST RTTM ``SPEAKER`` lines, one per diarization turn (per utterance for a transcript
    without turns, e.g. an imported one), in time order."""
    uri = re.sub(r"\s+", "_", uri) or "call"
    spans: Sequence[TurnLike] = transcript.turns or transcript.utterances
    lines = [
        f"SPEAKER {uri} 1 {span.start:.3f} {max(0.0, span.end - span.start):.3f} "
        f"<NA> <NA> {span.speaker} <NA> <NA>"
        for span in sorted(spans, key=lambda s: (s.start, s.end))
    ]
    return "\n".join(lines) + ("\n" if lines else "")


def to_srt(transcript: Transcript) -> str:
    """SubRip cues labelled ``SPEAKER_00 (rep): text``; long utterances split at word boundaries."""
    cues = [cue for utterance in transcript.utterances for cue in _cues(utterance)]
    blocks = [
        f"{index}\n{srt_time(start)} --> {srt_time(max(end, start + 0.001))}\n{text}\n"
        for index, (start, end, text) in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def srt_time(seconds: float) -> str:
    """``HH:MM:SS,mmm``.

    >>> srt_time(3725.5)
    '01:02:05,500'
    """
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def _label(utterance: TranscriptUtterance) -> str:
    return f"{utterance.speaker} ({utterance.role})" if utterance.role != "unknown" else utterance.speaker


def _cues(utterance: TranscriptUtterance) -> list[tuple[float, float, str]]:
    """One cue per ≤7 s / ≤84-character stretch of the utterance's own text."""
    label = _label(utterance)
    words = utterance.words or []
    offsets = locate_words(utterance.text, words)
    if not words or any(o is None for o in offsets):
        return [(utterance.start, utterance.end, f"{label}: {utterance.text}")]
    cues, first = [], 0
    for last in range(len(words)):
        too_long = words[last].end - words[first].start > MAX_CUE_S
        too_wide = offsets[last][1] - offsets[first][0] > MAX_CUE_CHARS
        if last > first and (too_long or too_wide):
            cues.append(_cue(utterance, words, offsets, first, last - 1, label))
            first = last
    cues.append(_cue(utterance, words, offsets, first, len(words) - 1, label))
    return cues


def _cue(utterance, words, offsets, first: int, last: int, label: str) -> tuple[float, float, str]:
    text = utterance.text[offsets[first][0] : offsets[last][1]]
    if first == 0:
        text = utterance.text[: offsets[last][1]]
    if last == len(words) - 1:
        text += utterance.text[offsets[last][1] :]
    return words[first].start, words[last].end, f"{label}: {text.strip()}"
