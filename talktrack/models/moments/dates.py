"""Resolve the dates people say ("next Tuesday", "下周三", "3月5日", "on the 14th") against a reference day.

Conventions (stated so results are predictable): "next <weekday>"/"下周X" is that weekday in the
week after the reference's week (weeks start Monday), "下下周X" the week after that, and "the week after
next"/"下下周" its Monday; "这周内" is this week's Friday; "mid-month"/"月中" the 15th, "九月底" the last day
of September; a bare or "this" weekday is its next
occurrence after the reference day; a day of the month without a month is the next such day
(this month or the next); a month and day already past this year is next year's.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

EN_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EN_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
             "november", "december")
EN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
              "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3}
ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
ZH_NUMBERS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
              "半": 0}

_WD = "|".join(EN_WEEKDAYS)
_MON = "|".join(m[:3] + r"(?:" + m[3:] + r")?" for m in EN_MONTHS)
# "Wed", "Thurs": abbreviations that reps write (full names are matched first)
_WD_SHORT = r"mon|tues?|wed|thu(?:rs?)?|fri|sat|sun"
_NUM = r"\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|couple of|few"


@dataclass(frozen=True)
class DateMention:
    """A resolved date and the words it came from (``start:end`` in the text)."""

    day: date
    text: str
    start: int
    end: int


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _after(reference: date, weekday: int) -> date:
    return reference + timedelta(days=(weekday - reference.weekday() - 1) % 7 + 1)


def _next_week(reference: date, weekday: int) -> date:
    return _monday(reference) + timedelta(days=7 + weekday)


def _month_day(reference: date, month: int, day: int) -> date | None:
    try:
        candidate = date(reference.year, month, day)
        return candidate if candidate >= reference else date(reference.year + 1, month, day)
    except ValueError:
        return None


def _day_of_month(reference: date, day: int) -> date | None:
    year, month = reference.year, reference.month
    for _ in range(3):
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= reference:
            return date(year, month, day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _end_of_month(reference: date) -> date:
    return reference.replace(day=calendar.monthrange(reference.year, reference.month)[1])


def _month_end(reference: date, month: int) -> date | None:
    """"九月底": the last day of that month, next year's when it is already past."""
    if not 1 <= month <= 12:
        return None
    year = reference.year if month >= reference.month else reference.year + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def _next_month(reference: date) -> date:
    return date(reference.year + 1, 1, 1) if reference.month == 12 else date(reference.year, reference.month + 1, 1)


def _offset(count: int, unit: str) -> timedelta:
    unit = unit.lower()
    if unit.startswith(("week", "周", "星期", "礼拜")):
        return timedelta(weeks=count)
    if unit.startswith(("month", "个月", "月")):
        return timedelta(days=30 * count)
    return timedelta(days=count)


def _en_count(text: str) -> int:
    return int(text) if text.isdigit() else EN_NUMBERS.get(text.lower(), 1)


def _zh_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if len(text) == 2 and text[0] == "十":
        return 10 + ZH_NUMBERS.get(text[1], 0)
    if len(text) >= 2 and text[1] == "十":
        return ZH_NUMBERS.get(text[0], 1) * 10 + (ZH_NUMBERS.get(text[2], 0) if len(text) > 2 else 0)
    return ZH_NUMBERS.get(text, 1)


Resolver = Callable[[re.Match, date], date | None]
_EN_RULES: list[tuple[re.Pattern, Resolver]] = [
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), lambda m, r: date(int(m[1]), int(m[2]), int(m[3]))),
    (re.compile(r"\bday after tomorrow\b", re.I), lambda m, r: r + timedelta(days=2)),
    (re.compile(r"\b(?:tomorrow|tmrw|tmr)\b", re.I), lambda m, r: r + timedelta(days=1)),
    (re.compile(r"\bend of next week\b", re.I), lambda m, r: _monday(r) + timedelta(days=11)),
    (re.compile(r"\b(?:today|tonight|this (?:afternoon|evening|morning))\b", re.I), lambda m, r: r),
    (re.compile(rf"\bnext ({_WD})\b", re.I), lambda m, r: _next_week(r, EN_WEEKDAYS.index(m[1].lower()))),
    (re.compile(rf"\b(?:this |on |by |until )?({_WD})\b", re.I), lambda m, r: _after(r, EN_WEEKDAYS.index(m[1].lower()))),
    (re.compile(rf"\bnext ({_WD_SHORT})\b\.?", re.I), lambda m, r: _next_week(r, _short_weekday(m[1]))),
    (re.compile(rf"\b(?:this |on |by |until )?({_WD_SHORT})\b\.?", re.I), lambda m, r: _after(r, _short_weekday(m[1]))),
    (re.compile(rf"\b({_MON})\.? (\d{{1,2}})(?:st|nd|rd|th)?\b", re.I),
     lambda m, r: _month_day(r, _month_index(m[1]), int(m[2]))),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MON})\b", re.I),
     lambda m, r: _month_day(r, _month_index(m[2]), int(m[1]))),
    (re.compile(r"\b(?:on )?the (\d{1,2})(?:st|nd|rd|th)\b", re.I), lambda m, r: _day_of_month(r, int(m[1]))),
    (re.compile(rf"\bin ({_NUM}) (days?|weeks?|months?)\b", re.I), lambda m, r: r + _offset(_en_count(m[1]), m[2])),
    (re.compile(rf"\b({_NUM}) (days?|weeks?) from now\b", re.I), lambda m, r: r + _offset(_en_count(m[1]), m[2])),
    (re.compile(r"\b(?:the )?week after next\b", re.I), lambda m, r: _monday(r) + timedelta(days=14)),
    (re.compile(rf"\bmid[- ](?:({_MON})|month)\b", re.I),
     lambda m, r: _month_day(r, _month_index(m[1]), 15) if m[1] else _day_of_month(r, 15)),
    (re.compile(r"\bnext week\b", re.I), lambda m, r: _monday(r) + timedelta(days=7)),
    (re.compile(r"\b(?:end of (?:the |this )?week|eow)\b", re.I), lambda m, r: _monday(r) + timedelta(days=4)),
    (re.compile(r"\b(?:end of (?:the |this )?month|eom)\b", re.I), lambda m, r: _end_of_month(r)),
    (re.compile(r"\bnext month\b", re.I), lambda m, r: _next_month(r)),
]
_ZH_WD = "[一二三四五六日天末]"
_ZH_NUM = "[0-9一二两三四五六七八九十]+"
_ZH_RULES: list[tuple[re.Pattern, Resolver]] = [
    (re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})[日号]"), lambda m, r: date(int(m[1]), int(m[2]), int(m[3]))),
    (re.compile(r"大后天"), lambda m, r: r + timedelta(days=3)),
    (re.compile(r"后天"), lambda m, r: r + timedelta(days=2)),
    (re.compile(r"明天|明日"), lambda m, r: r + timedelta(days=1)),
    (re.compile(r"今天|今晚|今日"), lambda m, r: r),
    (re.compile(rf"下下(?:个)?(?:周|星期|礼拜)({_ZH_WD})"), lambda m, r: _next_week(r, ZH_WEEKDAYS[m[1]]) + timedelta(days=7)),
    (re.compile(r"下下(?:个)?(?:周|星期|礼拜)"), lambda m, r: _monday(r) + timedelta(days=14)),
    (re.compile(r"(?:这|本)(?:个)?(?:周|星期|礼拜)(?:内|之内)"), lambda m, r: _monday(r) + timedelta(days=4)),
    (re.compile(r"下(?:个)?(?:周|星期|礼拜)初"), lambda m, r: _monday(r) + timedelta(days=7)),
    (re.compile(rf"下(?:个)?(?:周|星期|礼拜)({_ZH_WD})"), lambda m, r: _next_week(r, ZH_WEEKDAYS[m[1]])),
    (re.compile(rf"(?:本|这)?(?:个)?(?:周|星期|礼拜)({_ZH_WD})"), lambda m, r: _after(r, ZH_WEEKDAYS[m[1]])),
    (re.compile(rf"({_ZH_NUM})月({_ZH_NUM})[日号]"), lambda m, r: _month_day(r, _zh_number(m[1]), _zh_number(m[2]))),
    (re.compile(rf"({_ZH_NUM})[日号]"), lambda m, r: _day_of_month(r, _zh_number(m[1]))),
    (re.compile(rf"过({_ZH_NUM})(?:个)?(天|周|星期|礼拜|月)"), lambda m, r: r + _offset(_zh_number(m[1]), m[2])),
    (re.compile(rf"({_ZH_NUM}|半)(?:个)?(天|周|星期|礼拜|月)(?:以?后|之后)"),
     lambda m, r: r + (timedelta(days=15) if m[1] == "半" else _offset(_zh_number(m[1]), m[2]))),
    (re.compile(r"下(?:个)?(?:周|星期|礼拜)"), lambda m, r: _monday(r) + timedelta(days=7)),
    (re.compile(r"(?:这|本)?周末"), lambda m, r: _after(r, 5)),
    (re.compile(rf"({_ZH_NUM})月(?:底|末)"), lambda m, r: _month_end(r, _zh_number(m[1]))),
    (re.compile(rf"({_ZH_NUM})月中"), lambda m, r: _month_day(r, _zh_number(m[1]), 15)),
    (re.compile(r"(?:这个月|本月)?月底"), lambda m, r: _end_of_month(r)),
    (re.compile(r"(?:这个月|本月)?月中"), lambda m, r: _day_of_month(r, 15)),
    (re.compile(r"下(?:个)?月"), lambda m, r: _next_month(r)),
]


def _short_weekday(text: str) -> int:
    return next(i for i, name in enumerate(EN_WEEKDAYS) if name.startswith(text.lower()[:3]))


def _month_index(name: str) -> int:
    return next(i for i, m in enumerate(EN_MONTHS, start=1) if m.startswith(name.lower()[:3]))


def find_dates(text: str, reference: date) -> list[DateMention]:
    """Every date mention in ``text`` (English and Chinese rules), earliest first, no overlaps.

    >>> [m.day.isoformat() for m in find_dates("下周三见，或者3月5日。", date(2025, 3, 3))]
    ['2025-03-12', '2025-03-05']
    """
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for pattern, resolve in _EN_RULES + _ZH_RULES:
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            try:
                day = resolve(match, reference)
            except (ValueError, KeyError):
                day = None
            if day is not None:
                found.append(DateMention(day, match.group(), match.start(), match.end()))
                taken.append((match.start(), match.end()))
    return sorted(found, key=lambda m: m.start)
