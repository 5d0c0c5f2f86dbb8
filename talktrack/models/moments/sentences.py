"""Sentence splitting for English and Chinese that keeps character offsets.

Moments are found per sentence (a rep's answer is one sentence per move), and a moment
points back into its utterance by character span, so splitting never rewrites the text.
Chinese ends sentences with 。？！ (no space after); English with .?! followed by a space.
A full stop inside a number (1.5) or after a common abbreviation (Mr., e.g.) does not end one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A run of terminators (and closing quotes/brackets): CJK ones always end a sentence,
# ASCII ones only before whitespace, a CJK character or the end of the text.
_BOUNDARY = re.compile(
    r"[。！？；…]+[」』”’）)]*"
    r"|[.!?]+[\"'”’)]*(?=\s|$|[\u3400-\u9fff])"
)
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "inc", "ltd", "co",
                            "jr", "sr", "no", "approx", "dept"})
_WORD_BEFORE = re.compile(r"([A-Za-z.]+)$")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a text: its order, its character span ``text[start:end]`` and the words."""

    index: int
    start: int
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` (English, Chinese or mixed) into sentences with offsets into ``text``.

    >>> [(s.start, s.end, s.text) for s in split_sentences("好的。价格太高了！Fine. Mr. Li agrees.")]
    [(0, 3, '好的。'), (3, 9, '价格太高了！'), (9, 14, 'Fine.'), (15, 29, 'Mr. Li agrees.')]
    """
    spans: list[tuple[int, int]] = []
    begin = 0
    for match in _BOUNDARY.finditer(text):
        if match.group()[0] == "." and _is_abbreviation(text[begin:match.start()]):
            continue
        spans.append((begin, match.end()))
        begin = match.end()
    spans.append((begin, len(text)))
    return _trimmed(text, spans)


def _is_abbreviation(before: str) -> bool:
    word = _WORD_BEFORE.search(before)
    return bool(word) and word.group(1).lower().rstrip(".") in _ABBREVIATIONS


def _trimmed(text: str, spans: list[tuple[int, int]]) -> list[Sentence]:
    """Drop surrounding whitespace from each span and skip empty ones; number what is left."""
    out: list[Sentence] = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start and any(ch.isalnum() for ch in text[start:end]):
            out.append(Sentence(len(out), start, end, text[start:end]))
    return out
