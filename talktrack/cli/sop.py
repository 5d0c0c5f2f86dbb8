"""CLI commands of the semantic layer: ``talktrack sop check|deal|show`` (registered by :func:`register`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from talktrack.cli.context import AppContext, fail

sop_app = typer.Typer(help="SOP compliance per call and key-question coverage per deal.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``talktrack`` app."""
    app.add_typer(sop_app, name="sop")



def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes:02d}:{rest:02d}"


@sop_app.command("check")
def check_command(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A call's external id, or a talktrack.transcript/1 JSON file.")],
    stage: Annotated[str | None, typer.Option(help="Stage to check against (needed for a transcript without one).")]
    = None,
    sop: Annotated[list[str] | None, typer.Option("--sop", help="Also check this scenario SOP (e.g. store_visit).")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Which SOP steps a call covered (where, how closely) and, for each missing one, a won deal's example."""
    from talktrack.pipelines.semantic.sop import SopNotFoundError, check_call, check_transcript
    from talktrack.pipelines.semantic.sop_book import SopConfigError

    app: AppContext = ctx.obj
    extra = tuple(sop or ())
    try:
        if target.lower().endswith(".json") and not Path(target).is_file():
            fail(f"transcript {target!r}: no such file")
        if Path(target).is_file():
            result = check_transcript(Path(target), stage, app.settings, app.workspace, app.catalog, sop=extra)
        else:
            result = check_call(app.catalog, app.settings, app.workspace, target, stage=stage, sop=extra)
    except (SopNotFoundError, SopConfigError, ValueError) as exc:
        fail(str(exc))
    except KeyError as exc:   # an unknown --sop name
        fail(str(exc.args[0]))
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    _print_result(app, result)


def _print_result(app: AppContext, result) -> None:
    zh = not result.language.startswith("en")
    title = (f"SOP {', '.join(result.sops)} · call {result.call_id or '(transcript)'} · {result.stage} · "
             f"{len(result.covered_steps)}/{len(result.steps)} steps")
    table = Table(title=title)
    for column, justify in (("step", "left"), ("", "center"), ("time", "right"), ("sim", "right"),
                            ("snippet / suggestion", "left")):
        table.add_column(column, justify=justify)
    for step in result.steps:
        name = step.name_zh if zh else step.name_en
        if step.covered:
            table.add_row(name, "[green]✓[/]", _clock(step.match.start_s), f"{step.similarity:.2f}",
                          step.match.snippet)
        else:
            table.add_row(name, "[red]✗[/]", "", f"{step.similarity:.2f}", _suggestion_text(step.suggestion))
    app.console.print(table)


def _suggestion_text(suggestion) -> str:
    if suggestion is None:
        return ""
    if suggestion.source == "won_call":
        where = f"{suggestion.call_id} {_clock(suggestion.start_s)}, won deal {suggestion.deal_id}"
        return f"try: “{suggestion.text}” ({where})"
    return f"try: “{suggestion.text}” (SOP example)"


@sop_app.command("deal")
def deal_command(
    ctx: typer.Context,
    deal_id: Annotated[str, typer.Argument(help="A deal's external id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the coverage as JSON.")] = False,
) -> None:
    """Per stage of a deal: its key questions covered in some call, chat or e-mail, and those never covered."""
    from talktrack.pipelines.semantic.sop import SopNotFoundError, deal_key_questions
    from talktrack.pipelines.semantic.sop_book import SopConfigError

    app: AppContext = ctx.obj
    try:
        report = deal_key_questions(app.catalog, app.settings, app.workspace, deal_id)
    except (SopNotFoundError, SopConfigError, ValueError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Key questions of deal {deal_id} ({report['status']}, {report['searched']['text'] or 'nothing'})")
    for column in ("stage", "key question", "", "call", "time", "snippet / suggestion"):
        table.add_column(column)
    for stage in report["stages"]:
        for row in stage["key_questions"]:
            if row["covered"]:
                where = row["call_id"] if row["channel"] == "call" else f"{row['channel']} {row['call_id']}"
                table.add_row(stage["stage"], row["name_en"], "[green]✓[/]", where, _clock(row["start_s"]),
                              row["snippet"])
            else:
                suggestion = row.get("suggestion") or {}
                table.add_row(stage["stage"], row["name_en"], f"[red]never[/] {stage['searched']['text']}", "", "",
                              f"try: “{suggestion.get('text', '')}”")
    app.console.print(table)


@sop_app.command("show")
def show_command(
    ctx: typer.Context,
    stage: Annotated[str | None, typer.Argument(help="A stage key or SOP name; all SOPs when left out.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the SOPs as JSON.")] = False,
) -> None:
    """Print the SOPs: their steps, the key question each asks, and example phrasings."""
    from talktrack.pipelines.semantic.sop_book import SopConfigError, load_sop_book

    app: AppContext = ctx.obj
    try:
        book = load_sop_book(app.settings)
    except SopConfigError as exc:
        fail(str(exc))
    sops = [s for s in book.sops.values() if stage is None or stage in (s.key, s.stage)]
    if not sops:
        fail(f"no SOP for {stage!r}; known: {sorted(book.sops)}")
    if as_json:
        typer.echo(json.dumps([_sop_dict(s) for s in sops], indent=2, ensure_ascii=False))
        return
    for sop in sops:
        scope = f" (stage {sop.stage})" if sop.stage else " (scenario)"
        table = Table(title=f"{sop.key}: {sop.name_en} / {sop.name_zh}{scope}")
        for column in ("step", "key question", "example (en)", "example (zh)"):
            table.add_column(column)
        for step in sop.steps:
            table.add_row(f"{step.name_en} / {step.name_zh}", step.key_question or "", step.examples["en"][0],
                          step.examples["zh"][0])
        app.console.print(table)


def _sop_dict(sop) -> dict:
    return {"key": sop.key, "name_en": sop.name_en, "name_zh": sop.name_zh, "stage": sop.stage,
            "channels": list(sop.channels),
            "steps": [{"key": s.key, "name_en": s.name_en, "name_zh": s.name_zh, "key_question": s.key_question,
                       "examples": {lang: list(v) for lang, v in s.examples.items()}} for s in sop.steps]}


@sop_app.command("eval")
def eval_command(
    ctx: typer.Context,
    world: Annotated[Path, typer.Option("--world", help="A generated world folder (with truth.json) imported here.")],
    max_calls: Annotated[int | None, typer.Option("--max-calls", min=1, help="Whole deals up to this many calls.")]
    = None,
    seed: Annotated[int, typer.Option(help="Seed of the deal sample.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON only.")] = False,
) -> None:
    """Key-question coverage vs the world's truth: P/R/F1 per key question and language, deal flags, calls/s."""
    from rich.console import Console

    from talktrack.cli.progress import progress_hook
    from talktrack.evaluation.semantic.sop import evaluate_key_questions

    app: AppContext = ctx.obj
    if not (world / "truth.json").is_file():
        fail(f"--world {world}: no truth.json there (generate one with `talktrack world generate`)")
    console = Console(file=sys.stderr, quiet=True) if as_json else app.console
    try:
        with progress_hook(console) as hook:
            report = evaluate_key_questions(world, app.catalog, app.settings, app.workspace, max_calls,
                                            seed=seed, progress=hook)
    except KeyError as exc:
        fail(f"call {exc.args[0]!r} of the catalog is not in {world}/truth.json: "
              "evaluate against the world imported into this workspace")
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Key-question coverage on {report['calls']} calls ({report['calls_per_s']} calls/s)")
    for column in ("language", "key question", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="right")
    for language, block in report["key_questions"]["per_language"].items():
        for kq, m in block["per_key_question"].items():
            table.add_row(language, kq, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                          str(m["support"]))
        m = block["micro"]
        table.add_row(language, "[bold]micro[/]", f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                      str(m["support"]))
    app.console.print(table)
    deals = report["deals"]
    flags = deals["never_covered_flags"]
    app.console.print(f"deal never-covered flags: accuracy {deals['accuracy']}, "
                      f"precision {flags['precision']}, recall {flags['recall']}")
