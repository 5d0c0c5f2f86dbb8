"""``talktrack management process-health``, ``talktrack eval process-health --world W`` and
``talktrack lineage [NAME]``: process health per team and month, graded on a world, and the lineage
graph from imported fields to what managers read."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from talktrack.cli.context import AppContext, fail
from talktrack.cli.evaluate import _emit, _fresh_workdir, eval_app
from talktrack.cli.management import management_app


def register(app: typer.Typer) -> None:
    """Add ``talktrack lineage`` (the other two join the ``management`` and ``eval`` groups on import)."""
    app.command("lineage")(lineage_command)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


@management_app.command("process-health")
def process_health_command(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option("--team", help="Only this team (external id).")] = None,
    months: Annotated[int, typer.Option("--months", min=1, max=36, help="Months up to --as-of.")] = 3,
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: the catalog's latest event).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the JSON report here.")] = None,
) -> None:
    """Stage funnel, key-action completion and team efficiency per team and month."""
    from talktrack.pipelines.management.process_health import process_health, sop_coverage

    app: AppContext = ctx.obj
    when = None
    if as_of is not None:
        try:
            when = datetime.fromisoformat(as_of).replace(hour=23, minute=59, second=59)
        except ValueError:
            fail(f"--as-of {as_of!r}: expected a day as YYYY-MM-DD")
    app.require_team(team)
    try:
        report = process_health(app.catalog, app.settings, coverage=sop_coverage(app.catalog, app.settings, app.workspace),
                                team=team, as_of=when, months=months)
    except ValueError as exc:
        fail(str(exc))
    if not as_json:
        _print_health(app, report)
    _emit(app, report, out, as_json)


def _print_health(app: AppContext, report: dict) -> None:
    actions = Table(title=f"Key actions done in time (as of {report['as_of']})")
    for column in ("team", "month", "action", "due", "done", "missed", "pending", "rate"):
        actions.add_column(column)
    for r in report["key_actions"]:
        actions.add_row(r["team"], r["month"], r["action"], str(r["due"]), str(r["done"]), str(r["missed"]),
                        str(r["pending"]), _pct(r["rate"]))
    app.console.print(actions)
    efficiency = Table(title="Team efficiency = touches per working hour × diagnosis accuracy × solution match")
    for column in ("team", "month", "touches", "hours", "touches/h", "diagnosis", "solution", "efficiency"):
        efficiency.add_column(column)
    for r in report["efficiency"]:
        efficiency.add_row(r["team"], r["month"], str(r["effective_touches"]), f"{r['working_hours']:.0f}",
                           _num(r["touches_per_hour"]), _pct(r["diagnosis_accuracy"]), _pct(r["solution_match"]),
                           _num(r["efficiency"], 4))
    app.console.print(efficiency)


@eval_app.command("process-health")
def eval_process_health(
    ctx: typer.Context,
    world: Annotated[Path, typer.Option("--world", help="A generated world (talktrack world generate).")],
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", help="Where the fresh workspace goes (default: <workspace>/eval/process-health-<world name>).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Import WORLD into a fresh workspace with its true moments and grade process health against its truth:
    stage durations, key actions deal by deal, diagnosis accuracy (SOP check) and solution match."""
    from talktrack.evaluation.process_health import evaluate_world

    app: AppContext = ctx.obj
    report = evaluate_world(world, app.settings, _fresh_workdir(app, world, workdir, "process-health"))
    if not as_json:
        table = Table(title="Process health against the world's truth")
        for column in ("figure", "value"):
            table.add_column(column)
        durations = report["stage_durations"]
        table.add_row("stage durations: MAE / max days", f"{durations['mae_days']} / {durations['max_error_days']}")
        for key, row in report["key_actions"].items():
            table.add_row(f"key action {key}: agreement (rate vs true)",
                          f"{row['agreement']:.3f} ({_pct(row['rate'])} vs {_pct(row['true_rate'])})")
        for part, label in (("diagnosis_accuracy", "per_call_mae"), ("solution_match", "per_call_agreement")):
            table.add_row(f"{part}: {label} / team-month MAE", f"{report[part][label]} / {report[part]['team_month_mae']}")
        app.console.print(table)
    _emit(app, report, out, as_json)


def lineage_command(
    name: Annotated[str | None, typer.Argument(help="A field (customers.industry), feature, model or metric.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the nodes and edges as JSON.")] = False,
) -> None:
    """Which imported fields feed which model inputs and metrics: the chains through NAME, or every node."""
    import json

    from talktrack.pipelines.management.lineage import LineageError, lineage_graph

    graph = lineage_graph()
    try:
        view = graph.subgraph(name)
        chains = graph.chains(name) if name else []
    except LineageError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(view | {"chains": chains}, indent=2, ensure_ascii=False))
        return
    if name is None:
        for kind in view["kinds"]:
            names = [n["id"] for n in view["nodes"] if n["kind"] == kind]
            typer.echo(f"{kind} ({len(names)}): {', '.join(names)}")
        return
    if all(len(chain) == 1 for chain in chains):
        typer.echo(f"{view['focus']}: imported, but no feature or metric reads it yet")
    for chain in chains:
        if len(chain) > 1:
            typer.echo(" → ".join(chain))
