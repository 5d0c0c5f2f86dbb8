"""CLI commands of the semantic layer: moments and field notes (registered on the main app by :func:`register`).

``talktrack moments`` is a command group (a free-text argument would clash with its
subcommands), so tagging a text is ``talktrack moments tag "TEXT"``:

- ``moments tag "TEXT" [--role rep|customer] [--language en|zh] [--json]``: labels with scores per sentence;
- ``moments detect [--force]``: run the detector over the catalog's calls (progress bar);
- ``moments train [--labels FILE.jsonl]``: retrain from the taxonomy + moment_labels (+ a labels file);
- ``moments label "TEXT" --kind objection|move --label KEY``: record a coach's decision;
- ``notes "TEXT" [--date YYYY-MM-DD] [--json]``: objections, decision-chain roles, next action and date.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from talktrack.cli.context import AppContext, fail
from talktrack.cli.progress import progress_hook

moments_app = typer.Typer(help="Objections and rep moves: tag text, detect over calls, train, label.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``talktrack`` app."""
    app.add_typer(moments_app, name="moments")
    app.command("notes")(notes_command)



def _role(role: str | None) -> str | None:
    if role not in (None, "rep", "customer"):
        fail(f"--role {role!r}: expected rep or customer")
    return role


@moments_app.command("tag")
def tag_command(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="An utterance or a few sentences, English or Chinese.")],
    role: Annotated[str | None, typer.Option(help="Who said it: rep (moves) or customer (objections); "
                                                  "default both.")] = None,
    language: Annotated[str | None, typer.Option(help="en or zh (informational; both are handled).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Print the objection/move labels of each sentence with their scores."""
    from talktrack.pipelines.semantic.moments import load_detector

    app: AppContext = ctx.obj
    if language not in (None, "en", "zh"):
        fail(f"--language {language!r}: expected en or zh")
    detector = load_detector(app.settings, app.workspace)
    rows = detector.explain(text, _role(role))
    if as_json:
        typer.echo(json.dumps({"model": detector.version, "role": role, "language": language, "sentences": rows},
                              indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Moments (model {detector.version})")
    for column in ("#", "sentence", "label", "top scores"):
        table.add_column(column)
    for row in rows:
        for kind, label in row["labels"].items():
            scores = ", ".join(f"{name} {score:.2f}" for name, score in row["scores"][kind])
            table.add_row(str(row["sentence"]), row["text"], f"{kind}: {label}", scores)
    app.console.print(table)


@moments_app.command("detect")
def detect_command(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Re-detect every call, even those up to date.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Detect objections and moves in every call, chat and e-mail thread not yet labelled by the current model."""
    from talktrack.pipelines.semantic.chat_text import analyse_chats
    from talktrack.pipelines.semantic.moments import detect_calls, load_detector

    app: AppContext = ctx.obj
    console = Console(file=sys.stderr, quiet=True) if as_json else app.console
    detector = load_detector(app.settings, app.workspace)
    with progress_hook(console) as hook:
        summary = detect_calls(app.catalog, app.settings, app.workspace, progress=hook, force=force, detector=detector)
        chats = analyse_chats(app.catalog, detector, force=force, progress=hook)
    if as_json:
        typer.echo(json.dumps(summary.to_dict() | {"chats": chats.to_dict()}, indent=2))
        return
    app.console.print(f"model {summary.model}: {summary.calls_detected} calls labelled, {summary.moments} moments; "
                      f"{chats.conversations_pending} chat/e-mail threads read into {chats.utterances} utterances, "
                      f"{chats.moments} moments")


@moments_app.command("train")
def train_command(
    ctx: typer.Context,
    labels: Annotated[Path | None, typer.Option("--labels", help="A JSONL file of labelled sentences "
                                                "({text, language, kind, label}); stored as generated labels.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Retrain the detector from the taxonomy, the catalog's moment labels and an optional labels file."""
    from talktrack.models.moments import DetectorError, TaxonomyError
    from talktrack.pipelines.semantic.moments import MomentLabelError, model_dir, train_detector

    app: AppContext = ctx.obj
    try:
        detector = train_detector(app.catalog, app.settings, app.workspace, labels_file=labels)
    except (MomentLabelError, TaxonomyError, DetectorError) as exc:
        fail(str(exc))
    result = {"model": detector.version, "examples": detector.n_examples_, "saved_to": str(model_dir(app.workspace))}
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    app.console.print(f"trained {result['model']} on {result['examples']}; saved to {result['saved_to']}")


@moments_app.command("label")
def label_command(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The sentence the coach labels.")],
    kind: Annotated[str, typer.Option(help="objection or move.")],
    label: Annotated[str, typer.Option(help="An objection type / move key, or none.")],
    language: Annotated[str, typer.Option(help="en, zh or mixed.")] = "en",
    actor: Annotated[str, typer.Option(help="Who decided (kept with the label).")] = "coach",
) -> None:
    """Record a coach's label for a sentence (used at the next `moments train`)."""
    from talktrack.pipelines.semantic.moments import MomentLabelError, add_coach_label

    app: AppContext = ctx.obj
    try:
        label_id = add_coach_label(app.catalog, text, kind, label, language, actor, settings=app.settings)
    except MomentLabelError as exc:
        fail(str(exc))
    app.console.print(f"label {label_id} stored; run `talktrack moments train` to learn from it")


def notes_command(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="A field voice-note transcript or a call's text (en or zh).")],
    on: Annotated[str | None, typer.Option("--date", help="Reference day for relative dates (YYYY-MM-DD); "
                                                          "default today.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Extract objections, decision-chain roles and the next action with its date."""
    from talktrack.pipelines.semantic.moments import field_notes

    app: AppContext = ctx.obj
    try:
        reference = date.fromisoformat(on) if on else date.today()
    except ValueError:
        fail(f"--date {on!r}: expected YYYY-MM-DD")
    try:
        notes = field_notes(app.settings, app.workspace, text, reference)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(notes.to_dict(), indent=2, ensure_ascii=False))
        return
    console = app.console
    console.print("[bold]Objections[/bold]: " + ("; ".join(f"{o['type']} ({o['score']:.2f}): {o['text']}"
                                                          for o in notes.objections) or "none"))
    console.print("[bold]Decision chain[/bold]: " + ("; ".join(
        f"{p.role.replace('_', ' ')}: {' - '.join(filter(None, (p.name, p.title)))}" for p in notes.people)
        or "none named"))
    action = notes.next_action
    console.print("[bold]Next action[/bold]: " + (f"{action.text} (date: {action.date or 'not given'})"
                                                  if action else "none"))
