"""``talktrack demo``: the main job end to end, as a list of named steps.

Later work appends its steps (transcribe, index, mine, train, serve) to ``STEPS``;
each step takes the shared :class:`DemoRun` and returns a one-line result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from talktrack.cli.context import AppContext
from talktrack.cli.progress import print_workspace_summary, progress_hook


@dataclass
class DemoRun:
    app: AppContext
    seed: int
    world_dir: Path | None = None
    results: dict[str, str] = field(default_factory=dict)


def generate_world_step(run: DemoRun) -> str:
    from talktrack.cli.world import build_spec, taxonomy_from_settings
    from talktrack.evaluation.world import generate_world

    demo = run.app.settings.demo
    run.world_dir = run.app.workspace.worlds_dir / f"demo-seed{run.seed}"
    spec = build_spec(
        seed=run.seed,
        reps=demo.reps,
        customers=demo.customers,
        deals=demo.deals,
        calls=demo.calls,
        languages=list(demo.languages),
        audio=demo.audio if _espeak_available() else 0,
        audio_languages=_audible_languages(run.app.settings, demo.languages),
    )
    with progress_hook(run.app.console) as hook:
        summary = generate_world(spec, run.world_dir, taxonomy_from_settings(run.app.settings), progress=hook)
    note = "" if _espeak_available() else " (no audio: espeak-ng missing)"
    return f"{_describe_counts(summary)} in {run.world_dir}{note}"


def import_step(run: DemoRun) -> str:
    from talktrack.pipelines.crm_import import import_directory

    with progress_hook(run.app.console) as hook:
        report = import_directory(run.app.catalog, run.app.settings, run.world_dir, progress=hook)
    totals = report.totals()
    if totals["rejected"]:
        for problem in report.problems[:10]:
            run.app.console.print(f"[red]{problem}[/]")
        raise RuntimeError(f"{totals['rejected']} generated rows were rejected by the importer")
    return f"{totals['inserted']} inserted, {totals['updated']} updated, {totals['unchanged']} unchanged"


def ingest_audio_step(run: DemoRun) -> str:
    """Run the generated recordings through the speech pipeline on Ray, into the catalog."""
    from talktrack.pipelines.ingest.runner import ingest

    audio_dir = run.world_dir / "audio"
    if not audio_dir.is_dir() or not any(audio_dir.glob("*.wav")):
        return "skipped: the world has no audio (espeak-ng missing or demo.audio = 0)"
    report = ingest(audio_dir, run.app.catalog, run.app.settings, run.app.workspace.transcripts_dir)
    if report.count("failed"):
        reasons = "; ".join(f"{r.path}: {r.reason}" for r in report.results if r.status == "failed")
        raise RuntimeError(f"{report.count('failed')} recording(s) failed: {reasons}")
    return (
        f"{report.count('done')} transcribed, {report.count('skipped')} already done; "
        f"{report.audio_hours * 60:.1f} min of audio in {report.seconds:.1f} s"
    )


def report_step(run: DemoRun) -> str:
    from talktrack.core.catalog.summary import summarize

    summary = summarize(run.app.catalog)
    print_workspace_summary(run.app.console, run.app.workspace.root, summary)
    entities = summary["entities"]
    return f"{entities['deals']} deals, {entities['calls']} calls, {entities['utterances']} utterances"


STEPS: list[tuple[str, Callable[[DemoRun], str]]] = [
    ("generate world", generate_world_step),
    ("import", import_step),
    ("ingest audio", ingest_audio_step),
    ("report", report_step),
]


def run_demo(app: AppContext, seed: int | None = None) -> bool:
    """Run every step in order; stop at the first failure and say which step failed and why."""
    run = DemoRun(app, seed if seed is not None else app.settings.demo.seed)
    rows: list[tuple[str, str, str, float]] = []
    ok = True
    for number, (name, step) in enumerate(STEPS, start=1):
        app.console.rule(f"[bold]step {number}/{len(STEPS)}: {name}")
        started = time.perf_counter()
        try:
            result, status = step(run), "ok"
        except Exception as exc:  # noqa: BLE001 - the demo reports any failure by step
            result, status, ok = f"{type(exc).__name__}: {exc}", "FAILED", False
        rows.append((name, status, result, time.perf_counter() - started))
        if not ok:
            break
    _print_summary(app, rows)
    return ok


def _print_summary(app: AppContext, rows: list[tuple[str, str, str, float]]) -> None:
    table = Table(title="TalkTrack demo")
    for column in ("step", "status", "result", "seconds"):
        table.add_column(column)
    for name, status, result, seconds in rows:
        style = "green" if status == "ok" else "red"
        table.add_row(name, f"[{style}]{status}[/]", result, f"{seconds:.1f}")
    app.console.print(table)


def _describe_counts(summary) -> str:
    counts = getattr(summary, "counts", {}) or {}
    shown = ", ".join(f"{count} {name}" for name, count in counts.items() if name in ("deals", "calls", "audio"))
    return shown or "world written"


def _audible_languages(settings, languages) -> list[str]:
    """An English-only model (``*.en``) cannot transcribe the Mandarin calls: render English ones."""
    if settings.models.transcriber.model.endswith(".en") and "en" in languages:
        return ["en"]
    return list(languages)


def _espeak_available() -> bool:
    import shutil

    return shutil.which("espeak-ng") is not None
