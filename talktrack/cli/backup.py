"""CLI commands ``talktrack backup OUT`` and ``talktrack restore ARCHIVE``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from talktrack.cli.context import AppContext, fail
from talktrack.cli.progress import progress_hook


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``talktrack`` app."""
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)


def backup_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="The archive to write (*.tar.gz), or a directory to write one into.")],
    audio: Annotated[bool, typer.Option(
        "--audio/--no-audio", help="Copy the audio files inside the workspace, or only list them.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Write a consistent snapshot of the workspace (catalog, index, transcripts, MLflow, models, audio)."""
    from talktrack.pipelines.backup import BackupError, create_backup

    app: AppContext = ctx.obj
    report = _run(app, as_json, BackupError,
                  lambda hook: create_backup(app.settings, app.workspace, out, audio=audio, progress=hook))
    if report is None:
        return
    audio_line = (f"{report.audio['files']} files, {_mib(report.audio['bytes'])}" if report.audio["included"]
                  else f"left out ({report.audio['left_out']} files listed)")
    _print_rows(app, "Backup written", [
        ("archive", f"{report.archive} ({_mib(report.archive_bytes)})"),
        ("files", f"{report.files} ({_mib(report.bytes)} before compression)"),
        ("catalog", f"{report.catalog_kind}, {report.catalog_rows} rows"),
        ("audio", audio_line),
        ("seconds", f"{report.seconds:.1f}"),
    ], report.warnings)


def restore_command(
    ctx: typer.Context,
    archive: Annotated[Path, typer.Argument(help="A backup written by `talktrack backup`.")],
    force: Annotated[bool, typer.Option(
        "--force", help="Restore into a non-empty workspace: what it holds is moved into .replaced-<time>/ "
                        "(nothing is deleted).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Verify a backup, then restore it into an empty (or new) workspace and its configured catalog."""
    from talktrack.pipelines.backup import RestoreError, restore_backup

    app: AppContext = ctx.obj
    report = _run(app, as_json, RestoreError,
                  lambda hook: restore_backup(archive, app.settings, app.workspace, force=force, progress=hook))
    if report is None:
        return
    rewritten = ", ".join(f"{name} {count}" for name, count in report.rewritten.items() if count) or "none"
    rows = [("from", f"{report.source_root} ({report.backup_created_at})"),
            ("files", f"{report.files} ({_mib(report.bytes)})"),
            ("catalog", f"{report.catalog_kind}, {sum(report.counts.values())} rows, counts as in the manifest"),
            ("paths rewritten", rewritten),
            ("seconds", f"{report.seconds:.1f}")]
    if report.moved_aside:
        rows.insert(0, ("moved aside", report.moved_aside))
    _print_rows(app, f"Restored into {report.root}", rows, report.warnings)


def _print_rows(app: AppContext, title: str, rows: list[tuple[str, str]], warnings: list[str]) -> None:
    table = Table(title=title)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    for name, value in rows:
        table.add_row(name, value)
    app.console.print(table)
    for warning in warnings:
        app.console.print(f"[yellow]warning[/] {warning}", highlight=False)



def _run(app: AppContext, as_json: bool, errors: type[Exception], work):
    """Run ``work(progress_hook)`` with progress bars (on stderr, silent with ``--json``); its error
    is a one-line failure; with ``--json`` the report is printed here and None returned."""
    console = Console(file=sys.stderr, quiet=True) if as_json else app.console
    try:
        with progress_hook(console) as hook:
            report = work(hook)
    except errors as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return None
    return report

def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"

