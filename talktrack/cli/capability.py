"""CLI of the coaching views: ``talktrack capability radar|heatmap|recommend`` (reads the estimates
saved by ``talktrack train capability``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from talktrack.cli.context import AppContext, fail

capability_app = typer.Typer(help="Capability radar, team shortfall heatmap and coaching recommendations.",
                             no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``capability`` command group to the ``talktrack`` app."""
    app.add_typer(capability_app, name="capability")



def _estimates(app: AppContext):
    from talktrack.models.capability import read_estimates

    try:
        return read_estimates(app.workspace.models_dir / "capability")
    except FileNotFoundError as exc:
        fail(str(exc))


@capability_app.command("radar")
def radar_command(
    ctx: typer.Context,
    rep: Annotated[str, typer.Argument(help="Rep id, e.g. REP-001.")],
    month: Annotated[str | None, typer.Option("--month", help="YYYY-MM (default: the latest month).")] = None,
    image: Annotated[Path | None, typer.Option("--png", help="Write the radar to this .png or .svg file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """A rep's 12 dimensions in a month (estimate ± sd on the survey scale) against the team mean."""
    from talktrack.pipelines.coaching import CoachingError, draw_radar, rep_radar

    app: AppContext = ctx.obj
    try:
        radar = rep_radar(app.catalog, app.settings, _estimates(app), rep, month)
    except CoachingError as exc:
        fail(str(exc))
    if image is not None:
        radar["image"] = str(draw_radar(radar, image))
    if as_json:
        typer.echo(json.dumps(radar, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{rep} ({radar['team']}) {radar['month']}")
    for column in ("dimension", "estimate", "± sd", "team mean"):
        table.add_column(column)
    for r in radar["dimensions"]:
        table.add_row(r["dimension"], f"{r['estimate']:.2f}", f"{r['sd']:.2f}", f"{r['team_mean']:.2f}")
    app.console.print(table)


@capability_app.command("heatmap")
def heatmap_command(
    ctx: typer.Context,
    team: Annotated[str, typer.Argument(help="Team id or name, e.g. TEAM-01.")],
    month: Annotated[str | None, typer.Option("--month", help="YYYY-MM (default: the latest month).")] = None,
    image: Annotated[Path | None, typer.Option("--png", help="Write the heatmap to this .png or .svg file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Reps x dimensions of a team: gap to the team mean; shortfalls flagged by the coaching rule."""
    from talktrack.pipelines.coaching import CoachingError, draw_heatmap, team_heatmap

    app: AppContext = ctx.obj
    try:
        view = team_heatmap(app.catalog, app.settings, _estimates(app), team, month)
    except CoachingError as exc:
        fail(str(exc))
    data = view.to_dict()
    if image is not None:
        data["image"] = str(draw_heatmap(view, image))
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{team} {view.month}: gap to team mean (* = shortfall)")
    table.add_column("rep")
    for d in view.dimensions:
        table.add_column(d[:10], justify="right")
    for i, rep in enumerate(view.reps):
        table.add_row(rep, *[f"{view.gaps[i, j]:+.0%}{'*' if view.flags[i, j] else ''}"
                             for j in range(len(view.dimensions))])
    app.console.print(table)


@capability_app.command("recommend")
def recommend_command(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(help="A rep id (REP-001) or a team id/name (TEAM-01).")],
    month: Annotated[str | None, typer.Option("--month", help="YYYY-MM (default: the latest month).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Courses, coach sessions and top-seller examples for every shortfall of a rep or a team."""
    from talktrack.pipelines.coaching import CoachingError, recommendations, rep_team, team_heatmap

    app: AppContext = ctx.obj
    estimates = _estimates(app)
    try:
        is_rep = who in set(estimates["rep"])
        team = rep_team(app.catalog, who)[0] if is_rep else who
        flagged = team_heatmap(app.catalog, app.settings, estimates, team, month).flagged()
        if is_rep:
            flagged = [f for f in flagged if f["rep"] == who]
        items = recommendations(app.catalog, app.settings, estimates, flagged)
    except CoachingError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(items, indent=2, ensure_ascii=False))
        return
    if not items:
        app.console.print(f"no shortfalls for {who}")
    for item in items:
        app.console.print(f"[bold]{item['rep']} · {item['dimension']}[/]: {item['reason']}")
        app.console.print(f"  course: {item['course']['title']} {item['course']['url'] or ''}")
        app.console.print(f"  coach: {item['coach_session']}")
        for e in item["examples"]:
            app.console.print(f"  example ({e['rep']}, {e['call_id']} {e['start_s']}s): {e['text']}")
