"""Speech commands: ``transcribe`` (files → JSON/RTTM/SRT), ``ingest`` (Ray → catalog), ``voiceprint``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from talktrack.cli.context import AppContext
from talktrack.cli.progress import progress_hook

voiceprint_app = typer.Typer(help="Enrol reps' voices so calls know which speaker is the rep.", no_args_is_help=True)

NumSpeakers = Annotated[int | None, typer.Option("--speakers", "--num-speakers", min=1,
                                                  help="Exactly this many speakers (when you counted them).")]
MinSpeakers = Annotated[int | None, typer.Option("--min-speakers", min=1, help="At least this many speakers.")]
MaxSpeakers = Annotated[int | None, typer.Option("--max-speakers", min=1, help="At most this many speakers.")]
Language = Annotated[str | None, typer.Option("--language", help="Spoken language (e.g. en, zh); default: model's or detected.")]
CallType = Annotated[str | None, typer.Option(
    "--call-type", help="What the recordings are (models.diarizer.expected_speakers: phone_call = two parties, "
                        "meeting = no cap); a phone call never gets a third speaker.")]


def speech_options(app: AppContext, num_speakers, min_speakers, max_speakers, language, redact: bool | None = None,
                   call_type: str | None = None):
    """The per-call options, refused before any audio is read when the bounds or the call type cannot work."""
    from talktrack.models.diarization.options import speaker_bounds
    from talktrack.pipelines.speech.process import SpeechOptions

    try:
        options = SpeechOptions(
            num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers, language=language,
            redact=redact, call_type=call_type,
        )
        speaker_bounds(app.settings.models.diarizer, num=num_speakers, minimum=min_speakers, maximum=max_speakers,
                       call_type=call_type)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return options


def transcribe_command(
    ctx: typer.Context,
    audio: Annotated[list[Path], typer.Argument(help="Recordings (WAV, FLAC, MP3, M4A, OGG/Opus).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for <stem>.json, .rttm and .srt.")],
    num_speakers: NumSpeakers = None,
    min_speakers: MinSpeakers = None,
    max_speakers: MaxSpeakers = None,
    language: Language = None,
    call_type: CallType = None,
    redact: Annotated[bool | None, typer.Option("--redact/--no-redact", help="Mask PII (default: config).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the per-file results as JSON.")] = False,
) -> None:
    """Diarize and transcribe recordings to JSON, RTTM and SRT."""
    from talktrack.models.voiceprint import load_voiceprints
    from talktrack.pipelines.ingest.call import transcribe_files

    app: AppContext = ctx.obj
    options = speech_options(app, num_speakers, min_speakers, max_speakers, language, redact, call_type)
    voiceprints = load_voiceprints(app.workspace.voiceprints_dir) or None
    with progress_hook(app.console) as hook:
        outcomes = transcribe_files(audio, out, app.settings, options, progress=hook, voiceprints=voiceprints)
    if as_json:
        typer.echo(json.dumps([vars(outcome) for outcome in outcomes], indent=2, ensure_ascii=False))
    else:
        _print_outcomes(app, outcomes)
    if any(not outcome.ok for outcome in outcomes):
        raise typer.Exit(1)


def _print_outcomes(app: AppContext, outcomes) -> None:
    table = Table(title="Transcribed")
    for column in ("file", "audio s", "speakers", "RTF", "result"):
        table.add_column(column)
    for outcome in outcomes:
        if outcome.ok:
            rtf = outcome.timings.get("real_time_factor")
            table.add_row(
                Path(outcome.path).name,
                f"{outcome.duration_s:.1f}",
                str(outcome.speakers),
                f"{rtf:.3f}" if rtf is not None else "-",
                str(Path(outcome.outputs["json"]).with_suffix(".{json,rttm,srt}")),
            )
        else:
            table.add_row(Path(outcome.path).name, "-", "-", "-", f"[red]failed: {outcome.error}[/]")
    app.console.print(table)


def ingest_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A folder of recordings, or a manifest CSV (path, call_id, rep_id, ...).")],
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Join a Ray cluster (default: local Ray).")] = None,
    num_speakers: NumSpeakers = None,
    min_speakers: MinSpeakers = None,
    max_speakers: MaxSpeakers = None,
    language: Language = None,
    call_type: CallType = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Ingest recordings on Ray into the catalog (resumable).

    Re-running skips files already done (by content hash) and retries failures.
    """
    from talktrack.models.voiceprint import load_voiceprints
    from talktrack.pipelines.ingest.ray_runtime import RayClusterError
    from talktrack.pipelines.ingest.runner import ingest

    app: AppContext = ctx.obj
    if not source.exists():
        typer.echo(f"error: {source}: not found", err=True)
        raise typer.Exit(2)
    options = speech_options(app, num_speakers, min_speakers, max_speakers, language, call_type=call_type)
    voiceprints = load_voiceprints(app.workspace.voiceprints_dir) or None
    try:
        with _ingest_progress(app, quiet=as_json) as tick:
            report = ingest(
                source, app.catalog, app.settings, app.workspace.transcripts_dir,
                options=options, address=ray_address, voiceprints=voiceprints, progress=tick,
            )
    except RayClusterError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_ingest(app, report)


class _ingest_progress:
    """A bar of files with the audio hours done and the failures so far."""

    def __init__(self, app: AppContext, quiet: bool) -> None:
        self.bars = Progress(
            TextColumn("[bold]ingest"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[hours]:.3f} h audio, {task.fields[failed]} failed, {task.fields[skipped]} skipped"),
            TimeElapsedColumn(),
            console=app.console,
            disable=quiet,
        )

    def __enter__(self):
        self.bars.__enter__()
        task = self.bars.add_task("ingest", total=None, hours=0.0, failed=0, skipped=0)

        def tick(report, total: int) -> None:
            self.bars.update(
                task, total=total, completed=len(report.results), hours=report.audio_hours,
                failed=report.count("failed"), skipped=report.count("skipped"),
            )

        return tick

    def __exit__(self, *exc) -> None:
        self.bars.__exit__(*exc)


def _print_ingest(app: AppContext, report) -> None:
    summary = report.to_dict()
    app.console.print(
        f"done {summary['done']}, skipped {summary['skipped']}, failed {summary['failed']}; "
        f"{summary['audio_hours']:.3f} h of audio in {summary['seconds']:.1f} s"
    )
    for result in report.results:
        if result.status == "failed":
            reason = result.reason if result.reason.startswith(result.path) else f"{result.path}: {result.reason}"
            app.console.print(f"[red]failed[/] {reason}", highlight=False)
    for problem in report.manifest_problems:
        app.console.print(f"[red]manifest line {problem.line}[/]: {problem.reason}", highlight=False)


@voiceprint_app.command("enroll")
def voiceprint_enroll(
    ctx: typer.Context,
    rep_id: Annotated[str, typer.Argument(help="The rep's external id (as in reps.csv).")],
    audio: Annotated[list[Path], typer.Argument(help="Recordings of the rep alone (a few seconds each or more).")],
) -> None:
    """Enrol a rep's voiceprint from recordings of their voice."""
    from sqlalchemy import select

    from talktrack.core.catalog.schema import Rep
    from talktrack.models.audio import AudioError, decode_audio
    from talktrack.models.voiceprint import VoiceprintError, enroll, save_voiceprint

    app: AppContext = ctx.obj
    try:
        decoded = [decode_audio(path) for path in audio]
        embedding = enroll([item.mono for item in decoded])
        path = save_voiceprint(
            app.workspace.voiceprints_dir, rep_id, embedding,
            {"sources": [str(p) for p in audio], "seconds": round(sum(d.duration_s for d in decoded), 2)},
        )
    except (AudioError, VoiceprintError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    with app.catalog.session() as session:
        known = session.scalar(select(Rep.id).where(Rep.external_id == rep_id)) is not None
    note = "" if known else f" (note: rep {rep_id!r} is not in the catalog yet)"
    app.console.print(f"voiceprint of {rep_id} saved to {path}{note}")


@voiceprint_app.command("list")
def voiceprint_list(ctx: typer.Context) -> None:
    """List the enrolled reps."""
    from talktrack.models.voiceprint import load_voiceprints

    app: AppContext = ctx.obj
    prints = load_voiceprints(app.workspace.voiceprints_dir)
    for rep_id in sorted(prints):
        typer.echo(rep_id)
    if not prints:
        typer.echo("no voiceprints enrolled (talktrack voiceprint enroll REP_ID AUDIO...)")
