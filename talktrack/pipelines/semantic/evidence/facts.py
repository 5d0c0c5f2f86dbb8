"""Checkable facts in a text: numbers, calendar days and names, in English and Chinese.

Evidence is real when its specifics can be found in the customer's own calls; a
template has none, a copy has another customer's. So the facts must be compared as
values, not strings: ``$85,000``, ``85000`` and ``8.5万`` are one amount; ``Tuesday,
January 14``, ``1月14号`` and ``2025-01-14`` are one day; ``十二`` is 12. Dates are
taken out before numbers so their digits do not count twice.

    >>> [f.value for f in extract_facts("上季度流失12个大客户，1月14号周二再聊，预算8.5万")]
    ['12', '01-14', '85000']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
_MONTH_ALT = "|".join(m.capitalize() for m in MONTHS) + "|" + "|".join(m[:3].capitalize() + r"\.?" for m in MONTHS)
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = "[零〇一二两三四五六七八九十百千]"
_DAY = rf"(?:\d{{1,2}}|{_CN_NUM}{{1,3}})"

DATE_PATTERNS = (
    re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b"),
    re.compile(rf"\b(?P<month>{_MONTH_ALT})\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH_ALT})\b"),
    re.compile(rf"(?P<month>{_DAY})月(?P<day>{_DAY})[日号號]"),
)
NUMBER_PATTERN = re.compile(
    r"(?P<currency>[$¥￥€£])?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"\s?(?P<unit>万|千|百万|亿|k\b|K\b|m\b|M\b|million\b|thousand\b)?"
)
CN_NUMBER_PATTERN = re.compile(rf"{_CN_NUM}{{1,6}}(?P<unit>万|亿)?(?=[个次天小时人家条起名位周年月%％倍台套份项万])")
NAME_PATTERN = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)?\b")
_UNIT_FACTOR = {"万": 10_000, "千": 1_000, "百万": 1_000_000, "亿": 100_000_000, "k": 1_000, "K": 1_000,
                "m": 1_000_000, "M": 1_000_000, "million": 1_000_000, "thousand": 1_000}
# Capitalised words that are not names: sentence openers of notes, calendar words, titles.
COMMON_CAPITALISED = frozenset("""
a about after again agreed all also an and any are as at be because been before being both but by call can client
competitor concerns could customer day did discussed do does during each few follow for from good had has have he her
here him his how i if in into is it its just key main me meeting met more most my next no nor not now objections
of off on once only or other our out over own pain points positive productive proposal same she should so some
spoke such summary than that the their them then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your yes invite booked sent standard
talked customer mentioned problems issues scope addresses price commercials go live target strong interest
monday tuesday wednesday thursday friday saturday sunday the ceo cfo cto coo it vp head director manager lead
dear hi hello thanks regards best notes note mr mrs ms dr q1 q2 q3 q4 end
wecom wechat whatsapp email chat chats recap fyi onsite budget demo pilot contract sales
""".split()) | frozenset(MONTHS) | frozenset(m[:3] for m in MONTHS)


@dataclass(frozen=True)
class Fact:
    """One checkable specific: ``kind`` number|date|name, ``value`` canonical, ``text`` as written."""

    kind: str
    value: str
    text: str
    start: int
    tolerance: float = 0.0  # how far a number may be from another and still be the same (rounding)

    @property
    def weight(self) -> float:
        """How much a match says: a day or a name or a number >= 10 is specific; 2-9 happen by chance."""
        if self.kind == "number" and float(self.value) < 10:
            return 0.5
        return 1.0

    def key(self) -> tuple[str, str]:
        return self.kind, self.value


def extract_facts(text: str, *, ignore: tuple[str, ...] = ()) -> list[Fact]:
    """Dates, then numbers, then names of ``text`` (in order of position; duplicates kept once).

    ``ignore``: names to blank out first, whole and word by word (the customer's own name is not
    evidence of anything, nor is the short form a rep writes: "Pinecrest" for Pinecrest Dental Group).
    """
    for name in ignore:
        if name:
            text = text.replace(name, " " * len(name))
            for word in NAME_PATTERN.findall(name):
                text = re.sub(rf"\b{re.escape(word)}\b", " " * len(word), text)
    facts, blanked = _dates(text)
    facts += _numbers(blanked)
    facts += _names(blanked)
    unique: dict[tuple[str, str], Fact] = {}
    for fact in sorted(facts, key=lambda f: f.start):
        unique.setdefault(fact.key(), fact)
    return list(unique.values())


def _dates(text: str) -> tuple[list[Fact], str]:
    """Month-day facts; returns the text with those spans blanked (so '14' is not also a number)."""
    facts, chars = [], list(text)
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer("".join(chars)):
            month, day = _month_day(match)
            if month and 1 <= month <= 12 and day and 1 <= day <= 31:
                facts.append(Fact("date", f"{month:02d}-{day:02d}", match.group(0), match.start()))
                chars[match.start():match.end()] = " " * (match.end() - match.start())
    return facts, "".join(chars)


def _month_day(match: re.Match) -> tuple[int | None, int | None]:
    groups = match.groupdict()
    if not groups:  # ISO
        return int(match.group(2)), int(match.group(3))
    month_text, day_text = groups["month"], groups["day"]
    key = month_text.rstrip(".").lower()[:3]
    month = next((i + 1 for i, m in enumerate(MONTHS) if m.startswith(key)), None) if key.isalpha() else None
    if month is None:
        month = _to_int(month_text)
    return month, _to_int(day_text)


def _to_int(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    return chinese_numeral(text)


def chinese_numeral(text: str) -> int | None:
    """``十二`` → 12, ``一百三十八`` → 138, ``两千零五`` → 2005, ``三五`` → 35; None if not a numeral."""
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in text):
        return None
    if all(ch in _CN_DIGITS for ch in text):  # digit by digit, as in 三五 or 二〇二五
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, digit = 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
    return total + (digit or 0)


def _numbers(text: str) -> list[Fact]:
    """Numbers >= 2 as canonical values (units applied; 1 and 0 say nothing specific)."""
    facts = []
    for match in NUMBER_PATTERN.finditer(text):
        if _inside_word(text, match.start("num"), match.end("num")):
            continue
        number, unit = match.group("num").replace(",", ""), match.group("unit") or ""
        value = float(number) * _UNIT_FACTOR.get(unit, 1)
        decimals = len(number.partition(".")[2])
        step = _UNIT_FACTOR[unit] * 10.0 ** -decimals if unit else 0.0  # '10万' was rounded to the 万
        facts += _number_fact(value, match, step / 2)
    for match in CN_NUMBER_PATTERN.finditer(text):
        base = chinese_numeral(match.group(0).rstrip("万亿"))
        if base is not None:
            factor = _UNIT_FACTOR.get(match.group("unit") or "", 1)
            facts += _number_fact(base * factor, match, factor / 2 if factor > 1 else 0.0)
    return facts


def _inside_word(text: str, start: int, end: int) -> bool:
    """Digits glued to Latin letters (Q2, B2B, SKU123) are names, not quantities."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha() and after not in "kKmM")


def _number_fact(value: float, match: re.Match, half_step: float) -> list[Fact]:
    if value < 2:
        return []
    canonical = f"{value:.4f}".rstrip("0").rstrip(".")
    return [Fact("number", canonical, match.group(0).strip(), match.start(), half_step)]


def _names(text: str) -> list[Fact]:
    """Capitalised words that are not common words (people, competitors, products, cities)."""
    return [Fact("name", match.group(0).lower(), match.group(0), match.start())
            for match in NAME_PATTERN.finditer(text) if match.group(0).lower() not in COMMON_CAPITALISED]


def same_value(a: Fact, b: Fact, *, relative: float = 0.01) -> bool:
    """Equal facts; amounts >= 1000 may differ by 1% or by the rounding of how they were
    written (``52万`` for 522,000, ``10万`` for 95,000)."""
    if a.kind != b.kind:
        return False
    if a.kind != "number":
        return a.value == b.value
    x, y = float(a.value), float(b.value)
    if max(x, y) >= 1000:
        return abs(x - y) <= max(relative * max(x, y), a.tolerance, b.tolerance)
    return x == y
