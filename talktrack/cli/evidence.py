"""CLI commands of the semantic layer: evidence (registered on the main app by :func:`register`).

``talktrack evidence verify --deal ID FILE|TEXT`` checks one document; ``talktrack evidence
scan`` checks every deal's evidence and lists the deals that fake progress.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from talktrack.cli.context import AppContext, fail
from talktrack.cli.progress import progress_hook

evidence_app = typer.Typer(help="Check the evidence behind claimed progress (fake progress, 假推进).",
                           no_args_is_help=True)
VERDICT_STYLE = {"authentic": "green", "suspicious": "yellow", "fabricated": "red"}


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``talktrack`` app."""
    app.add_typer(evidence_app, name="evidence")



def _document_text(source: str) -> str:
    """A path that exists is read as a document; anything else is the text itself."""
    from talktrack.models.documents import DocumentError, read_document

    path = Path(source)
    try:
        is_file = len(source) < 1024 and path.exists()
    except OSError:
        is_file = False
    if not is_file:
        return source
    try:
        return read_document(path)
    except DocumentError as exc:
        fail(str(exc))
    raise AssertionError("unreachable")


@evidence_app.command("verify")
def verify_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="A .txt/.md/.pdf/.docx file, or the text itself.")],
    deal: Annotated[str, typer.Option("--deal", help="The deal the evidence is for (e.g. DEAL-00042).")],
    kind: Annotated[str, typer.Option(help="Evidence kind (meeting_notes, call_summary, proposal, calendar, ...).")]
    = "meeting_notes",
    submitted_at: Annotated[str | None, typer.Option("--submitted-at", help="When it was submitted (ISO); "
                                                     "enables the check for a call nearby.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Score one document: does it carry this customer's specifics, or is it a template or a copy?"""
    from talktrack.pipelines.semantic.evidence import EvidenceError, verify_evidence

    app: AppContext = ctx.obj
    if kind not in app.settings.evidence_kinds:
        fail(f"--kind {kind!r} is not one of: {', '.join(app.settings.evidence_kinds)}")
    when = _parse_time(submitted_at)
    text = _document_text(source)
    document = Path(source) if source.lower().endswith(".pdf") and Path(source).is_file() else None
    try:
        verdict = verify_evidence(app.catalog, app.settings, app.workspace, deal, text, submitted_at=when, kind=kind,
                                  document=document)
    except EvidenceError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_verdict(app.console, verdict)


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        fail(f"--submitted-at {value!r} is not an ISO date/time (e.g. 2025-03-04T15:00)")
    raise AssertionError("unreachable")


def _print_verdict(console: Console, verdict) -> None:
    style = VERDICT_STYLE[verdict.verdict]
    console.print(f"deal {verdict.deal_id}: [bold {style}]{verdict.verdict}[/] (score {verdict.score:.2f}, "
                  f"specificity {verdict.specificity:.2f})")
    for reason in verdict.reasons:
        mark = "+" if reason.effect == "support" else "-"
        console.print(f" {mark} {reason.message}", highlight=False, markup=False)
        for passage in reason.passages[:6]:
            where = f"{passage.source} {passage.ref}"
            if passage.start_s is not None:
                where += f" @{passage.start_s:.1f}s ({passage.role})"
            console.print(f"     {where}: {passage.text}", highlight=False, markup=False)


@evidence_app.command("scan")
def scan_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the flagged deals (and counts) as JSON.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="List every deal, not only the flagged ones.")] = False,
) -> None:
    """Check every deal's evidence and list the deals whose claimed progress rests on fabricated evidence."""
    from talktrack.pipelines.semantic.evidence import verify_all

    app: AppContext = ctx.obj
    console = Console(stderr=True, quiet=True) if as_json else app.console
    with progress_hook(console) as hook:
        reports = verify_all(app.catalog, app.settings, app.workspace, progress=hook)
    listed = reports if show_all else [r for r in reports if r.fake_progress]
    if as_json:
        summary = {"deals": len(reports), "flagged": sum(r.fake_progress for r in reports),
                   "documents": sum(len(r.items) for r in reports),
                   "reports": [_scan_row(r) for r in listed]}
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    _print_scan(app.console, reports, listed)


def _scan_row(report) -> dict:
    return {"deal_id": report.deal_id, "fake_progress": report.fake_progress,
            "claimed_progress_level": report.claimed_progress_level,
            "backed_progress_level": report.backed_progress_level, "counts": report.counts(),
            "reasons": report.reasons, "levels": report.levels,
            "items": [{"evidence_id": i.evidence_id, "kind": i.kind, "verdict": i.verdict, "score": round(i.score, 4),
                       "copy_of": i.copy_of, "reasons": [r.code for r in i.reasons if r.effect == "against"]}
                      for i in report.items]}


def _print_scan(console: Console, reports, listed) -> None:
    table = Table(title=f"Evidence: {sum(r.fake_progress for r in reports)} of {len(reports)} deals fake progress")
    table.add_column("deal", no_wrap=True)
    for column in ("claimed", "backed", "ok", "susp.", "fab."):
        table.add_column(column)
    table.add_column("why (first flagged item)")
    for report in listed:
        counts = report.counts()
        why = _first_flag(report)
        table.add_row(report.deal_id, report.claimed_progress_level or "-", report.backed_progress_level or "-",
                      str(counts["authentic"]), str(counts["suspicious"]), str(counts["fabricated"]), why)
    console.print(table)


def _first_flag(report) -> str:
    """``EV-000022: copy of EV-000130`` or the codes against the first flagged item."""
    item = next((i for i in report.items if i.verdict != "authentic"), None)
    if item is None:
        return ""
    if item.copy_of:
        return f"{item.evidence_id}: copy of {item.copy_of}"
    return f"{item.evidence_id}: " + ", ".join(r.code for r in item.reasons if r.effect == "against")
