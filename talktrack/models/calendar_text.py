"""The date, time and names a calendar entry shows, read from OCR text (English and Chinese).

A leaf: text in, fields out. OCR of a screenshot gives lines like ``Tue, Feb 11, 2025`` /
``2:30 PM - 3:00 PM`` or ``2025年3月4日（周二）`` / ``下午2:30至15:00``, with the usual slips
(a full-width colon, ``〈`` for ``（``, a stray space inside a number). :func:`read_calendar`
returns every date and clock time it finds, in order, so the caller can match them against the
meetings it knows; :func:`name_similarity` says how well a name appears anywhere in the text,
allowing for a misread character or two.

    >>> reading = read_calendar("Meeting - Copperleaf Academy\\nMonday, February 3, 2025\\n09:50 - 10:20")
    >>> reading.dates, reading.times
    ([datetime.date(2025, 2, 3)], [datetime.time(9, 50), datetime.time(10, 20)])
    >>> round(name_similarity("Copperleaf Academy", "Meeting - Copperleat Academy"), 2)
    0.94
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from difflib import SequenceMatcher

MONTHS = {name: number for number, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")), start=1) for name in names}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>20\d\d)"
_DATES = [
    re.compile(_YEAR + r"[ \t]*年[ \t]*(?P<m>\d{1,2})[\]|[ \t]*月[ \t]*(?P<d>\d{1,2})(?![\d月])[\]|[ \t]*[日号]?"),
    re.compile(_YEAR + r"[ \t]*[-/.][ \t]*(?P<m>\d{1,2})[ \t]*[-/.][ \t]*(?P<d>\d{1,2})(?!\d)"),
    re.compile(_MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+" + _YEAR, re.IGNORECASE),
    re.compile(r"(?<!\d)(?P<d>\d{1,2})\s+" + _MONTH + r",?\s+" + _YEAR, re.IGNORECASE),
]
_ORDINAL = r"(?:st|nd|rd|th)?"
# without a year (Google's "Tuesday, March 4", "Thu 7th Aug", 企业微信 "5月20日", 钉钉 "04-08 周二", "2/26 周三"):
# the year is taken from a full date elsewhere in the text, else from the caller (the day it was handed in)
_YEARLESS = [
    re.compile(r"(?<!\d)(?P<m>\d{1,2})[ \t]*月[ \t]*(?P<d>\d{1,2})[ \t]*[日号]"),
    re.compile(r"(?<![\d/.-])(?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?![\d/.-])(?=[ \t]*[（(]?[ \t]*(?:周|星期))"),
    re.compile(r"\b" + _MONTH + r"[ \t]+(?P<d>\d{1,2})" + _ORDINAL + r"(?![\d:])", re.IGNORECASE),
    re.compile(r"(?<![\d:])(?P<d>\d{1,2})" + _ORDINAL + r"[ \t]+(?:of[ \t]+)?" + _MONTH + r"\b", re.IGNORECASE),
]
_HALF = r"(?P<half>上午|下午|中午|晚上|早上)?[ \t]*"
_AMPM = r"[ \t]*(?P<ampm>[AaPp]\.?[ \t]?[Mm]\.?(?![A-Za-z]))"
_TIMES = [
    re.compile(_HALF + r"(?<![\d:])(?P<h>[0-2]?\d)[ \t]*[:.][ \t]*(?P<min>[0-5]\d)(?![\d:])(?:" + _AMPM + ")?"),
    re.compile(_HALF + r"(?<![\d:.])(?P<h>1[0-2]|0?[1-9])(?P<min>)" + _AMPM),  # "10am", "3 pm"
]
_RANGE = re.compile(r"^[ \t]*(?:[-–—~至到]|to)[ \t]*$")
_AFTERNOON = ("下午", "晚上")


@dataclass(frozen=True)
class CalendarReading:
    """Dates and clock times found in the text, in reading order, and the text itself."""

    dates: list[date]
    times: list[time]
    text: str

    @property
    def complete(self) -> bool:
        return bool(self.dates and self.times)


def read_calendar(text: str, default_year: int | None = None) -> CalendarReading:
    """Every date and clock time written in ``text``; ``default_year``: the year of a date written without
    one, when no full date in the text gives it (e.g. the year the screenshot was handed in)."""
    text = text.replace("：", ":").replace("，", ",")
    found: list[tuple[int, int, date]] = []  # (start, end, date)

    def add(match: re.Match, day: date | None) -> None:
        if day is not None and not any(a <= match.start() < b or match.start() <= a < match.end() for a, b, _ in found):
            found.append((match.start(), match.end(), day))

    for pattern in _DATES:
        for match in pattern.finditer(text):
            add(match, _date(match, None))
    years = [d.year for _, _, d in found] or [int(y) for y in re.findall(r"20\d\d(?=\s*年)", text)]
    year = years[0] if years else default_year
    if year is not None:
        for pattern in _YEARLESS:
            for match in pattern.finditer(text):
                add(match, _date(match, year))
    dates = [d for _, _, d in sorted(found)]
    times = [t for at, t in _times(text) if not any(a <= at < b for a, b, _ in found)]  # not 2025.02.06
    return CalendarReading(list(dict.fromkeys(dates)), times, text)


def _date(match: re.Match, year: int | None) -> date | None:
    groups = match.groupdict()
    month = MONTHS[groups["month"].lower()] if groups.get("month") else int(groups["m"])
    return _make_date(int(groups.get("year") or year), month, int(groups["d"]))


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _times(text: str) -> list[tuple[int, time]]:
    """(position, time) of each clock time; "2:30 – 3:00pm" and "下午3:00-4:30" give both ends the marker."""
    found = []  # [position of the hour, start, end, hour, minute, marker]
    for pattern in _TIMES:
        for match in pattern.finditer(text):
            if any(start <= match.start("h") < end for _, start, end, *_ in found):
                continue
            ampm = (match["ampm"] or "").lower().replace(".", "").replace(" ", "").replace("\t", "")
            found.append([match.start("h"), match.start(), match.end(), int(match["h"]), int(match["min"] or 0),
                          ampm or match["half"] or ""])
    found.sort()
    for first, second in zip(found, found[1:]):  # a range's unmarked end takes the marker of the other
        if _RANGE.match(text[first[2]:second[1]]) and bool(first[5]) != bool(second[5]):
            if not first[5] and _clock(first[3], second[5]) <= _clock(second[3], second[5]):
                first[5] = second[5]
            elif not second[5] and first[5] in _AFTERNOON + ("pm",):
                second[5] = first[5]
    return [(at, time(_clock(h, mark), m)) for at, _, _, h, m, mark in found if _clock(h, mark) < 24]


def _clock(hour: int, mark: str) -> int:
    if mark in ("pm", *_AFTERNOON) and hour < 12:
        return hour + 12
    return 0 if mark in ("am", "上午", "早上") and hour == 12 else hour  # 上午12:01 is just after midnight


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def name_similarity(name: str, text: str) -> float:
    """0-1: how well ``name`` appears in ``text`` (spaces and case ignored), 1.0 for an exact occurrence.

    The best :class:`difflib.SequenceMatcher` ratio between the name and any stretch of the text
    of about its length, so one misread character in a ten-character name still scores 0.9."""
    target, haystack = _squash(name), _squash(text)
    if not target:
        raise ValueError("name_similarity needs a non-empty name")
    if target in haystack:
        return 1.0
    best, size = 0.0, len(target)
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    for width in {max(1, size - 1), size, size + 1}:
        for start in range(0, max(1, len(haystack) - width + 1)):
            matcher.set_seq1(haystack[start:start + width])
            if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
                best = max(best, matcher.ratio())
    return best
