"""Calendar screenshots read by OCR, graded by a generated world's truth.

For every screenshot the world drew (``truth.json`` → ``calendar_screenshots``), the real engine
reads the image and :mod:`talktrack.models.calendar_text` finds its fields. Field accuracy: the
first date read is the meeting's day, the first time read its start, and the customer's name is
found (at the gate's ``screenshot_name_similarity``; ``customer_exact``: verbatim, spaces aside).

Then the "appointment booked" decision (:func:`match_calendar`) is graded on three kinds of
screenshot, with the deal's calls and customer as the world wrote them:

- ``genuine``: the screenshot for its own deal: should be accepted;
- ``other_customer``: the same image submitted for a deal of another customer: should be flagged;
- ``doctored``: the renderer draws the same entry with the date or time moved to when this deal had
  no call (an edited screenshot), read by OCR again: should be flagged.
"""

from __future__ import annotations

import csv
import json
import time
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from talktrack.evaluation.real_phrasing import load
from talktrack.evaluation.world.calendar_shots import ShotFields, render_screenshot, render_text
from talktrack.evaluation.world.spec import child_rng
from talktrack.models.calendar_text import name_similarity, read_calendar
from talktrack.models.ocr import read_text
from talktrack.pipelines.semantic.evidence.screenshot import match_calendar, ocr_languages
from talktrack.pipelines.semantic.evidence.sources import CallRef, CustomerFacts

TARGET_FIELD_ACCURACY = 0.95
STEP_DOCTORED, STEP_REAL = 9055, 9056  # draws of this evaluation, apart from the world's own
REAL_SET = "calendar_entries"


def evaluate_calendar_ocr(world: Path, settings, *, limit: int | None = None, doctored: bool = True) -> dict:
    """OCR field accuracy and the forgery checks on ``world``'s screenshots (at most ``limit``)."""
    world = Path(world)
    truth = json.loads((world / "truth.json").read_text(encoding="utf-8"))
    shots = list(truth.get("calendar_screenshots", {}).items())[:limit]
    if not shots:
        raise ValueError(f"{world}: no calendar screenshots in truth.json (generate with --screenshots N)")
    options = settings.semantic.evidence
    facts = _world_facts(world)
    now = max(c.started_at for f in facts.values() for c in f.calls) + timedelta(days=1)
    fields_rows, decisions, seconds, misread = [], defaultdict(list), [], []
    for number, (evidence_id, shot) in enumerate(shots):
        fields, language = shot["fields"], shot["fields"]["language"]
        started = time.perf_counter()
        text = read_text(world / shot["path"], ocr_languages(language)).text
        seconds.append(time.perf_counter() - started)
        reading = read_calendar(text)
        fields_rows.append((language, _field_hits(reading, fields, options.screenshot_name_similarity)))
        wrong = [k for k in ("date", "time", "customer") if not fields_rows[-1][1][k]]
        if wrong:
            misread.append({"evidence_id": evidence_id, "fields": wrong, "dates": [str(d) for d in reading.dates[:2]],
                            "times": [t.strftime("%H:%M") for t in reading.times[:2]], "degradation": shot["degradation"]})
        own = facts[shot["deal_id"]]
        decisions["genuine"].append(match_calendar(reading, own, shot["deal_id"], options, now=now).genuine)
        other = _other_deal(shot["deal_id"], facts, number)
        decisions["other_customer"].append(not match_calendar(reading, facts[other], other, options, now=now).genuine)
        if doctored:
            moved = _doctored(fields, own, shot["deal_id"], options.screenshot_time_tolerance_min, number)
            image, _, _ = render_screenshot(moved, child_rng(STEP_DOCTORED, number))
            forged = read_calendar(read_text(image, ocr_languages(language)).text)
            decisions["doctored"].append(not match_calendar(forged, own, shot["deal_id"], options, now=now).genuine)
    return {"world": str(world), "screenshots": len(shots), "fields": _field_summary(fields_rows),
            "decisions": {k: _share(sum(v), len(v)) for k, v in decisions.items()},
            "seconds_per_image": round(sum(seconds) / len(seconds), 3), "misread": misread,
            "target_field_accuracy": TARGET_FIELD_ACCURACY,
            "options": {k: getattr(options, k) for k in ("screenshot_name_similarity", "screenshot_time_tolerance_min",
                                                         "calendar_utc_offset_h")}}


def evaluate_real_entries(settings, *, ocr: bool = True) -> dict:
    """The hand-written entries of real calendar apps and chats (``real_phrasing/calendar_entries.yaml``):
    fields read from their text, and (``ocr``) from the same lines drawn as a screenshot and read by OCR.
    Per split; the parser's formats were chosen on dev only."""
    threshold = settings.semantic.evidence.screenshot_name_similarity
    rows: dict[str, list] = defaultdict(list)
    misread = []
    for number, item in enumerate(load(REAL_SET)):
        truth = {"day": item["day"].isoformat(), "start": item["start"], "customer": item["customer"]}
        texts = {"text": item["text"]}
        if ocr:
            language = "en" if item["lang"] == "en" else "zh"
            image, _, _ = render_text(item["text"], language, child_rng(STEP_REAL, number))
            texts["ocr"] = read_text(image, ocr_languages(language)).text
        for source, text in texts.items():
            hits = _field_hits(read_calendar(text, default_year=item["submitted"].year), truth, threshold)
            rows[f"{source}_{item['split']}"].append((item["lang"], hits))
            if not (hits["date"] and hits["time"] and hits["customer"]):
                misread.append({"id": item["id"], "split": item["split"], "from": source,
                                "fields": [k for k in ("date", "time", "customer") if not hits[k]]})
    return {"set": REAL_SET, "items": len(load(REAL_SET)),
            **{name: _field_summary(selected) for name, selected in sorted(rows.items())}, "misread": misread}


def _field_hits(reading, fields: dict, min_similarity: float) -> dict[str, bool]:
    similarity = name_similarity(fields["customer"], reading.text)
    return {"date": bool(reading.dates) and reading.dates[0] == date.fromisoformat(fields["day"]),
            "time": bool(reading.times) and reading.times[0] == clock.fromisoformat(fields["start"]),
            "customer": similarity >= min_similarity, "customer_exact": similarity == 1.0}


def _field_summary(rows: list[tuple[str, dict]]) -> dict:
    def block(selected: list[dict]) -> dict:
        keys = ("date", "time", "customer", "customer_exact")
        out = {k: _share(sum(r[k] for r in selected), len(selected)) for k in keys}
        fields = [r[k] for r in selected for k in ("date", "time", "customer")]
        return out | {"field_accuracy": _share(sum(fields), len(fields)),
                      "all_three": _share(sum(r["date"] and r["time"] and r["customer"] for r in selected),
                                          len(selected))}
    languages = sorted({lang for lang, _ in rows})
    return {"all": block([r for _, r in rows])} | {lang: block([r for l, r in rows if l == lang]) for lang in languages}


def _share(part: int, whole: int) -> dict:
    return {"n": whole, "hits": part, "rate": round(part / whole, 4) if whole else None}


def _world_facts(world: Path) -> dict[str, CustomerFacts]:
    """Per deal: its customer's name and language and the deal's calls, as the world's CSVs have them."""
    customers = {r["customer_id"]: r for r in _rows(world / "customers.csv")}
    deals = {r["deal_id"]: r["customer_id"] for r in _rows(world / "deals.csv")}
    calls = defaultdict(list)
    for row in _rows(world / "calls.csv"):
        calls[row["deal_id"]].append(CallRef(row["call_id"], row["deal_id"], datetime.fromisoformat(row["started_at"])))
    return {deal: CustomerFacts(customer, customers[customer]["name"], customers[customer]["language"],
                                calls=calls[deal]) for deal, customer in deals.items()}


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _other_deal(deal_id: str, facts: dict[str, CustomerFacts], number: int) -> str:
    """A deal of another customer whose name is not almost this one's (a fair forgery test)."""
    own = facts[deal_id].name
    others = sorted(d for d, f in facts.items() if f.customer_id != facts[deal_id].customer_id and f.calls
                    and name_similarity(own, f.name) < 0.8)
    return others[number % len(others)]


def _doctored(fields: dict, facts: CustomerFacts, deal_id: str, tolerance_min: float, number: int) -> ShotFields:
    """The entry moved (by days, or by hours the same day) to when the deal had no call."""
    start = datetime.combine(date.fromisoformat(fields["day"]), clock.fromisoformat(fields["start"]))
    calls = [c.started_at for c in facts.calls_of_deal(deal_id)]
    steps = [timedelta(hours=3), timedelta(days=-2), timedelta(days=-6), timedelta(hours=-4), timedelta(days=-13)]
    for step in steps[number % len(steps):] + steps[:number % len(steps)]:
        moved = start + step
        if all(abs(moved - c) > timedelta(minutes=tolerance_min) for c in calls):
            break
    end = (moved + (datetime.combine(date.min, clock.fromisoformat(fields["end"]))
                    - datetime.combine(date.min, clock.fromisoformat(fields["start"])))).time()
    base = ShotFields(date.fromisoformat(fields["day"]), clock.fromisoformat(fields["start"]), end, fields["customer"],
                      fields["contact"], fields["language"], fields["channel"], fields["organizer"])
    return replace(base, day=moved.date(), start=moved.time(), end=end)
