"""CLI of talk-track mining: ``talktrack mine`` and ``talktrack tracks list|show|review``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from talktrack.cli.context import AppContext
from talktrack.cli.progress import progress_hook

tracks_app = typer.Typer(help="Review mined talk tracks: list, show, approve / edit / reject.",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``talktrack`` app."""
    app.command("mine")(mine_command)
    app.add_typer(tracks_app, name="tracks")


def mine_command(
    ctx: typer.Context,
    top_sellers: Annotated[int | None, typer.Option("--top-sellers", min=1,
                                                    help="How many reps (by won amount) count as top sellers.")] = None,
    since: Annotated[datetime | None, typer.Option("--since", formats=["%Y-%m-%d"],
                                                   help="Only deals created on or after this date.")] = None,
    min_support: Annotated[int | None, typer.Option("--min-support", min=1,
                                                    help="Deals a pattern needs on each side.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Mine the talk tracks that go with winning, per objection type; store them for review."""
    from talktrack.pipelines.mining import MiningError, mine_talk_tracks, options_from_settings

    app_ctx: AppContext = ctx.obj
    options = options_from_settings(app_ctx.settings, top_sellers=top_sellers, min_support_deals=min_support)
    console = app_ctx.console if not as_json else Console(stderr=True, quiet=True)
    try:
        with progress_hook(console) as hook:
            report = mine_talk_tracks(app_ctx.catalog, app_ctx.settings, app_ctx.workspace, options=options,
                                      since=since, progress=hook)
    except MiningError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print_mining_report(app_ctx.console, report)


def print_mining_report(console: Console, report: dict, *, exemplars: bool = True) -> None:
    console.print(f"{report['closed_deals']} closed deals, {report['episodes']} objection episodes; "
                  f"top sellers: {', '.join(report['top_sellers'])}")
    table = Table(title="Mined talk tracks")
    for column in ("objection", "track", "deals", "win rate", "lift (CI)", "effect (logit)"):
        table.add_column(column)
    for block in report["objection_types"]:
        for track in block["tracks"]:
            s = track["stats"]
            table.add_row(block["objection_type"], track["description"].split(":")[0], str(s["support_deals"]),
                          f"{s['win_rate_used']:.0%} vs {s['win_rate_other']:.0%}",
                          f"{s['lift'] * 100:+.0f} pts ({s['lift_ci'][0] * 100:+.0f}..{s['lift_ci'][1] * 100:+.0f})",
                          f"{s['adjusted_effect_logit']:+.2f}")
        if not block["tracks"]:
            table.add_row(block["objection_type"], "(no answer stands out)", str(block["deals"]), "", "", "")
    console.print(table)
    if not any(block["tracks"] for block in report["objection_types"]):
        _print_leads(console, report)
    for block in report["objection_types"]:
        for track in block["tracks"]:
            console.print(f"[bold]{block['objection_type']}[/]: {track['description']}")
            for example in track["exemplars"][:2] if exemplars else []:
                console.print(f"   {example['call_id']} {_mmss(example['start_s'])}-{_mmss(example['end_s'])}  "
                              f"customer: {example['objection']['text']}\n      rep: {example['answer']['text']}")
    stored = report.get("stored")
    if stored:
        console.print(f"stored: {stored['new']} new, {stored['refreshed']} refreshed (reviews kept), "
                      f"{stored['deactivated']} no longer found")


def _print_leads(console: Console, report: dict) -> None:
    """With too few deals for significance, show the strongest candidates, clearly marked as such."""
    leads = sorted(((c, block["threshold_z"]) for block in report["objection_types"] for c in block["candidates"]
                    if c["z"] > 0), key=lambda item: -item[0]["z"])[:3]
    if leads:
        console.print("No answer is significant with this many deals; the strongest leads so far (not tracks):")
    for lead, threshold in leads:
        console.print(f"   {lead['key']}: {lead['support_deals']} deals, win rate {lead['win_rate_used']:.0%} vs "
                      f"{lead['win_rate_other']:.0%}, z {lead['z']:.1f} (a track needs {threshold:.1f})")


@tracks_app.command("list")
def tracks_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="proposed | approved | rejected | edited")] = None,
    objection: Annotated[str | None, typer.Option("--type", help="Objection type.")] = None,
    include_inactive: Annotated[bool, typer.Option("--all", help="Also tracks the latest run no longer found.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List stored talk tracks with their review status."""
    from talktrack.pipelines.mining import list_tracks

    app_ctx: AppContext = ctx.obj
    tracks = list_tracks(app_ctx.catalog, status=status, objection_type=objection, include_inactive=include_inactive)
    if as_json:
        typer.echo(json.dumps(tracks, indent=2, ensure_ascii=False))
        return
    table = Table(title="Talk tracks")
    for column in ("id", "key", "status", "deals", "lift", "reviewed by"):
        table.add_column(column)
    for t in tracks:
        stats = t["stats"] or {}
        table.add_row(str(t["id"]), t["key"], t["status"] + ("" if t["active"] else " (inactive)"),
                      str(stats.get("support_deals", "")), f"{stats.get('lift', 0) * 100:+.0f} pts",
                      t["reviewed_by"] or "")
    app_ctx.console.print(table)


@tracks_app.command("show")
def tracks_show(ctx: typer.Context, track: Annotated[str, typer.Argument(help="Track id or key.")]) -> None:
    """One track as JSON: numbers, wording groups, exemplars and its audit trail."""
    from talktrack.pipelines.mining import TrackNotFound, get_track

    try:
        typer.echo(json.dumps(get_track(ctx.obj.catalog, track), indent=2, ensure_ascii=False))
    except TrackNotFound as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@tracks_app.command("review")
def tracks_review(
    ctx: typer.Context,
    track: Annotated[str, typer.Argument(help="Track id or key.")],
    action: Annotated[str, typer.Argument(help="approve | reject | edit | reopen")],
    actor: Annotated[str, typer.Option("--by", help="Who reviews (name or id).")] = "cli",
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
    script: Annotated[str | None, typer.Option(help="The edited wording (for edit).")] = None,
) -> None:
    """Record a coach's review of a track (kept across re-mining, written to its audit trail)."""
    from talktrack.pipelines.mining import ReviewError, TrackNotFound, review_track

    try:
        result = review_track(ctx.obj.catalog, track, action, actor=actor, note=note, script=script)
    except (TrackNotFound, ReviewError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{result['key']}: {result['status']} by {result['reviewed_by']}")


def _mmss(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    return f"{int(seconds) // 60:02d}:{int(seconds) % 60:02d}"
