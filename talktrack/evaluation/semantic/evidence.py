"""Evidence authenticity graded against a world's truth: fakes caught, authentic notes flagged.

Per document (notes and summaries, proposals, calendar invites) and per deal, per language:
the detection rate of template and copied evidence (separately and together), the
false-alarm rate on authentic evidence, and for caught copies how often the named
source is the true one. "Flagged" means a verdict other than authentic; the
``fabricated`` block counts only fabricated verdicts. Target (issue 4): fake evidence
>= 95% detected at <= 5% false alarms.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

from talktrack.pipelines.semantic.evidence import DealEvidenceReport, verify_all

NOTE_KINDS = ("meeting_notes", "call_summary")
TARGET_DETECTION, TARGET_FALSE_ALARMS = 0.95, 0.05


def evaluate_evidence(world_dir: Path, catalog, settings, workspace, progress=None,
                      reports: list[DealEvidenceReport] | None = None) -> dict:
    """Run :func:`verify_all` (unless ``reports`` are given) and compare with ``truth.json``."""
    world_dir = Path(world_dir)
    truth = json.loads((world_dir / "truth.json").read_text(encoding="utf-8"))
    language = _deal_languages(world_dir)
    reports = reports if reports is not None else verify_all(catalog, settings, workspace, progress=progress)
    items = [(item, truth["evidence"].get(item.evidence_id)) for report in reports for item in report.items]
    items = [(item, t) for item, t in items if t is not None]
    documents = {group: _document_block(rows, language)
                 for group, rows in _document_groups(items).items()}
    deals = _deal_block(reports, truth, language)
    notes, deal_all = documents["notes"]["all"], deals["all"]
    return {
        "documents": documents,
        "deals": deals,
        "targets": {"detection_min": TARGET_DETECTION, "false_alarm_max": TARGET_FALSE_ALARMS,
                    "notes_met": notes["fake"]["rate"] >= TARGET_DETECTION
                    and notes["authentic"]["rate"] <= TARGET_FALSE_ALARMS,
                    "deals_met": deal_all["fake"]["rate"] >= TARGET_DETECTION
                    and deal_all["authentic"]["rate"] <= TARGET_FALSE_ALARMS},
        "options": settings.semantic.evidence.model_dump(),
    }


def _deal_languages(world_dir: Path) -> dict[str, str]:
    with open(world_dir / "customers.csv", encoding="utf-8") as handle:
        customers = {row["customer_id"]: row["language"] for row in csv.DictReader(handle)}
    with open(world_dir / "deals.csv", encoding="utf-8") as handle:
        return {row["deal_id"]: customers.get(row["customer_id"], "?") for row in csv.DictReader(handle)}


def _document_groups(items: list) -> dict[str, list]:
    groups = {"notes": [], "proposal": [], "calendar": [], "all": []}
    for item, t in items:
        kind = "notes" if t["kind"] in NOTE_KINDS else t["kind"]
        if kind in groups:
            groups[kind].append((item, t))
        groups["all"].append((item, t))
    return groups


def _document_block(rows: list, language: dict[str, str]) -> dict:
    by_language = defaultdict(list)
    for item, t in rows:
        by_language[language.get(t["deal_id"], "?")].append((item, t))
    block = {"all": _rates(rows)}
    block.update({lang: _rates(lang_rows) for lang, lang_rows in sorted(by_language.items())})
    return block


def _rates(rows: list) -> dict:
    def share(selected, flagged) -> dict:
        hits = sum(1 for item, _ in selected if flagged(item))
        return {"n": len(selected), "flagged": hits, "rate": round(hits / len(selected), 4) if selected else 0.0}

    flagged = lambda item: item.verdict != "authentic"  # noqa: E731
    fabricated = lambda item: item.verdict == "fabricated"  # noqa: E731
    template = [(i, t) for i, t in rows if t["authenticity"] == "template"]
    copied = [(i, t) for i, t in rows if t["authenticity"] == "copied"]
    authentic = [(i, t) for i, t in rows if t["authenticity"] == "authentic"]
    caught = [(i, t) for i, t in copied if i.copy_of]
    return {
        "template": share(template, flagged), "copied": share(copied, flagged), "fake": share(template + copied, flagged),
        "authentic": share(authentic, flagged),
        "fabricated": {"fake": share(template + copied, fabricated), "authentic": share(authentic, fabricated)},
        "copy_source_correct": share(caught, lambda i: True) | {
            "correct": sum(i.copy_of == t["source_evidence_id"] for i, t in caught)},
    }


def _deal_block(reports: list[DealEvidenceReport], truth: dict, language: dict[str, str]) -> dict:
    flagged = {r.deal_id: r.fake_progress for r in reports}
    rows = [(deal_id, t["fake_progress"], flagged[deal_id]) for deal_id, t in truth["deals"].items()
            if deal_id in flagged]
    without_evidence = sum(1 for deal_id, t in truth["deals"].items() if t["fake_progress"] and deal_id not in flagged)
    block = {"all": _deal_rates(rows), "fake_deals_without_evidence": without_evidence}
    for lang in sorted({language.get(d, "?") for d, _, _ in rows}):
        block[lang] = _deal_rates([r for r in rows if language.get(r[0], "?") == lang])
    return block


def _deal_rates(rows: list) -> dict:
    fake = [flag for _, is_fake, flag in rows if is_fake]
    honest = [flag for _, is_fake, flag in rows if not is_fake]
    return {"fake": {"n": len(fake), "flagged": sum(fake), "rate": round(sum(fake) / len(fake), 4) if fake else 0.0},
            "authentic": {"n": len(honest), "flagged": sum(honest),
                          "rate": round(sum(honest) / len(honest), 4) if honest else 0.0}}
