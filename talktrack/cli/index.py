"""CLI commands of the semantic layer: ``talktrack index build`` and ``talktrack search``."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from talktrack.cli.context import AppContext, fail
from talktrack.cli.progress import progress_hook

index_app = typer.Typer(help="The FAISS utterance index.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``talktrack`` app."""
    app.add_typer(index_app, name="index")
    app.command("search")(search_command)


@index_app.command("build")
def build_command(
    ctx: typer.Context,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop the saved index and embed everything again.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the build report as JSON.")] = False,
) -> None:
    """Embed the catalog's utterances not yet indexed and save the index (incremental)."""
    from talktrack.models.vector_index import VectorIndexError
    from talktrack.pipelines.semantic.index import build_utterance_index

    app: AppContext = ctx.obj
    console = Console(file=sys.stderr, quiet=True) if as_json else app.console
    try:
        with progress_hook(console) as hook:
            report = build_utterance_index(app.catalog, app.settings, app.workspace, progress=hook, rebuild=rebuild)
    except VectorIndexError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    _print_build(app, report)


def search_command(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What to look for, in any words (English or Chinese).")],
    k: Annotated[int, typer.Option("-k", "--top", help="How many matches.", min=1, max=1000)] = 10,
    role: Annotated[str | None, typer.Option(help="Only utterances of this speaker role: rep or customer.")] = None,
    outcome: Annotated[str | None, typer.Option(help="Only calls of deals with this status: won, lost or open.")] = None,
    rep: Annotated[str | None, typer.Option(help="Only calls of this rep (external id).")] = None,
    team: Annotated[str | None, typer.Option(help="Only calls of reps in this team (external id).")] = None,
    stage: Annotated[str | None, typer.Option(help="Only calls in this stage (stage key).")] = None,
    language: Annotated[str | None, typer.Option(help="Only utterances in this language: en, zh or mixed.")] = None,
    since: Annotated[str | None, typer.Option(help="Only calls on or after this date (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Only calls on or before this date (YYYY-MM-DD).")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel: call, chat, email or voice_note.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the matches as JSON.")] = False,
) -> None:
    """Find utterances and chat or e-mail messages by meaning, with where, when, who and similarity."""
    from talktrack.models.vector_index import VectorIndexError
    from talktrack.pipelines.semantic.index import IndexNotBuiltError, UtteranceIndex

    app: AppContext = ctx.obj
    filters = dict(channel=channel, role=role, outcome=outcome, rep=rep, team=team, stage=stage, language=language,
                   date_from=_date("--since", since), date_to=_date("--until", until))
    _check_stage(app, stage)
    try:
        hits = UtteranceIndex(app.catalog, app.settings, app.workspace).search(text, k, **filters)
    except IndexNotBuiltError as exc:
        fail(f"{exc}")
    except (VectorIndexError, ValueError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps({"query": text, "k": k, "filters": {n: str(v) for n, v in filters.items() if v is not None},
                               "hits": [hit.to_dict() for hit in hits]}, indent=2, ensure_ascii=False))
        return
    _print_hits(app, text, hits)


def _print_build(app: AppContext, report) -> None:
    table = Table(title=f"Utterance index ({report.utterances} utterances, {report.skipped_short} too short to index)")
    for column in ("space", "embedder", "kind", "vectors", "added", "removed", "seconds"):
        table.add_column(column, no_wrap=True, justify="right" if column in ("vectors", "added", "removed", "seconds") else "left")
    for space in report.spaces.values():
        kind = f"{space.kind} (rebuilt)" if space.rebuilt else space.kind
        table.add_row(space.space, space.embedder, kind, str(space.vectors), str(space.added), str(space.removed),
                      f"{space.seconds:.1f}")
    app.console.print(table)
    app.console.print(f"index built in {report.seconds:.1f} s")


def _print_hits(app: AppContext, text: str, hits) -> None:
    if not hits:
        app.console.print(f"no matches for {text!r}")
        return
    table = Table(title=f"Matches for {text!r}")
    for column in ("where", "time", "speaker", "similarity", "text"):
        table.add_column(column, justify="right" if column == "similarity" else "left",
                         overflow="fold" if column == "text" else "ellipsis")
    for hit in hits:
        speaker = f"{hit.speaker} ({hit.role})"
        where = hit.call_id or f"{hit.channel} {hit.conversation_id}"
        where = where if not hit.outcome else f"{where} [{hit.outcome}]"
        when = f"{_mmss(hit.start_s)}–{_mmss(hit.end_s)}" if hit.sent_at is None else hit.sent_at.replace("T", " ")
        table.add_row(where, when, speaker, f"{hit.similarity:.3f}", hit.text)
    app.console.print(table)


def _mmss(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def _date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        fail(f"{option} {value!r} is not a date (YYYY-MM-DD)")


def _check_stage(app: AppContext, stage: str | None) -> None:
    keys = [s.key for s in app.settings.stages]
    if stage is not None and stage not in keys:
        fail(f"--stage {stage!r} is not one of: {', '.join(keys)}")

