"""Write a generated world in the CRM import format (docs/import-format.md).

Bytes are a pure function of the records: fixed column order, ``\\n`` line ends,
UTF-8 without BOM, ISO dates, ``true``/``false``, floats as Python writes them after
rounding, JSON with sorted keys.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

from talktrack.evaluation.world.contracts import PRODUCT_LINES
from talktrack.evaluation.world.lexicon import lexicon
from talktrack.evaluation.world.records import Call, Course, Customer, Deal, Evidence, Rep, Survey, Team

TRANSCRIPT_SCHEMA = "talktrack.transcript/1"
COLUMNS = {
    "teams": ("team_id", "name", "region", "manager_id"),
    "reps": ("rep_id", "name", "email", "team_id", "role", "language", "hired_at"),
    "customers": ("customer_id", "name", "industry", "employees", "purchase_frequency", "open_positions",
                  "sentiment", "region", "language", "created_at"),
    "deals": ("deal_id", "customer_id", "rep_id", "title", "amount", "currency", "created_at", "stage", "status",
              "closed_at", "progress_level", "payment_terms_days", "discount_pct", "standard_contract"),
    "stage_events": ("deal_id", "stage", "entered_at"),
    "calls": ("call_id", "deal_id", "rep_id", "customer_id", "started_at", "duration_s", "language", "channel",
              "stage", "audio_path", "transcript_path"),
    "evidence": ("evidence_id", "deal_id", "kind", "progress_level", "submitted_at", "title", "text"),
    "surveys": ("rep_id", "period", "dimension", "source", "score", "respondents"),
    "courses": ("course_id", "title", "dimension", "language", "duration_h", "url"),
    "product_lines": ("product_line", "name_en", "name_zh", "gross_margin"),
    "contracts": ("contract_id", "deal_id", "customer_id", "rep_id", "amount", "currency", "discount_pct",
                  "payment_terms_days", "contract_type", "product_line", "renewal_of", "signed_at"),
    "collections": ("collection_id", "contract_id", "received_at", "amount", "currency"),
    "marketing_spend": ("source", "month", "amount", "currency"),
    "leads": ("lead_id", "source", "created_at", "status", "rep_id", "customer_id", "deal_id"),
    "visits": ("visit_id", "rep_id", "customer_id", "visited_on", "logged"),
    "field_entries": ("entity", "record_id", "field", "entry", "captured_from"),
}
MANAGEMENT_FILES = ("product_lines", "contracts", "collections", "marketing_spend", "leads", "visits", "field_entries")
OUTPUT_FILES = ("teams.csv", "reps.csv", "customers.csv", "deals.csv", "stage_events.csv", "calls.csv",
                "evidence.jsonl", "surveys.csv", "courses.csv", "truth.json", "README.md",
                *(f"{name}.csv" for name in MANAGEMENT_FILES))


def cell(value: Any) -> str:
    """One CSV cell: empty for None, ISO for dates, true/false for booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell(value) for value in row])
            count += 1
    return count


def write_jsonl(path: Path, records: Iterable[dict]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


def write_json(path: Path, data: Any, depth: int = 2) -> None:
    """JSON with sorted keys, laid out one line per item down to ``depth`` levels."""
    path.write_text(dumps_layered(data, depth) + "\n", encoding="utf-8", newline="\n")


def dumps_layered(value: Any, depth: int, indent: int = 0) -> str:
    """Pretty-print the top ``depth`` levels and keep what is below on one line each.

    ``json.dumps(indent=...)`` falls back to the pure-Python encoder, about 10x slower
    than the compact C encoder used here for every leaf line.
    """
    if depth == 0 or not isinstance(value, (dict, list)) or not value:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(key, ensure_ascii=False)}: {dumps_layered(value[key], depth - 1, indent + 2)}"
                 for key in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + dumps_layered(item, depth - 1, indent + 2) for item in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def team_rows(teams: list[Team]) -> Iterable[tuple]:
    return ((t.team_id, t.name, t.region, t.manager_id or None) for t in teams)


def rep_rows(reps: list[Rep]) -> Iterable[tuple]:
    return ((r.rep_id, r.name, r.email, r.team_id, r.role, r.language, r.hired_at) for r in reps)


def customer_rows(customers: list[Customer]) -> Iterable[tuple]:
    return ((c.customer_id, c.name, c.industry, c.employees, c.purchase_frequency, c.open_positions, c.sentiment,
             c.region, c.language, c.created_at) for c in customers)


def deal_rows(deals: list[Deal]) -> Iterable[tuple]:
    return ((d.deal_id, d.customer_id, d.rep_id, d.title, d.amount, d.currency, d.created_at, d.stage, d.status,
             d.closed_at, d.progress_level or None, d.payment_terms_days, d.discount_pct, d.standard_contract)
            for d in deals)


def stage_event_rows(deals: list[Deal]) -> Iterable[tuple]:
    return ((d.deal_id, stage, entered) for d in deals for stage, entered in d.stage_events)


def call_rows(calls: list[Call]) -> Iterable[tuple]:
    return ((c.call_id, c.deal_id, c.rep_id, c.customer_id, c.started_at, c.duration_s, c.language, c.channel,
             c.stage, c.audio_path or None, transcript_path(c)) for c in calls)


def transcript_path(call: Call) -> str:
    return f"transcripts/{call.call_id}.json"


def evidence_records(evidence: list[Evidence]) -> Iterable[dict]:
    return ({"evidence_id": e.evidence_id, "deal_id": e.deal_id, "kind": e.kind, "progress_level": e.progress_level,
             "submitted_at": cell(e.submitted_at), "title": e.title, "text": e.text} | ({"path": e.path} if e.path else {})
            for e in evidence)


def survey_rows(surveys: list[Survey]) -> Iterable[tuple]:
    return ((s.rep_id, s.period, s.dimension, s.source, s.score, s.respondents) for s in surveys)


def course_rows(courses: list[Course]) -> Iterable[tuple]:
    return ((c.course_id, c.title, c.dimension, c.language, c.duration_h, c.url) for c in courses)


def transcript(call: Call, seed: int) -> dict:
    """One call in the ``talktrack.transcript/1`` schema."""
    return {
        "schema": TRANSCRIPT_SCHEMA,
        "call_id": call.call_id,
        "language": call.language,
        "duration_s": call.duration_s,
        "speakers": call.speakers,
        "utterances": [{"start": u.start, "end": u.end, "speaker": u.speaker, "role": u.role, "text": u.text,
                        "language": call.language} for u in call.utterances],
        "source": {"kind": "generated", "seed": seed},
        "options": {},
        "models": {},
        "timings": {},
    }


def write_transcripts(out_dir: Path, calls: list[Call], seed: int) -> int:
    """transcripts/<call_id>.json for every call; files are written from a few threads
    because creating thousands of small files is latency-bound, not CPU-bound."""
    folder = out_dir / "transcripts"
    folder.mkdir(parents=True, exist_ok=True)
    texts = [(folder / f"{call.call_id}.json", dumps_layered(transcript(call, seed), 2) + "\n") for call in calls]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda item: item[0].write_text(item[1], encoding="utf-8", newline="\n"), texts))
    return len(calls)


def management_rows(world) -> dict[str, Iterable[tuple]]:
    """The rows of each management file (``world`` is a management.ManagementRecords)."""
    return {
        "product_lines": ((key, lexicon("en").PRODUCTS[i], lexicon("zh").PRODUCTS[i], margin)
                          for i, (key, margin) in enumerate(PRODUCT_LINES)),
        "contracts": ((c.contract_id, c.deal_id or None, c.customer_id, c.rep_id, c.amount, c.currency,
                       c.discount_pct, c.payment_terms_days, c.contract_type, c.product_line, c.renewal_of or None,
                       c.signed_at) for c in world.contracts),
        "collections": ((p.collection_id, p.contract_id, p.received_at, p.amount, p.currency)
                        for p in world.collections),
        "marketing_spend": ((s.source, s.month, s.amount, s.currency) for s in world.spend),
        "leads": ((x.lead_id, x.source, x.created_at, x.status, x.rep_id, x.customer_id or None, x.deal_id or None)
                  for x in world.leads),
        "visits": ((v.visit_id, v.rep_id, v.customer_id, v.visited_on, v.logged) for v in world.visits),
        "field_entries": ((e.entity, e.record_id, e.field, e.entry, e.captured_from or None)
                          for e in world.field_entries),
    }
