"""Mask personal data in transcripts: phone numbers, e-mail addresses, Chinese ID-card and bank-card numbers.

What counts (and what deliberately does not):

- **phone**: Chinese mobiles ``1[3-9]`` + 9 digits (spaces/dashes anywhere, optional +86/0086);
  anything written with a leading ``+`` and 8-15 digits; North-American numbers laid out
  3-3-4 with separators or parentheses; Chinese landlines ``0AA(A)-NNNNNNN(N)``; ``NNN-NNNN``;
  and any other 7-15 digit run right after a phone word ("phone", "call me at", "my number is",
  "电话", "手机", ...). A bare 10-digit run with no phone word stays: ABCD-style order ids
  look exactly like that.
- **email**: ``local@domain.tld``, and the spoken form "john dot smith at acme dot com"
  (known top-level domains only).
- **id_card**: 18 characters (17 digits + digit or X) whose ISO 7064 MOD 11-2 check
  character and birth date are valid; any other 18-digit number is left alone.
- **bank_card**: 13-19 digits (groups allowed) that pass the Luhn check.
- **spoken digits** (``PiiSettings.spoken_digits``): runs of ≥7 digit words ("five five five
  one two three four", "double five", "oh"; "一三八...", "幺"), and digits Whisper wrote one by
  one ("5, 5, 5, 1, 2, 3, 4"), are read as numbers and classified by the same rules; a
  spoken run of 7 or 10 digits counts as a phone without a phone word.

Prices, dates, times, percentages, quantities ("30 hours"), order ids and checksum-invalid
ID/card numbers are untouched. Masks come from ``PiiSettings.mask`` (``[PHONE]``, ...).

Text and words are masked together: every word that overlaps a masked span is folded
into one word carrying the mask, timed from the first to the last of them, so the
words still join to the utterance text. Only counts per kind are returned, never values.

    >>> from talktrack.core.config import PiiSettings
    >>> redact_text("call me at 138 1234 5678 or a@b.cn", PiiSettings())
    ('call me at [PHONE] or [EMAIL]', {'phone': 1, 'email': 1})
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from talktrack.core.config import PiiSettings
from talktrack.core.records import Transcript, TranscriptUtterance, Word
from talktrack.pipelines.speech.align import locate_words

KINDS = ("phone", "email", "id_card", "bank_card")

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z])"
)
_TLDS = r"(?:com|net|org|cn|io|co|edu|gov|biz|info|me|us|uk|de|fr|jp|hk|tw|sg|ai)"
_SPOKEN_EMAIL = re.compile(
    rf"\b[a-z0-9][a-z0-9._-]*(?:\s+(?:dot|underscore|dash)\s+[a-z0-9]+)*\s+at\s+"
    rf"[a-z0-9-]+(?:\s*(?:\.|\bdot\b)\s*[a-z0-9-]+)*?\s*(?:\.|\bdot\b)\s*{_TLDS}\b",
    re.IGNORECASE,
)
# Digit groups joined by single separators; the trailing X is an ID-card check character.
_DIGITS = re.compile(
    r"(?<![0-9A-Za-z０-９])(?:\+\s?)?\(?\d+\)?(?:[ \-–.]?\(?\d+\)?)*(?:[Xx](?![A-Za-z]))?(?![0-9０-９])"
)
_PHONE_WORDS = re.compile(
    r"(?:phone|cell|mobile|telephone|\btel\b|fax|whats ?app|wechat"
    r"|call me|reach me|text me|call (?:us|him|her)|(?:my|your|his|her|our|the) number"
    r"|电话|手机|号码|联系方式|致电|拨打|打给|微信)[^0-9\n]{0,25}$",
    re.IGNORECASE,
)
_EN_DIGITS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_EN_MULTIPLIERS = {"double": 2, "triple": 3}
_SPOKEN_EN = re.compile(
    r"\b(?:(?:double|triple)\s+)?(?:zero|one|two|three|four|five|six|seven|eight|nine)"
    r"(?:[\s,.\-]+(?:(?:double|triple)\s+)?(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine))+\b",
    re.IGNORECASE,
)
# Digits dictated one by one come out of Whisper as "5, 5, 5, 1, 2, 3, 4": read like spoken digits.
_DICTATED = re.compile(r"(?<![\d,.])\d(?:,\s?\d){6,}(?![\d])")
_ZH_DIGITS = dict(zip("零〇一二三四五六七八九幺", "001234567891", strict=True))
# Whisper base writes a dictated number in groups: "一三八，一二三四，五六七八" (pauses become commas);
# single digits between commas ("第一，二，三，...") are a list, not a number.
_ZH_GROUP = r"[零〇一二三四五六七八九幺](?:[\s\-]?[零〇一二三四五六七八九幺])"
_SPOKEN_ZH = re.compile(rf"{_ZH_GROUP}{{6,}}|{_ZH_GROUP}+(?:[，,、]\s?{_ZH_GROUP}+)+")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class PiiSpan:
    """Characters ``start:end`` of a text hold one item of ``kind``."""

    start: int
    end: int
    kind: str


# --- checks ------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by bank cards.

    >>> luhn_valid("4111111111111111"), luhn_valid("4111111111111112")
    (True, False)
    """
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def id_card_valid(number: str) -> bool:
    """A PRC resident ID number: 18 characters, a real birth date, the MOD 11-2 check character.

    >>> id_card_valid("11010519491231002X"), id_card_valid("110105194912310021")
    (True, False)
    """
    number = number.upper()
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not 1900 <= born.year <= date.today().year:
        return False
    checksum = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[checksum % 11] == number[17]


# --- detection ---------------------------------------------------------------------------


def find_pii(text: str, *, kinds: Sequence[str] = KINDS, spoken_digits: bool = True) -> list[PiiSpan]:
    """Non-overlapping spans of personal data in ``text``, in order."""
    spans: list[PiiSpan] = []
    if "email" in kinds:
        spans += [PiiSpan(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)]
        spans += [PiiSpan(m.start(), m.end(), "email") for m in _SPOKEN_EMAIL.finditer(text)]
    spans += _number_spans(text, _written_numbers(text))
    if spoken_digits:
        spans += _number_spans(text, _spoken_numbers(text), spoken=True)
    return _non_overlapping([s for s in spans if s.kind in kinds])


def _non_overlapping(spans: list[PiiSpan]) -> list[PiiSpan]:
    """Earliest first, longest on a tie; drop anything overlapping a span already kept."""
    kept: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


@dataclass(frozen=True)
class _Group:
    """One run of digits inside a number candidate: its digits and where they sit in the text."""

    digits: str
    start: int
    end: int


def _written_numbers(text: str) -> list[tuple[list[_Group], bool]]:
    """Digit candidates: (groups, has a leading '+'), groups split at separators."""
    candidates = []
    for match in _DIGITS.finditer(text):
        groups = [
            _Group(_ascii_digits(g.group()), match.start() + g.start(), match.start() + g.end())
            for g in re.finditer(r"\d+(?:[Xx]$)?", match.group())
        ]
        candidates.append((groups, match.group().lstrip().startswith("+")))
    return candidates


def _spoken_numbers(text: str) -> list[tuple[list[_Group], bool]]:
    """Runs of spoken digit words, one group per run (a spoken number has no layout)."""
    candidates = []
    for match in _SPOKEN_EN.finditer(text):
        digits = _spoken_en_digits(match.group())
        if len(digits) >= 7:
            candidates.append(([_Group(digits, match.start(), match.end())], False))
    for match in _DICTATED.finditer(text):
        digits = _ascii_digits(re.sub(r"\D", "", match.group()))
        candidates.append(([_Group(digits, match.start(), match.end())], False))
    for match in _SPOKEN_ZH.finditer(text):
        digits = "".join(_ZH_DIGITS[c] for c in match.group() if c in _ZH_DIGITS)
        candidates.append(([_Group(digits, match.start(), match.end())], False))
    return candidates


def _spoken_en_digits(phrase: str) -> str:
    digits, repeat = [], 1
    for token in re.findall(r"[a-z]+", phrase.lower()):
        if token in _EN_MULTIPLIERS:
            repeat = _EN_MULTIPLIERS[token]
            continue
        digits.append(_EN_DIGITS[token] * repeat)
        repeat = 1
    return "".join(digits)


def _ascii_digits(text: str) -> str:
    return "".join(str(int(c)) if c.isdigit() else c.upper() for c in text)


def _number_spans(text: str, candidates, *, spoken: bool = False) -> list[PiiSpan]:
    """Classify each candidate; when the whole fails, the longest classifiable run of groups wins."""
    spans: list[PiiSpan] = []
    for groups, plus in candidates:
        spans += _classify_groups(text, groups, plus, spoken)
    return spans


def _classify_groups(text: str, groups: list[_Group], plus: bool, spoken: bool) -> list[PiiSpan]:
    n = len(groups)
    for length in range(n, 0, -1):
        for first in range(0, n - length + 1):
            run = groups[first : first + length]
            kind = classify_number(
                [g.digits for g in run], plus=plus and first == 0, spoken=spoken, context=text[: run[0].start]
            )
            if kind:
                start = run[0].start
                if first == 0 and plus:  # keep the '+' inside the mask
                    start = text.rfind("+", 0, start)
                span = PiiSpan(*_widen_parens(text, start, run[-1].end), kind)
                return [span] + _classify_groups(text, groups[:first], plus, spoken) + _classify_groups(
                    text, groups[first + length :], False, spoken
                )
    return []


def _widen_parens(text: str, start: int, end: int) -> tuple[int, int]:
    """Take in the bracket of "(555) 123-4567" when the span holds only its other half."""
    inside = text[start:end]
    if start > 0 and text[start - 1] == "(" and inside.count(")") > inside.count("("):
        start -= 1
    if end < len(text) and text[end] == ")" and inside.count("(") > inside.count(")"):
        end += 1
    return start, end


def classify_number(
    groups: Sequence[str], *, plus: bool = False, spoken: bool = False, context: str = ""
) -> str | None:
    """``id_card``, ``bank_card``, ``phone`` or None for a number written as ``groups`` of digits.

    >>> classify_number(["138", "1234", "5678"]), classify_number(["2024", "03", "15"])
    ('phone', None)
    """
    digits = "".join(groups)
    if len(digits) == 18 and id_card_valid(digits):
        return "id_card"
    if "X" in digits:
        return None
    if _is_phone(digits, groups, plus, spoken, context):
        return "phone"
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return "bank_card"
    return None


def _is_phone(digits: str, groups: Sequence[str], plus: bool, spoken: bool, context: str) -> bool:
    lengths = [len(g) for g in groups]
    if re.fullmatch(r"(?:0086|86)?1[3-9]\d{9}", digits):  # Chinese mobile
        return True
    if plus and 8 <= len(digits) <= 15:  # E.164 as written
        return True
    if re.fullmatch(r"1?[2-9]\d{2}[2-9]\d{6}", digits) and (lengths[-3:] == [3, 3, 4] or spoken):  # NANP
        return True
    if re.fullmatch(r"0\d{9,11}", digits) and len(groups) >= 2 and lengths[0] in (3, 4):  # CN landline
        return True
    if lengths == [3, 4] or (spoken and len(digits) == 7):
        return True
    return 7 <= len(digits) <= 15 and bool(_PHONE_WORDS.search(context[-60:]))


# --- masking -----------------------------------------------------------------------------


def mask_for(kind: str, settings: PiiSettings) -> str:
    return settings.mask.replace("{KIND}", kind.upper())


def _find(text: str, settings: PiiSettings) -> list[PiiSpan]:
    return find_pii(text, kinds=settings.kinds, spoken_digits=settings.spoken_digits)


def _apply(text: str, spans: Sequence[PiiSpan], settings: PiiSettings, offset: int = 0) -> str:
    pieces, cursor = [], offset
    for span in spans:
        pieces += [text[cursor - offset : span.start - offset], mask_for(span.kind, settings)]
        cursor = span.end
    pieces.append(text[cursor - offset :])
    return "".join(pieces)


def redact_text(text: str, settings: PiiSettings) -> tuple[str, dict[str, int]]:
    """``text`` with every item masked, and how many of each kind were masked."""
    spans = _find(text, settings)
    return _apply(text, spans, settings), dict(Counter(span.kind for span in spans))


def redact_utterance(
    utterance: TranscriptUtterance, settings: PiiSettings
) -> tuple[TranscriptUtterance, dict[str, int]]:
    """Mask the text and fold the words that carried each masked item into one masked word."""
    spans = _find(utterance.text, settings)
    counts = Counter(span.kind for span in spans)
    words = utterance.words
    if words:
        words, stray = _redact_words(utterance.text, words, spans, settings)
        counts.update(stray)
    if not spans and words is utterance.words:
        return utterance, {}
    text = _apply(utterance.text, spans, settings)
    return utterance.model_copy(update={"text": text, "words": words}), dict(counts)


def _redact_words(
    text: str, words: list[Word], spans: Sequence[PiiSpan], settings: PiiSettings
) -> tuple[list[Word], Counter]:
    offsets = locate_words(text, words)
    stray: Counter = Counter()
    out: list[Word] = []
    index = 0
    while index < len(words):
        word, place = words[index], offsets[index]
        if place is None:  # a word the text does not contain: check it on its own
            masked, found = redact_text(word.word, settings)
            stray.update(found)
            out.append(word if not found else word.model_copy(update={"word": masked}))
            index += 1
            continue
        last, covering = _fold(index, offsets, spans)
        if not covering:
            out.append(word)
        else:
            start, end = offsets[index][0], offsets[last][1]
            masked = _apply(text[start:end], covering, settings, offset=start)
            out.append(_merged(words[index : last + 1], masked))
        index = last + 1
    return (out if stray or out != words else words), stray


def _fold(index: int, offsets, spans: Sequence[PiiSpan]) -> tuple[int, list[PiiSpan]]:
    """The last word joined to word ``index`` through masked spans, and those spans."""
    last, covering = index, []
    for span in spans:
        lo, hi = offsets[index][0], offsets[last][1]
        if span.end <= lo:
            continue
        if span.start >= hi:
            break
        covering.append(span)
        while last + 1 < len(offsets) and offsets[last + 1] is not None and offsets[last + 1][0] < span.end:
            last += 1
    # a span that starts before the word (a folded neighbour) is clipped to the word range
    lo, hi = offsets[index][0], offsets[last][1]
    return last, [PiiSpan(max(s.start, lo), min(s.end, hi), s.kind) for s in covering]


def _merged(words: Sequence[Word], text: str) -> Word:
    probabilities = [w.probability for w in words if w.probability is not None]
    return Word(
        start=words[0].start,
        end=max(w.end for w in words),
        word=text,
        probability=min(probabilities) if probabilities else None,
    )


def redact_utterances(
    utterances: Sequence[TranscriptUtterance], settings: PiiSettings
) -> tuple[list[TranscriptUtterance], dict[str, int]]:
    """Every utterance masked, and the total count per kind (kinds never seen are absent)."""
    total: Counter = Counter()
    out = []
    for utterance in utterances:
        masked, counts = redact_utterance(utterance, settings)
        out.append(masked)
        total.update(counts)
    return out, dict(total)


def redact_transcript(transcript: Transcript, settings: PiiSettings) -> tuple[Transcript, dict[str, int]]:
    """A whole transcript (e.g. an imported one) masked the same way the speech pipeline does it."""
    utterances, counts = redact_utterances(transcript.utterances, settings)
    return transcript.model_copy(update={"utterances": utterances}), counts
