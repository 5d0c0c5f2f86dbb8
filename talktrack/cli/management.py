"""``talktrack management ...``: the director's figures from the catalog, as a table or JSON."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from talktrack.cli.context import AppContext, fail

management_app = typer.Typer(help="Management figures: healthy contract value, renewal vs new, concentration.",
                             no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(management_app, name="management")


def _day(value: str | None) -> date:
    from talktrack.core.clock import utcnow

    if value is None:
        return utcnow().date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--as-of {value!r}: expected a day as YYYY-MM-DD")


@management_app.command("revenue")
def revenue_command(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option("--team", help="Only this team (external id).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: today, UTC).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
) -> None:
    """Healthy contract value per team and month, what was excluded and why, and concentration flags."""
    from talktrack.pipelines.management.revenue import revenue_report

    app: AppContext = ctx.obj
    app.require_team(team)
    report = revenue_report(app.catalog, app.settings, as_of=_day(as_of), team=team)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    _print_report(app, report)


def _print_report(app: AppContext, report: dict) -> None:
    currency = report["currency"]
    months = sorted({row["month"] for row in report["healthy_value"]["team"]})[-12:]
    table = Table(title=f"Healthy contract value ({currency}) by team, last 12 months to {report['as_of']}")
    for column in ("team", "month", "healthy", "contracts", "excluded", "excluded contracts"):
        table.add_column(column, justify="left" if column in ("team", "month") else "right")
    for row in report["healthy_value"]["team"]:
        if row["month"] in months:
            table.add_row(row["key"], row["month"], f"{row['healthy_value']:,.0f}", str(row["contracts"]),
                          f"{row['excluded_value']:,.0f}", str(row["excluded"]))
    app.console.print(table)
    reasons = ", ".join(f"{reason}: {e['count']} ({e['value']:,.0f})" for reason, e in report["excluded"]["by_reason"].items())
    app.console.print(f"excluded by reason (all time): {reasons or 'none'}")
    _print_concentration(app, report)


def _print_concentration(app: AppContext, report: dict) -> None:
    start, end = report["windows"]["current"]
    table = Table(title=f"Trailing year {start} .. {end} (exclusive) by region")
    for column in ("region", "revenue", "renewal share", f"top {report['limits']['top_customers']} share",
                   "new vs year before", "flags"):
        table.add_column(column)
    for row in report["concentration"]["region"]:
        change = row["new_yoy_change"]
        table.add_row(row["key"], f"{row['total']:,.0f}", f"{row['renewal_share']:.0%}", f"{row['top_share']:.0%}",
                      "n/a" if change is None else f"{change:+.0%}",
                      "[red]" + ", ".join(row["flags"]) + "[/]" if row["flags"] else "-")
    app.console.print(table)


@management_app.command("ltv-cac")
def ltv_cac_command(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option("--team", help="Only this team's leads (external id).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: today, UTC).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
) -> None:
    """New-customer LTV/CAC per lead source, team and region (with the renewal model's interval)."""
    from talktrack.pipelines.management.ltv import GROUPS, LtvCacDataError, ltv_cac_report

    app: AppContext = ctx.obj
    app.require_team(team)
    try:
        report = ltv_cac_report(app.catalog, app.settings, as_of=_day(as_of), team=team)
    except LtvCacDataError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    first, last = report["window"]
    for group in GROUPS:
        table = Table(title=f"LTV/CAC by {group.replace('_', ' ')} ({report['currency']}), leads {first} .. {last}")
        for column in ("key", "leads", "won", "cost k", "CAC k", "LTV k", "LTV/CAC",
                       f"{report['settings']['interval']:.0%} interval"):
            table.add_column(column, justify="left" if column == "key" else "right", no_wrap=True)
        for row in report["by"][group] + ([report["total"]] if group == "source" else []):
            ratio = row["ltv_cac"]
            table.add_row(row["key"], str(row["leads"]), str(row["acquisitions"]), f"{row['cost'] / 1e3:,.0f}",
                          "-" if row["cac"] is None else f"{row['cac'] / 1e3:,.1f}", f"{row['ltv'] / 1e3:,.0f}",
                          "-" if ratio is None else f"{ratio:.2f}",
                          "-" if ratio is None else f"{row['ltv_cac_low']:.2f}..{row['ltv_cac_high']:.2f}")
        app.console.print(table)
    fits = ", ".join(f"{f['region']} {f['p']:.2f} ({f['renewed']}/{f['contracts']})" for f in report["renewal_model"])
    app.console.print(f"renewal chance per region (renewed/ended terms): {fits}")


@management_app.command("anomalies")
def anomalies_command(
    ctx: typer.Context,
    run: Annotated[bool, typer.Option("--run", help="Evaluate the rules now and open a case for each new finding.")] = False,
    close: Annotated[int | None, typer.Option("--close", help="Close this case (needs --note).")] = None,
    note: Annotated[str | None, typer.Option("--note", help="What was checked and found (with --close).")] = None,
    outcome: Annotated[str, typer.Option("--outcome", help="confirmed (the freeze stands) or lifted.")] = "confirmed",
    team: Annotated[str | None, typer.Option("--team", help="Only this team's (and its region's) cases.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="open or closed.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="With --run: YYYY-MM-DD (default: today, UTC).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who acts, for the audit trail (default: cli:<user>).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the cases as JSON.")] = False,
) -> None:
    """The anomaly breaker: rules over monthly team/region metrics (management.anomalies); a fired rule
    freezes next month's travel reimbursement and opens an audit case, closed here with a note. The CLI
    acts with the workspace's full rights (as an admin would); the API checks roles."""
    import getpass

    from talktrack.pipelines.management import anomalies

    app: AppContext = ctx.obj
    actor = by or f"cli:{getpass.getuser()}"
    if status not in (None, "open", "closed"):
        fail(f"--status {status!r}: expected open or closed")
    if close is not None and run:
        fail("--run and --close are separate steps: run one, then the other")
    if close is not None:
        try:
            case = anomalies.close_case(app.catalog, app.settings, close, actor=actor, note=note or "", outcome=outcome)
        except (anomalies.CaseNotFound, anomalies.CaseError) as exc:
            fail(str(exc))
        _emit_cases(app, [case], as_json, f"closed case {close}: freeze {case['freeze']['state']}")
        return
    if note is not None:
        fail("--note goes with --close ID")
    opened = anomalies.run_rules(app.catalog, app.settings, as_of=_day(as_of), actor=actor) if run else None
    cases = anomalies.list_cases(app.catalog, app.settings, team=team, status=status)
    _emit_cases(app, cases, as_json, None if opened is None else f"opened {len(opened)} new case(s)")


def _emit_cases(app: AppContext, cases: list[dict], as_json: bool, headline: str | None) -> None:
    if as_json:
        typer.echo(json.dumps(cases, indent=2, ensure_ascii=False))
        return
    if headline:
        app.console.print(headline)
    table = Table(title="Anomaly cases")
    for column in ("id", "rule", "scope", "month", "evidence", "freeze", "status", "closed by / note"):
        table.add_column(column)
    for case in cases:
        shown = ", ".join(f"{name} {m['previous_month']}→{m['month']}" + ("" if m["change"] is None else f" ({m['change']:+.0%})")
                          for name, m in case["evidence"]["metrics"].items())
        freeze = case["freeze"]
        table.add_row(str(case["id"]), case["rule"], f"{case['scope']} {case['key']}", case["month"], shown,
                      f"{freeze['state']} {freeze['month']}", case["status"],
                      f"{case['closed_by']}: {case['note']}" if case["closed_by"] else "-")
    app.console.print(table)


@management_app.command("brief")
def brief_command(
    ctx: typer.Context,
    manager: Annotated[str | None, typer.Option("--manager", help="Only the teams this manager leads.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only this team (external id).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: today, UTC).")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the e-mail-ready Markdown.")] = False,
    out: Annotated[str | None, typer.Option("--out", help="Write BRIEF-<team>-<day>.md per team into this folder "
                                                         "(for cron at the hour managers want it).")] = None,
) -> None:
    """The daily brief per manager: lead-pool health, stages over their timers, capability shortfalls two
    months running, and the week's surprise answers with possible market signals. JSON unless --markdown."""
    from pathlib import Path

    from talktrack.models.capability import read_estimates
    from talktrack.pipelines.management import brief as daily
    from talktrack.pipelines.management.brief_export import brief_markdown
    from talktrack.pipelines.semantic.moments import moment_embedder

    app: AppContext = ctx.obj
    try:
        teams = [row["team"] for row in daily.manager_teams(app.catalog, manager) if team in (None, row["team"])]
    except daily.BriefError as exc:
        fail(str(exc))
    if team is not None and not teams:
        fail(f"unknown team {team!r}" + (f" or not led by {manager!r}" if manager else ""))
    try:
        estimates = read_estimates(app.workspace.models_dir / "capability")
    except FileNotFoundError:
        estimates = None   # the capability check reports that it cannot be made
    embedder = moment_embedder(app.settings, app.workspace)
    day = _day(as_of)
    briefs = [daily.daily_brief(app.catalog, app.settings, team=t, as_of=day, estimates=estimates, embedder=embedder)
              for t in teams]
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for brief in briefs:
            (folder / f"BRIEF-{brief['team']}-{brief['as_of']}.md").write_text(brief_markdown(brief), encoding="utf-8")
        typer.echo(f"wrote {len(briefs)} brief(s) to {folder}")
    elif markdown:
        typer.echo("\n".join(brief_markdown(b) for b in briefs))
    else:
        typer.echo(json.dumps({"as_of": day.isoformat(), "briefs": briefs}, indent=2, ensure_ascii=False))
