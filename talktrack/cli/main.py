"""The ``talktrack`` command line: the outermost layer, composing everything else.

Each command is thin: it parses options, calls one function of a lower layer, and
renders what came back (a table, JSON, a progress bar).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from talktrack.cli.context import AppContext, fail
from talktrack.cli.progress import print_workspace_summary, progress_hook
from talktrack.cli.bench import bench_app
from talktrack.cli.evaluate import eval_app
from talktrack.cli.speech import ingest_command, transcribe_command, voiceprint_app
from talktrack.cli import backup as backup_cli
from talktrack.cli import capability as capability_cli
from talktrack.cli import chats as chats_cli
from talktrack.cli import conversations as conversations_cli
from talktrack.cli import credibility as credibility_cli  # noqa: F401  (joins the management group)
from talktrack.cli import evidence as evidence_cli
from talktrack.cli import gates as gates_cli
from talktrack.cli import index as index_cli
from talktrack.cli import management as management_cli
from talktrack.cli import mentoring as mentoring_cli
from talktrack.cli import mining as mining_cli
from talktrack.cli import moments as moments_cli
from talktrack.cli import process_health as process_health_cli
from talktrack.cli import quotes as quotes_cli
from talktrack.cli import sandbox as sandbox_cli  # noqa: F401  (joins the management and eval groups)
from talktrack.cli import serving as serving_cli
from talktrack.cli import sop as sop_cli
from talktrack.cli import training as training_cli
from talktrack.core.config import ConfigError, load_settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")

app = typer.Typer(
    name="talktrack",
    help="TalkTrack: conversation intelligence for sales teams, offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
world_app = typer.Typer(help="Generate a seeded sales world with known truth.", no_args_is_help=True)
config_app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Catalog database maintenance.", no_args_is_help=True)
app.add_typer(world_app, name="world")
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")
for _commands in (index_cli, moments_cli, mining_cli, sop_cli, evidence_cli, training_cli, capability_cli,
                  serving_cli, backup_cli, quotes_cli, gates_cli, management_cli, conversations_cli):
    _commands.register(app)
chats_cli.register(app, world_app)
process_health_cli.register(app)
mentoring_cli.register(app)


@app.callback()
def main(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None, typer.Option("--workspace", "-w", help="Workspace directory [env TALKTRACK_WORKSPACE].")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="A YAML file overriding the defaults.")] = None,
) -> None:
    """TalkTrack: conversation intelligence for sales teams, offline."""
    overrides = {"workspace": str(workspace)} if workspace else None
    try:
        settings = load_settings(config, overrides=overrides)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    ctx.obj = AppContext(settings)


@app.command("import")
def import_command(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Folder with CRM files (CSV/JSONL) and transcripts/.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any row was rejected.")] = False,
    gates: Annotated[bool, typer.Option("--gates/--no-gates", help="Check the imported stage changes against "
                                        "their stages' required evidence (as posted ones are).")] = True,
) -> None:
    """Import CRM files and call transcripts (upsert by id).

    Bad rows are reported with file, line and reason and skipped; the good rows go in. Then the stage
    changes go through the stage gate: those without verified evidence are listed (``gates list``).
    """
    from talktrack.pipelines.crm_import import import_directory

    app_ctx: AppContext = ctx.obj
    if not directory.is_dir():
        fail(f"{directory}: not a directory")
    with progress_hook(app_ctx.console if not as_json else _quiet_console()) as hook:
        report = import_directory(app_ctx.catalog, app_ctx.settings, directory, progress=hook)
    checked = gates_cli.gate_imported(app_ctx, report, _quiet_console() if as_json else app_ctx.console) \
        if gates else None
    if as_json:
        typer.echo(json.dumps(report.to_dict() | {"gates": checked}, indent=2, ensure_ascii=False))
    else:
        _print_import_report(app_ctx, report)
        if checked:
            app_ctx.console.print(f"stage gates: {checked['checked']} imported stage changes checked, "
                                  f"{checked['unverified']} without verified evidence (talktrack gates list)")
    if strict and report.totals()["rejected"]:
        raise typer.Exit(1)


app.command("transcribe")(transcribe_command)
app.command("ingest")(ingest_command)
app.add_typer(voiceprint_app, name="voiceprint")


@app.command("status")
def status_command(
    ctx: typer.Context,
    calls: Annotated[bool, typer.Option("--calls", help="List the calls themselves, by state.")] = False,
    state: Annotated[str | None, typer.Option("--state", help="Only calls in this state (e.g. failed).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show entity counts and calls by state."""
    from talktrack.core.catalog.summary import list_calls, summarize

    from talktrack.core.catalog.schema import CALL_STATUSES

    if state is not None and state not in CALL_STATUSES:
        fail(f"--state {state!r} is not one of: {', '.join(CALL_STATUSES)}")
    app_ctx: AppContext = ctx.obj
    summary = summarize(app_ctx.catalog)
    if calls or state:
        summary["calls"] = list_calls(app_ctx.catalog, state=state)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
        return
    print_workspace_summary(app_ctx.console, app_ctx.workspace.root, summary)
    if "calls" in summary:
        _print_calls(app_ctx, summary["calls"])


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    seed: Annotated[int | None, typer.Option(help="World seed (default: demo.seed).")] = None,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="End by starting the service (Ctrl-C stops it).")
    ] = True,
) -> None:
    """Run the main job end to end on the embedded defaults, then serve it with curl examples."""
    from talktrack.cli.demo import run_demo
    from talktrack.cli.demo_service import print_service_intro

    app_ctx: AppContext = ctx.obj
    run = run_demo(app_ctx, seed=seed)
    if run is None:
        raise typer.Exit(1)
    serving = app_ctx.settings.serving
    print_service_intro(app_ctx, f"http://{serving.host}:{serving.port}", run.keys, run.ids)
    if serve:
        from talktrack.cli.serving import serve_command

        app_ctx.console.print("\nStarting the service; Ctrl-C stops it.")
        serve_command(ctx, host=None, port=None, workers=None)


@world_app.command("generate")
def world_generate(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the world into.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives byte-identical output.")] = 7,
    reps: Annotated[int, typer.Option(help="Number of reps (managers included).", min=2)] = 12,
    customers: Annotated[int, typer.Option(help="Number of customers.", min=1)] = 40,
    deals: Annotated[int, typer.Option(help="Number of deals.", min=1)] = 60,
    calls: Annotated[int, typer.Option(help="Number of call transcripts.", min=0)] = 120,
    lang: Annotated[str, typer.Option(help="Languages, comma separated: en, zh.")] = "en,zh",
    audio: Annotated[int, typer.Option(help="Render this many calls to 16 kHz WAV with espeak-ng.", min=0)] = 0,
    audio_lang: Annotated[
        str | None, typer.Option("--audio-lang", help="Render only calls in these languages (e.g. en).")
    ] = None,
    screenshots: Annotated[int, typer.Option(help="Draw this many calendar invites as screenshots (OCR evidence).",
                                             min=0)] = 8,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The world's last day, YYYY-MM-DD (default: today, UTC).")
    ] = None,
) -> None:
    """Write CRM files, transcripts, audio and a hidden truth.json."""
    from talktrack.cli.world import generate_world_command

    generate_world_command(
        ctx.obj, out, seed=seed, reps=reps, customers=customers, deals=deals, calls=calls, lang=lang, audio=audio,
        audio_languages=audio_lang, as_of=as_of, screenshots=screenshots,
    )


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print the effective configuration as YAML."""
    import yaml

    app_ctx: AppContext = ctx.obj
    data = app_ctx.settings.model_dump(mode="json", by_alias=True)
    typer.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply pending catalog migrations (also done on open)."""
    app_ctx: AppContext = ctx.obj
    typer.echo(f"catalog at revision {app_ctx.catalog.current_revision()}")


def _print_import_report(app_ctx: AppContext, report) -> None:
    table = Table(title=f"Imported from {report.source}")
    numbers = ("read", "inserted", "updated", "unchanged", "rejected")
    table.add_column("file", no_wrap=True)
    for column in numbers:
        table.add_column(column, justify="right")
    for count in report.counts:
        table.add_row(count.file, *(str(getattr(count, key)) for key in numbers))
    app_ctx.console.print(table)
    shown = report.problems[:50]
    for problem in shown:
        style = "yellow" if problem.severity == "warning" else "red"
        app_ctx.console.print(f"[{style}]{problem.severity}[/] {problem}", highlight=False, markup=True)
    if len(report.problems) > len(shown):
        app_ctx.console.print(f"... and {len(report.problems) - len(shown)} more (use --json for all)")


def _print_calls(app_ctx: AppContext, calls: list[dict]) -> None:
    table = Table(title="Calls by state")
    for column in ("state", "call", "duration s", "audio", "error"):
        table.add_column(column)
    for call in calls:
        duration = f"{call['duration_s']:.1f}" if call["duration_s"] is not None else "-"
        table.add_row(call["status"], call["call_id"], duration, call["audio_path"] or "-", call["error"] or "")
    app_ctx.console.print(table)


def _quiet_console():
    from rich.console import Console

    return Console(file=sys.stderr, quiet=True)

