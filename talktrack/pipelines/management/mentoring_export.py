"""The monthly mentoring-points export for HR: a CSV, and a webhook POST with retry and backoff.

An export is a month's ledger: one row per mentor (confirmed sessions, points earned, points reversed,
net) and the entries behind them. Its ``export_id`` is the month and a hash of those rows
(``MX-2026-11-3f9a0c12d4e5``), so exporting the same month twice without a change is the same export:
it is stored once, delivered once, and the webhook receives it with ``Idempotency-Key: <export_id>``
on every try, so a repeat never pays twice. A reversal booked later changes the month it is booked in,
so that month's next export gets a new id.

A delivery that fails after its tries (:mod:`talktrack.pipelines.webhooks`) is recorded (``failed``,
the tries, the last error) and retried by :func:`retry_exports` (``talktrack mentoring export --retry``).

Example::

    export = create_export(catalog, settings, "2026-11", actor="cli:hr", url="https://hr.example/hook")
    write_csv(export["payload"], Path("mentoring-2026-11.csv"))
    deliver_export(catalog, settings, export["export_id"], actor="cli:hr")
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema.mentoring import MentoringEvent, MentoringExport
from talktrack.core.clock import utcnow
from talktrack.core.config import Settings
from talktrack.pipelines.management.mentoring import MentoringNotFound, ledger
from talktrack.pipelines.webhooks import post_json

CSV_COLUMNS = ("month", "rep_id", "rep_name", "team", "sessions", "earned", "reversed", "net")
RETRIED = ("pending", "failed")


def export_payload(catalog: Catalog, settings: Settings, month: str) -> dict:
    """What HR receives for ``month`` (its id included)."""
    book = ledger(catalog, month=month)
    rules = settings.management.mentoring
    rows = [{"month": month, **{k: r[k] for k in CSV_COLUMNS[1:]}} for r in book["reps"]]
    entries = [{k: e[k] for k in ("id", "session_id", "rep_id", "kind", "points", "reverses", "at")}
               for e in book["entries"]]
    digest = hashlib.sha256(json.dumps([rows, entries], sort_keys=True).encode("utf-8")).hexdigest()[:12]
    return {"export_id": f"MX-{month}-{digest}", "month": month, "source": "talktrack mentoring points",
            "rules": {"points_per_session": rules.points_per_session, "monthly_cap": rules.monthly_cap},
            "total_points": book["total_points"], "rows": rows, "entries": entries}


def write_csv(payload: dict, path: Path) -> Path:
    """One line per mentor (``CSV_COLUMNS``), UTF-8 with a BOM so spreadsheet programs read Chinese names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(payload["rows"])
    return path


def create_export(catalog: Catalog, settings: Settings, month: str, *, actor: str, url: str | None = None) -> dict:
    """The month's export, stored once per ``export_id`` (``pending`` delivery when a webhook URL is known)."""
    payload = export_payload(catalog, settings, month)
    url = url or settings.management.mentoring.webhook.url
    now = utcnow()
    with catalog.session() as session:
        row = session.get(MentoringExport, payload["export_id"])
        if row is None:
            row = MentoringExport(export_id=payload["export_id"], month=month, payload=payload,
                                  status="pending" if url else "csv_only", url=url, attempts=0, created_at=now,
                                  created_by=actor)
            session.add(row)
            session.add(MentoringEvent(export_id=row.export_id, action="exported", actor=actor, at=now,
                                       detail={"month": month, "rows": len(payload["rows"]), "url": url,
                                               "total_points": payload["total_points"]}))
        elif url and row.status == "csv_only":
            row.status, row.url = "pending", url
        return _export_dict(row)


def deliver_export(catalog: Catalog, settings: Settings, export_id: str, *, actor: str,
                   sleep: Callable[[float], None] = time.sleep) -> dict:
    """POST the export to its URL (with retries); a delivered export is never sent again."""
    hook = settings.management.mentoring.webhook
    with catalog.session() as session:
        row = session.get(MentoringExport, export_id)
        if row is None:
            raise MentoringNotFound(f"mentoring export {export_id!r} does not exist")
        if row.status == "delivered" or not row.url:
            return _export_dict(row)
        url, payload = row.url, row.payload
    delivery = post_json(url, payload, idempotency_key=export_id, attempts=hook.attempts, backoff_s=hook.backoff_s,
                         max_backoff_s=hook.max_backoff_s, timeout_s=hook.timeout_s, sleep=sleep)
    now = utcnow()
    with catalog.session() as session:
        row = session.get(MentoringExport, export_id, with_for_update=True)
        row.attempts += delivery.attempts
        row.last_attempt_at = now
        row.status = "delivered" if delivery.ok else "failed"
        row.last_error = delivery.error
        row.delivered_at = now if delivery.ok else None
        session.add(MentoringEvent(export_id=export_id, action="delivered" if delivery.ok else "delivery_failed",
                                   actor=actor, at=now, detail={"url": url, "tries": delivery.tries,
                                                                "status": delivery.status, "error": delivery.error}))
        return _export_dict(row)


def retry_exports(catalog: Catalog, settings: Settings, *, actor: str,
                  sleep: Callable[[float], None] = time.sleep) -> list[dict]:
    """Deliver every export still pending or failed (oldest first)."""
    with catalog.session() as session:
        ids = session.execute(select(MentoringExport.export_id).where(MentoringExport.status.in_(RETRIED))
                              .order_by(MentoringExport.created_at, MentoringExport.export_id)).scalars().all()
    return [deliver_export(catalog, settings, export_id, actor=actor, sleep=sleep) for export_id in ids]


def list_exports(catalog: Catalog, month: str | None = None) -> list[dict]:
    query = select(MentoringExport).order_by(MentoringExport.created_at.desc())
    if month is not None:
        query = query.where(MentoringExport.month == month)
    with catalog.session() as session:
        return [_export_dict(row) for row in session.execute(query).scalars()]


def _export_dict(row: MentoringExport) -> dict:
    stamp = lambda t: t.isoformat(timespec="seconds") if t else None  # noqa: E731
    return {"export_id": row.export_id, "month": row.month, "status": row.status, "url": row.url,
            "attempts": row.attempts, "last_error": row.last_error, "created_at": stamp(row.created_at),
            "created_by": row.created_by, "last_attempt_at": stamp(row.last_attempt_at),
            "delivered_at": stamp(row.delivered_at), "rows": len(row.payload["rows"]),
            "total_points": row.payload["total_points"], "payload": row.payload}
