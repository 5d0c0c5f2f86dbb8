"""``talktrack management sandbox`` (what if reps move between product lines) and ``talktrack eval sandbox``
(its predictions against a generated world's counterfactual quarter)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from talktrack.cli.context import AppContext, fail, validation_problems
from talktrack.cli.evaluate import _emit, _fresh_workdir, eval_app
from talktrack.cli.management import _day, management_app

FIGURES = (("gross_margin", "gross margin"), ("churn", "customer churn"), ("productivity", "margin per seller"))


@management_app.command("sandbox")
def sandbox_command(
    ctx: typer.Context,
    from_line: Annotated[str, typer.Option("--from", help="Product line the reps leave (key, e.g. order_hub).")],
    to_line: Annotated[str, typer.Option("--to", help="Product line they join.")],
    move: Annotated[float, typer.Option("--move", help="Share of --from's reps moved, 0..1.")] = 0.2,
    rule: Annotated[str, typer.Option("--rule", help="Which reps: random, lowest_margin or highest_margin.")] = "random",
    hire: Annotated[int, typer.Option("--hire", help="New reps joining --to.")] = 0,
    remove: Annotated[int, typer.Option("--remove", help="Reps of --from who leave.")] = 0,
    team: Annotated[str | None, typer.Option("--team", help="Only this team's reps (external id).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: today, UTC).")] = None,
    draws: Annotated[int | None, typer.Option("--draws", min=50, help="Monte Carlo draws (default: settings).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole answer as JSON.")] = False,
) -> None:
    """Next quarter's gross margin, churn and margin per seller, baseline vs scenario, with intervals."""
    from talktrack.pipelines.management.sandbox import run_sandbox
    from talktrack.pipelines.management.sandbox_history import SandboxError, Scenario

    app: AppContext = ctx.obj
    app.require_team(team)
    try:
        scenario = Scenario(move_share=move, from_line=from_line, to_line=to_line, rule=rule, hire=hire, remove=remove)
        result = run_sandbox(app.catalog, app.settings, scenario, as_of=_day(as_of), team=team, draws=draws)
    except ValidationError as error:
        fail(validation_problems(error, "scenario"))
    except SandboxError as error:
        fail(str(error))
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    _print_result(app, result)


def _print_result(app: AppContext, result: dict) -> None:
    plan = result["plan"]
    moved = ", ".join(m["rep_id"] for m in plan["moved"]) or "nobody"
    app.console.print(f"quarter {result['quarter'][0]}..{result['quarter'][1]}: moving {moved} "
                      f"({len(plan['moved'])} of {plan['from_line_reps']}) "
                      f"{result['scenario']['from_line']} -> {result['scenario']['to_line']}")
    width = f"{result['interval']:.0%}"
    table = Table(title=f"Baseline vs scenario (mean [{width} interval], {result['draws']} draws)")
    for column in ("figure", "baseline", "scenario", "change"):
        table.add_column(column)
    for key, label in FIGURES:
        fmt = _pct if key == "churn" else _money
        table.add_row(label, *(_cell(result[part][key], fmt) for part in ("baseline", "scenario", "difference")))
    app.console.print(table)


def _cell(figure: dict, fmt) -> str:
    return f"{fmt(figure['mean'])} [{fmt(figure['low'])}, {fmt(figure['high'])}]"


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _pct(value: float) -> str:
    return f"{value:.1%}"


@eval_app.command("sandbox")
def eval_sandbox(
    ctx: typer.Context,
    world: Annotated[Path, typer.Option("--world", help="A generated world (talktrack world generate).")],
    scenarios: Annotated[int, typer.Option("--scenarios", min=1, help="Scenarios tried.")] = 24,
    draws: Annotated[int | None, typer.Option("--draws", min=50, help="Monte Carlo draws (default: settings).")] = None,
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", help="Where the fresh workspace goes (default: <workspace>/eval/sandbox-<world name>).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """The sandbox's predicted margin change against the world's counterfactual quarter, per scenario:
    error of the mean and the share of scenarios whose truth lies inside the interval (target >= 85 %)."""
    from talktrack.evaluation.sandbox import evaluate_sandbox_world

    app: AppContext = ctx.obj
    report = evaluate_sandbox_world(world, app.settings, _fresh_workdir(app, world, workdir, "sandbox"),
                                    scenarios=scenarios, draws=draws)
    if not as_json:
        change = report["margin_change"]
        app.console.print(f"{report['scenarios']} scenarios: truth inside the interval on {change['coverage']:.0%} "
                          f"(target {change['target']:.0%}); mean abs error of the margin change "
                          f"{change['mean_abs_error']:,.0f} ({change['relative_mean_abs_error']:.0%} of the mean "
                          f"abs true change {change['mean_abs_true_change']:,.0f}); no real material exists for this")
    _emit(app, report, out, as_json)
