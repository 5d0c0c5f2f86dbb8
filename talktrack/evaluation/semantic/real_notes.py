"""Field notes graded on hand-written notes (``real_phrasing/field_notes.yaml``), field by field.

A sales manager reads a note for four things, so each is graded on its own and then together:

- ``objections``: the objection types raised (a set per note);
- ``people``: each decision-chain person as (name, role); a person given only by a title
  ("the board", "dispatch supervisors") is keyed by the title;
- ``titles``: each person's title, as (person, title);
- ``next_action_date``: the date of the next action (a note without one counts only when a
  date is made up).

Each field is micro-averaged over the notes of a language (true positives, false positives and
false negatives summed), and ``field_f1`` sums all four fields' counts: the issue's "field-level
F1". Names and titles match after case folding, dropping honorifics (Dr., Mr.) and a leading
article, because "dr. sam patel" and "Sam Patel" are the same person to a manager.

Example::

    report = evaluate_real_notes(detector, split="test")
    report["by_language"]["en"]["field_f1"]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from talktrack.evaluation.real_phrasing import load
from talktrack.models.moments.notes import FieldNotes, extract_notes

FIELDS = ("objections", "people", "titles", "next_action_date")
TARGET_FIELD_F1 = 0.85  # issue 16, per language on the test split
LANGUAGES = ("en", "zh")
_HONORIFIC = re.compile(r"^(?:dr|mr|mrs|ms|prof)\.?\s+|^(?:the|our|their|his|her)\s+", re.I)

Reader = Callable[[str, date], FieldNotes]


def evaluate_real_notes(detector, *, split: str = "test", reader: Reader | None = None) -> dict:
    """Per language: each field's precision/recall/F1, the all-fields F1, and the notes that missed.

    ``reader``: how a note is read (default: :func:`extract_notes` with ``detector``).
    """
    reader = reader or (lambda text, day: extract_notes(text, detector, day))
    report: dict = {"set": "field_notes", "split": split, "by_language": {}}
    for language in LANGUAGES:
        items = load("field_notes", split=split, lang=language)
        counts = {name: [0, 0, 0] for name in FIELDS}
        misses = []
        for item in items:
            got = reader(item["text"], date.fromisoformat(item["reference_date"]))
            item_counts = grade_note(item, got)
            for name in FIELDS:
                counts[name] = [a + b for a, b in zip(counts[name], item_counts[name], strict=True)]
            if any(c[1] or c[2] for c in item_counts.values()):
                misses.append(_miss(item, got))
        fields = {name: _prf(*counts[name]) for name in FIELDS}
        total = [sum(counts[name][i] for name in FIELDS) for i in range(3)]
        report["by_language"][language] = {"notes": len(items), "field_f1": _prf(*total)["f1"],
                                           "fields": fields, "misses": misses}
    return report


def notes_report(settings, workspace) -> dict:
    """What ``talktrack eval semantic`` keeps: both splits read with the workspace's detector, targets on test."""
    from talktrack.pipelines.semantic.moments import load_detector

    detector = load_detector(settings, workspace)
    test = evaluate_real_notes(detector, split="test")
    dev = evaluate_real_notes(detector, split="dev")
    for by_language in dev["by_language"].values():
        by_language.pop("misses")
    targets = {language: {"value": r["field_f1"], "target": f">= {TARGET_FIELD_F1}",
                          "met": r["field_f1"] >= TARGET_FIELD_F1} for language, r in test["by_language"].items()}
    return {"test": test, "dev": dev, "targets": targets, "detector": detector.version}


def field_notes_figures(settings) -> dict:
    """What ``talktrack bench real-phrasing`` keeps of the notes: field F1 and each field's F1 per language,
    on test and dev, read with the zero-shot detector (what a service uses before any training) and with
    the cues alone, so that the detector's share shows."""
    from talktrack.models.moments.notes import DETECTOR_MIN_SCORE
    from talktrack.pipelines.semantic.moments import fit_detector, moment_embedder

    detector = fit_detector(settings, moment_embedder(settings, None))
    figures: dict = {"target": TARGET_FIELD_F1, "detector_min_score": DETECTOR_MIN_SCORE}
    for reader_name, reader_detector in (("zero_shot", detector), ("cues_only", None)):
        for split in ("test", "dev"):
            report = evaluate_real_notes(reader_detector, split=split)["by_language"]
            figures[f"{reader_name}_{split}"] = {
                language: {"notes": r["notes"], "field_f1": r["field_f1"],
                           **{name: r["fields"][name]["f1"] for name in FIELDS}} for language, r in report.items()}
    return figures


def grade_note(item: dict, got: FieldNotes) -> dict[str, tuple[int, int, int]]:
    """(true positives, false positives, false negatives) of each field for one note."""
    want_people = item.get("people") or []
    got_people = [p.to_dict() for p in got.people]
    gold_action = item.get("next_action") or {}
    got_date = got.next_action.date if got.next_action else None
    want_date = gold_action.get("date")
    return {
        "objections": _set_counts(set(item.get("objections") or []), {o["type"] for o in got.objections}),
        "people": _set_counts({(_key(p), p["role"]) for p in want_people}, {(_key(p), p["role"]) for p in got_people}),
        "titles": _set_counts({(_key(p), _norm(p["title"])) for p in want_people if p.get("title")},
                              {(_key(p), _norm(p["title"])) for p in got_people if p.get("title")}),
        "next_action_date": _date_counts(want_date, got_date),
    }


def _key(person: dict) -> str:
    return _norm(person.get("name") or person.get("title") or "")


def _norm(text: str | None) -> str:
    text = re.sub(r"\s+", " ", (text or "").strip().lower())
    return _HONORIFIC.sub("", text).strip(" .,;:")


def _set_counts(want: set, got: set) -> tuple[int, int, int]:
    return len(want & got), len(got - want), len(want - got)


def _date_counts(want: str | None, got: str | None) -> tuple[int, int, int]:
    if want is None:
        return 0, int(got is not None), 0
    if got == want:
        return 1, 0, 0
    return 0, int(got is not None), 1


def _prf(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn}


def _miss(item: dict, got: FieldNotes) -> dict:
    return {"id": item["id"],
            "objections": {"want": sorted(item.get("objections") or []), "got": sorted({o["type"] for o in got.objections})},
            "people": {"want": [(p.get("name"), p.get("title"), p["role"]) for p in item.get("people") or []],
                       "got": [(p.name, p.title, p.role) for p in got.people]},
            "date": {"want": (item.get("next_action") or {}).get("date"),
                     "got": got.next_action.date if got.next_action else None}}
