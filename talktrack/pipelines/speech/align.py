"""Words to speakers, and speakers' words to utterances.

Rule: a word goes to the speaker whose turn overlaps it most; a word that overlaps no
turn (it sits in a gap between turns, or has zero length) goes to the nearest turn,
the earlier one on a tie, because a speaker's last word tends to run past the VAD
boundary more often than the next speaker's first word starts early. An utterance is a
maximal run of one speaker's words, cut where the silence between two words exceeds
``max_pause_s``.

Text is Whisper's own tokens concatenated: English words carry their leading space,
Chinese ones none, so the concatenation is right for both and for code-switched speech;
spaces that still fall between two CJK characters are dropped.

    >>> from talktrack.models.transcription import TranscribedWord as W
    >>> turns = [Turn(0.0, 1.0, "SPEAKER_00"), Turn(1.0, 2.0, "SPEAKER_01")]
    >>> [u.text for u in align_words([W(0.1, 0.4, " Hi", 0.9), W(1.2, 1.5, " hello", 0.9)], turns)]
    ['Hi', 'hello']
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from talktrack.core.records import TranscriptUtterance, Word
from talktrack.models.transcription import TranscribedWord

DEFAULT_SPEAKER = "SPEAKER_00"
_CJK = r"\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")


class TurnLike(Protocol):
    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class Turn:
    """A speaker turn in seconds (same shape as the diarizer's ``Turn``)."""

    start: float
    end: float
    speaker: str


def join_words(tokens: Iterable[str]) -> str:
    """Whisper word tokens → text: concatenated, whitespace collapsed, no spaces between CJK characters.

    >>> join_words([" Hello,", " world."]), join_words(["我们", "的", "产品"])
    ('Hello, world.', '我们的产品')
    """
    text = _SPACES.sub(" ", "".join(tokens)).strip()
    return _SPACE_BETWEEN_CJK.sub("", text)


def assign_speakers(words: Sequence[TranscribedWord], turns: Sequence[TurnLike]) -> list[str]:
    """The speaker of each word (see the module docstring for the rule); words in time order."""
    if not turns:
        return [DEFAULT_SPEAKER] * len(words)
    by_start = sorted(turns, key=lambda t: (t.start, t.end))
    starts = [t.start for t in by_start]
    by_end = sorted(turns, key=lambda t: (t.end, t.start))
    ends = [t.end for t in by_end]
    speakers, active, upcoming = [], [], 0
    for word in words:
        while upcoming < len(by_start) and by_start[upcoming].start < word.end:
            active.append(by_start[upcoming])
            upcoming += 1
        active = [t for t in active if t.end > word.start]  # words come in start order
        best = max(active, key=lambda t: _overlap(t, word), default=None)
        if best is None or _overlap(best, word) <= 0:
            best = _nearest(word, by_start, starts, by_end, ends, active)
        speakers.append(best.speaker)
    return speakers


def _overlap(turn: TurnLike, word: TranscribedWord) -> float:
    return min(turn.end, word.end) - max(turn.start, word.start)


def _distance(turn: TurnLike, word: TranscribedWord) -> float:
    return max(turn.start - word.end, word.start - turn.end, 0.0)


def _nearest(word, by_start, starts, by_end, ends, active) -> TurnLike:
    """Closest turn to a word that overlaps none: the last one ending before it, the first
    one starting after it, or an active one it touches; the earlier wins a tie."""
    candidates = list(active)
    before = bisect.bisect_right(ends, word.start) - 1
    if before >= 0:
        candidates.append(by_end[before])
    after = bisect.bisect_left(starts, word.end)
    if after < len(by_start):
        candidates.append(by_start[after])
    return min(candidates, key=lambda t: (_distance(t, word), t.start))


def align_words(
    words: Sequence[TranscribedWord],
    turns: Sequence[TurnLike],
    *,
    max_pause_s: float = 1.0,
    language: str | None = None,
) -> list[TranscriptUtterance]:
    """Utterances (speaker, start/end from their words, joined text, words) in time order."""
    speakers = assign_speakers(words, turns)
    runs: list[tuple[str, list[TranscribedWord]]] = []
    for word, speaker in zip(words, speakers, strict=True):
        previous = runs[-1] if runs else None
        if previous and previous[0] == speaker and word.start - previous[1][-1].end <= max_pause_s:
            previous[1].append(word)
        else:
            runs.append((speaker, [word]))
    return [_utterance(speaker, run, language) for speaker, run in runs]


def _utterance(speaker: str, run: list[TranscribedWord], language: str | None) -> TranscriptUtterance:
    return TranscriptUtterance(
        start=run[0].start,
        end=max(word.end for word in run),
        speaker=speaker,
        text=join_words(word.word for word in run),
        language=language,
        words=[Word(start=w.start, end=w.end, word=w.word.strip(), probability=w.probability) for w in run],
    )


def locate_words(text: str, words: Sequence[Word]) -> list[tuple[int, int] | None]:
    """Where each (stripped) word sits in ``text``, searching left to right; None when absent.

    >>> locate_words("Hi, Dana.", [Word(start=0, end=1, word="Hi,"), Word(start=1, end=2, word="Dana.")])
    [(0, 3), (4, 9)]
    """
    offsets: list[tuple[int, int] | None] = []
    cursor = 0
    for word in words:
        token = word.word.strip()
        found = text.find(token, cursor) if token else -1
        if found < 0:
            offsets.append(None)
            continue
        offsets.append((found, found + len(token)))
        cursor = found + len(token)
    return offsets


def drop_echo(
    words: Sequence[TranscribedWord],
    own: Sequence[TurnLike],
    others: Sequence[TurnLike],
    *,
    tolerance_s: float = 0.3,
) -> list[TranscribedWord]:
    """Words of one channel minus far-end echo: a word that touches none of its own channel's
    turns (± ``tolerance_s``) but overlaps another channel's turn was heard, not said, here.
    Words in silence on both channels are kept: dropping speech is worse than keeping noise."""

    own_spans, other_spans = _merged_spans(own, tolerance_s), _merged_spans(others, 0.0)
    return [w for w in words if _touches(own_spans, w) or not _touches(other_spans, w)]


def _merged_spans(turns: Sequence[TurnLike], slack: float) -> tuple[list[float], list[float]]:
    """Turns widened by ``slack`` and merged: (starts, ends), both sorted."""
    spans: list[list[float]] = []
    for turn in sorted(turns, key=lambda t: t.start):
        start, end = turn.start - slack, turn.end + slack
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return [a for a, _ in spans], [b for _, b in spans]


def _touches(spans: tuple[list[float], list[float]], word: TranscribedWord) -> bool:
    starts, ends = spans
    index = bisect.bisect_left(starts, word.end) - 1  # the last span starting before the word ends
    return index >= 0 and ends[index] > word.start


def merge_utterances(*streams: Sequence[TranscriptUtterance]) -> list[TranscriptUtterance]:
    """Utterances of several channels in one time order (start, then end)."""
    return sorted((u for stream in streams for u in stream), key=lambda u: (u.start, u.end, u.speaker))
