"""``talktrack import-chats`` (WeCom archives, plain chat exports, e-mail) and ``talktrack world chats``
(chat threads and e-mails for a generated world), registered by :func:`register`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from talktrack.cli.context import AppContext, fail
from talktrack.cli.progress import progress_hook

SHOWN_PROBLEMS = 50
SHOWN_UNMAPPED = 20


def register(app: typer.Typer, world_app: typer.Typer) -> None:
    """Add ``import-chats`` to the app and ``chats`` to ``talktrack world``."""
    app.command("import-chats")(import_chats_command)
    world_app.command("chats")(world_chats_command)


def import_chats_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A folder of exports, or one .jsonl/.csv/.eml/.mbox file.")],
    encoding: Annotated[str | None, typer.Option(help="Try this text encoding first (UTF-8 and GB18030 are "
                                                      "detected without it).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any row was rejected.")] = False,
) -> None:
    """Import chat and e-mail messages (by msgid / Message-ID): mapped to reps, contacts, deals and stages.

    Bad rows are reported with file, line and reason and skipped; the good ones go in.
    """
    from talktrack.pipelines.chat_import import import_chats

    app_ctx: AppContext = ctx.obj
    if not source.exists():
        fail(f"{source}: no such file or folder")
    console = app_ctx.console if not as_json else Console(file=io.StringIO())
    with progress_hook(console) as hook:
        report = import_chats(app_ctx.catalog, app_ctx.settings, source, encoding=encoding, progress=hook,
                              files_dir=app_ctx.workspace.root / "chat_files")
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_report(app_ctx.console, report)
    if strict and report.totals()["errors"]:
        raise typer.Exit(1)


def _print_report(console: Console, report) -> None:
    columns = ("read", "imported", "duplicates", "updated", "revokes", "withdrawn", "skipped", "errors")
    table = Table(title=f"Chats imported from {report.source}")
    table.add_column("file", no_wrap=True)
    table.add_column("format")
    for column in columns:
        table.add_column(column, justify="right")
    for counts in report.files:
        table.add_row(counts.file, counts.kind, *(str(getattr(counts, key)) for key in columns))
    totals = report.totals()
    table.add_row("total", "", *(str(totals[key]) for key in columns))
    console.print(table)
    console.print(f"conversations rebuilt: {report.conversations}; people: {report.people}")
    if report.ambiguous_deal:
        console.print(f"[yellow]{report.ambiguous_deal} message(s)[/] could belong to more than one open deal of "
                      "the same customer and rep; they went to the most recent")
    if report.unmapped:
        console.print(f"[yellow]unmapped participants[/] ({len(report.unmapped)}; add them to contacts.csv "
                      "or rep_accounts.csv):")
        for raw, count in report.unmapped.most_common(SHOWN_UNMAPPED):
            console.print(f"  {raw}  in {count} message(s)", highlight=False, markup=False)
    for problem in report.problems[:SHOWN_PROBLEMS]:
        console.print(f"[red]error[/] {problem}", highlight=False)
    if len(report.problems) > SHOWN_PROBLEMS:
        console.print(f"... and {len(report.problems) - SHOWN_PROBLEMS} more (--json lists all)")


def world_chats_command(
    ctx: typer.Context,
    world_dir: Annotated[Path, typer.Argument(help="A world written by `talktrack world generate`.")],
    out: Annotated[Path | None, typer.Option("--out", help="Folder to write into [WORLD_DIR/chats].")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives byte-identical output.")] = 11,
    voice: Annotated[int, typer.Option(help="Render this many voice messages (AMR and SILK) with espeak-ng.",
                                       min=0)] = 0,
) -> None:
    """Write WeCom archives, plain CSV chats and .eml e-mails for the world's deals, with their truth."""
    from talktrack.evaluation.world_chats import generate_chats

    app_ctx: AppContext = ctx.obj
    target = out or world_dir / "chats"
    try:
        summary = generate_chats(world_dir, target, seed=seed, voice=voice, gap_h=app_ctx.settings.import_.chat_gap_h,
                                 stage_questions={s.key: tuple(s.key_questions) for s in app_ctx.settings.stages})
    except (FileNotFoundError, FileExistsError, ValueError, RuntimeError) as exc:
        fail(str(exc))
    counts = ", ".join(f"{count} {name}" for name, count in summary.items())
    app_ctx.console.print(f"wrote {counts} to {target}")
    app_ctx.console.print(f"truth: {target / 'chat_truth.json'} (never read by the platform)")
