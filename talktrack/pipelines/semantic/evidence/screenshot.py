"""A calendar screenshot is checked by what it shows: this customer's name, and a date and time at
which this deal really had its conversation (or one still ahead).

"Appointment booked" (已预约) is the lowest level of "in progress", and the easiest to fake: a
screenshot of another customer's meeting, or one with the date edited. The OCR engine
(:mod:`talktrack.models.ocr`) reads the image; :mod:`talktrack.models.calendar_text` finds its
dates, clock times and how well the customer's name appears. Then:

- the customer's name is not on it (``screenshot_name_similarity``): another customer's
  calendar → fabricated;
- a date and start time within ``screenshot_time_tolerance_min`` of a recorded conversation of
  this deal (its calls, ``calendar_utc_offset_h`` apart from the catalog's UTC) → authentic, the
  conversation named;
- a date and time still ahead of the check → authentic (booked, not yet held);
- otherwise (past, and no conversation then; or no date/time readable) → suspicious, the reason
  says which: the deal stays below "scheduled".

Like the watermark of a proposal (:mod:`.watermark`), the finding is folded into the verdict of
the document's text, if it has one; a screenshot alone starts from "nothing checkable".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from talktrack.core.clock import utcnow
from talktrack.core.config import EvidenceSettings
from talktrack.models.calendar_text import CalendarReading, name_similarity, read_calendar
from talktrack.models.ocr import OcrInputError, OcrUnavailable, read_text
from talktrack.pipelines.semantic.evidence.records import EvidenceVerdict, Reason
from talktrack.pipelines.semantic.evidence.sources import CustomerFacts, EvidenceRow, Passage

SCREENSHOT_KINDS = frozenset({"calendar"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
OCR_LANGUAGES = {"en": ("eng",), "zh": ("chi_sim", "eng")}
FLAGGED_SCORE, UNSURE_SCORE, NOTHING_CHECKABLE_SCORE = 0.05, 0.35, 0.35


def screenshot_file(kind: str | None, path: str | Path | None) -> Path | None:
    """The image to read, when the evidence is a calendar screenshot on disk."""
    if kind not in SCREENSHOT_KINDS or not path or Path(path).suffix.lower() not in IMAGE_SUFFIXES:
        return None
    return Path(path) if Path(path).is_file() else None


@dataclass(frozen=True)
class CalendarCheck:
    """What the screenshot showed and what it matched. ``code``: calendar_matches_call |
    calendar_upcoming | calendar_other_customer | calendar_no_meeting | calendar_unreadable."""

    code: str
    message: str
    reading: CalendarReading | None
    name_similarity: float
    meeting: datetime | None = None  # the date and time read that decided it, in the catalog's UTC
    call_id: str | None = None

    @property
    def genuine(self) -> bool:
        return self.code in ("calendar_matches_call", "calendar_upcoming")


def ocr_languages(language: str | None) -> tuple[str, ...]:
    """Tesseract packs for a customer's language (Chinese screenshots carry Latin digits and names too)."""
    return OCR_LANGUAGES.get(language or "", ("chi_sim", "eng"))


def check_calendar(facts: CustomerFacts, deal_id: str, path: Path, settings: EvidenceSettings, *,
                   now: datetime | None = None, submitted_at: datetime | None = None) -> CalendarCheck:
    """Read ``path`` and match it against this customer's name and this deal's conversations (a date shown
    without its year, as Google Calendar and WeCom do, is taken in the year it was handed in)."""
    now = now or utcnow()
    try:
        text = read_text(path, ocr_languages(facts.language)).text
    except (OcrUnavailable, OcrInputError) as exc:
        return CalendarCheck("calendar_unreadable", f"the screenshot could not be read: {exc}", None, 0.0)
    reading = read_calendar(text, default_year=(submitted_at or now).year)
    return match_calendar(reading, facts, deal_id, settings, now=now)


def match_calendar(reading: CalendarReading, facts: CustomerFacts, deal_id: str, settings: EvidenceSettings, *,
                   now: datetime) -> CalendarCheck:
    """The decision on what was read (separate from OCR, so it can be checked on text)."""
    similarity = name_similarity(facts.name, reading.text)
    if similarity < settings.screenshot_name_similarity:
        return CalendarCheck("calendar_other_customer", f"the screenshot does not show this customer's name "
                             f"{facts.name!r} (best likeness {similarity:.2f})", reading, similarity)
    if not reading.complete:
        return CalendarCheck("calendar_unreadable", "no date and time could be read on the screenshot "
                             f"(dates {len(reading.dates)}, times {len(reading.times)})", reading, similarity)
    offset, tolerance = timedelta(hours=settings.calendar_utc_offset_h), \
        timedelta(minutes=settings.screenshot_time_tolerance_min)
    shown = [datetime.combine(day, at) - offset for day in reading.dates for at in reading.times]
    calls = facts.calls_of_deal(deal_id)
    for moment in shown:
        call = next((c for c in calls if abs(c.started_at - moment) <= tolerance), None)
        if call is not None:
            return CalendarCheck("calendar_matches_call", f"shows {facts.name} on {moment:%Y-%m-%d %H:%M} (UTC), "
                                 f"when call {call.call_id} of this deal took place", reading, similarity, moment,
                                 call.call_id)
    ahead = [m for m in shown if m > now]
    if ahead:
        return CalendarCheck("calendar_upcoming", f"shows {facts.name} on {ahead[0]:%Y-%m-%d %H:%M} (UTC), still ahead",
                             reading, similarity, ahead[0])
    return CalendarCheck("calendar_no_meeting", f"shows {facts.name} on {shown[0]:%Y-%m-%d %H:%M} (UTC), but this deal "
                         f"had no conversation within {settings.screenshot_time_tolerance_min:g} min of it "
                         f"({len(calls)} calls on record)", reading, similarity, shown[0])


def fold(verdict: EvidenceVerdict, check: CalendarCheck, settings: EvidenceSettings) -> EvidenceVerdict:
    """The verdict with the screenshot's finding: it decides, whatever the typed text said."""
    passages = (Passage("call", check.call_id, check.message, at=check.meeting),) if check.call_id else ()
    reason = Reason(check.code, "support" if check.genuine else "against", check.message, passages)
    if check.genuine:
        score, label = max(verdict.score, settings.authentic_min_score), "authentic"
    elif check.code == "calendar_other_customer":
        score, label = min(verdict.score, FLAGGED_SCORE), "fabricated"
    else:
        score = min(verdict.score, UNSURE_SCORE)
        label = "fabricated" if score <= settings.fabricated_max_score else "suspicious"
    return replace(verdict, reasons=[*verdict.reasons, reason], score=score, verdict=label)


def check_screenshot(verifier, verdict: EvidenceVerdict, path: Path, customer_pk: int) -> EvidenceVerdict:
    """``verdict`` (of the document's text) with the screenshot at ``path`` read and folded in."""
    check = check_calendar(verifier.facts_of(customer_pk), verdict.deal_id, path, verifier.settings,
                           submitted_at=verdict.submitted_at)
    return fold(verdict, check, verifier.settings)


def screenshot_verdict(verifier, row: EvidenceRow, path: Path) -> EvidenceVerdict:
    """The verdict on a screenshot submitted without text: nothing checkable, then what the image shows."""
    facts = verifier.facts_of(row.customer_pk)
    start = EvidenceVerdict(row.deal_id, row.evidence_id, row.kind, facts.language, NOTHING_CHECKABLE_SCORE,
                            "suspicious", 0.0, [], [], [], submitted_at=row.submitted_at,
                            options=verifier.settings.model_dump())
    check = check_calendar(facts, row.deal_id, path, verifier.settings, submitted_at=row.submitted_at)
    return fold(start, check, verifier.settings)
