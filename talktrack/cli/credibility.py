"""``talktrack management credibility``: the monthly data-credibility report as a table, JSON, HTML or PDF
(it joins the ``management`` group on import)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from talktrack.cli.context import AppContext, fail
from talktrack.cli.management import management_app

SUFFIXES = {".json": "json", ".html": "html", ".htm": "html", ".pdf": "pdf"}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


@management_app.command("credibility")
def credibility_command(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option("--month", help="YYYY-MM (default: last month, UTC).")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only this team (external id).")] = None,
    months: Annotated[int, typer.Option("--months", min=1, max=36, help="Months of trend up to --month.")] = 6,
    out: Annotated[Path | None, typer.Option("--out", help="Write the report here: .pdf, .html or .json.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
) -> None:
    """Per team and field: the share entered by hand vs captured, the cross-system check pass rates
    (stage, visit, amount), the trend, and the managers ranked by data quality."""
    from talktrack.core.clock import utcnow
    from talktrack.pipelines.management.credibility import CredibilityError, credibility_report, previous_month
    from talktrack.pipelines.management.credibility_render import to_html, to_pdf

    app: AppContext = ctx.obj
    if out is not None and out.suffix.lower() not in SUFFIXES:
        fail(f"--out {out}: the suffix says the format; expected one of {', '.join(SUFFIXES)}")
    app.require_team(team)
    try:
        report = credibility_report(app.catalog, app.settings, month=month or previous_month(utcnow().date()), team=team, months=months)
    except CredibilityError as exc:
        fail(f"--month: {exc}")
    if out is not None:
        kind = SUFFIXES[out.suffix.lower()]
        if kind == "pdf":
            out.write_bytes(to_pdf(report))
        else:
            out.write_text(to_html(report) if kind == "html" else json.dumps(report, indent=2, ensure_ascii=False),
                           encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    _print(app, report)
    if out is not None:
        app.console.print(f"wrote {out}")


def _print(app: AppContext, report: dict) -> None:
    table = Table(title=f"Data credibility {report['month']} (data quality over {report['months'][0]}..{report['month']})")
    for column in ("rank", "manager", "team", "data quality", "captured", "stage check", "visit check", "amount check"):
        table.add_column(column)
    teams = {t["team"]: t for t in report["teams"]}
    for r in report["ranking"]:
        checks = teams[r["team"]]["window"]["checks"]
        manager = r["manager"] or {}
        table.add_row(str(r["rank"]), str(manager.get("name") or manager.get("id") or "–"), r["team"], _pct(r["quality"]),
                      _pct(r["captured_share"]), *(_pct(checks[name]["pass_rate"]) for name in ("stage", "visit", "amount")))
    app.console.print(table)
