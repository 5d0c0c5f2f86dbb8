"""Repetition hallucinations: the same phrase written again and again within a few seconds.

Why: Whisper, and the small models most, can fall into a loop where the audio holds little or
muddled speech (ringing, line noise, cross-talk) and write one phrase per window or per VAD
chunk. On a real 30 s phone call the batched mode wrote "Hello." five times where the bare
model wrote it twice; on AMI tst00 (four people talking over each other) tiny.en's batched
mode wrote "Yeah," 105 times in 26 s, its sequential mode 9 times in 2 s. People do repeat
themselves ("Hello? Hello?" on a bad line, "no, no, no, no"), so the guard trims a run and
never a repeat a person plausibly said:

a phrase of 1 to ``max_phrase_words`` words (punctuation and case ignored) written back to
back, each copy starting within ``window_s`` of the one before, keeps its first
``max_repeats`` copies when it is a sentence (its last word ends with ``.``, ``?`` or ``!``)
and its first ``max_word_repeats`` copies otherwise ("yeah, yeah, yeah" is how people talk).
Once a run is over its limit, the copies straight after it go too, however far apart their
times (the batched mode's word times inside a loop jump: tst00 kept 8 "yeah" in two runs).

A leaf: it knows words only as objects with ``start`` (seconds) and ``word`` (text).

    >>> from collections import namedtuple
    >>> W = namedtuple("W", "start word")
    >>> words = [W(t, " Hello.") for t in (0.0, 1.1, 2.3, 3.0, 4.2)] + [W(5.0, " Yes?")]
    >>> [w.word for w in drop_repeats(words, RepeatGuard())]
    [' Hello.', ' Hello.', ' Yes?']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

_SENTENCE_END = re.compile(r"[.?!。？！]['\"”’)]*$")
_NOT_WORD = re.compile(r"[^\w']+")


class TimedWord(Protocol):
    start: float
    word: str


W = TypeVar("W", bound=TimedWord)


@dataclass(frozen=True)
class RepeatGuard:
    """How many back-to-back copies of one phrase are believed, and how close they must be to count."""

    max_repeats: int = 2  # a sentence
    max_word_repeats: int = 4  # a word or phrase inside a sentence
    window_s: float = 5.0
    max_phrase_words: int = 8

    def __post_init__(self) -> None:
        if min(self.max_repeats, self.max_word_repeats, self.max_phrase_words) < 1 or self.window_s <= 0:
            raise ValueError(f"{self}: repeats and phrase words must be at least 1, window_s > 0")


def drop_repeats(words: Sequence[W], guard: RepeatGuard) -> list[W]:
    """``words`` without the copies of a looped phrase beyond its limit (see the module docstring)."""
    tokens = [_NOT_WORD.sub("", w.word.lower()) for w in words]
    ends = [bool(_SENTENCE_END.search(w.word.strip())) for w in words]
    kept: list[W] = []
    i = 0
    while i < len(words):
        length, copies, limit = _loop_at(words, tokens, ends, i, guard)
        if copies > limit:
            kept.extend(words[i:i + length * limit])
            phrase, i = tokens[i:i + length], i + length * copies
            while tokens[i:i + length] == phrase:  # a loop once confirmed runs on across a jump in its times
                i += length
        else:
            kept.append(words[i])
            i += 1
    return kept


def _loop_at(words, tokens, ends, i: int, guard: RepeatGuard) -> tuple[int, int, int]:
    """(phrase length, copies, copies allowed) of the loop at word ``i`` running most words over its limit."""
    best, best_excess = (1, 1, 1), 0
    for length in range(1, guard.max_phrase_words + 1):
        if i + length > len(words) or not any(tokens[i:i + length]):
            break
        if any(ends[i:i + length - 1]):  # a phrase within one sentence, or one whole sentence
            break
        copies = 1
        while _next_copy(words, tokens, i, length, copies, guard.window_s):
            copies += 1
        limit = guard.max_repeats if ends[i + length - 1] else guard.max_word_repeats
        if (copies - limit) * length > best_excess:
            best, best_excess = (length, copies, limit), (copies - limit) * length
    return best


def _next_copy(words, tokens, i: int, length: int, copy: int, window_s: float) -> bool:
    """Whether copy number ``copy`` (0-based) of the phrase at ``i`` follows the one before it in time."""
    start = i + copy * length
    if start + length > len(words):
        return False
    follows = words[start].start - words[start - length].start <= window_s
    return follows and tokens[start:start + length] == tokens[i:i + length]
