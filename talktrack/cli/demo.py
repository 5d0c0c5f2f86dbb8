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
from talktrack.core.clock import utcnow


LABELS_SEED_OFFSET = 1000
SOP_SAMPLE_CALLS = 200
LABELS_WORLD = {"reps": 12, "customers": 120, "deals": 300, "calls": 900, "audio": 0}


@dataclass
class DemoRun:
    app: AppContext
    seed: int
    world_dir: Path | None = None
    results: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    ids: object | None = None  # demo_service.DemoIds, once the keys step ran


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
        as_of=utcnow().date(),  # the demo world ends today: open deals are open now
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


def train_moments_step(run: DemoRun) -> str:
    """Teach the moment detector from labels generated in another world (a different seed):
    the demo's own calls stay unseen, as a customer's would be."""
    from talktrack.evaluation.world.labels import labels_from_new_world
    from talktrack.pipelines.semantic.moments import train_detector

    labels_file = labels_from_new_world(run.app.workspace.worlds_dir / f"labels-seed{run.seed + LABELS_SEED_OFFSET}",
                                        run.seed + LABELS_SEED_OFFSET, LABELS_WORLD)
    detector = train_detector(run.app.catalog, run.app.settings, run.app.workspace, labels_file=labels_file)
    examples = sum(detector.n_examples_.values())
    return f"trained on {examples} labelled sentences (taxonomy + the seed-{run.seed + LABELS_SEED_OFFSET} world)"


def detect_moments_step(run: DemoRun) -> str:
    from talktrack.pipelines.semantic.moments import detect_calls

    with progress_hook(run.app.console) as hook:
        summary = detect_calls(run.app.catalog, run.app.settings, run.app.workspace, progress=hook)
    return f"{summary.calls_detected} calls labelled ({summary.moments} moments), model {summary.model}"


def index_step(run: DemoRun) -> str:
    from talktrack.pipelines.semantic.index import build_utterance_index

    with progress_hook(run.app.console) as hook:
        report = build_utterance_index(run.app.catalog, run.app.settings, run.app.workspace, progress=hook)
    data = report.to_dict()
    spaces = ", ".join(f"{name}: {space['vectors']} vectors ({space['kind']})" for name, space in data["spaces"].items())
    added = sum(space["added"] for space in data["spaces"].values())
    return f"{added} utterances added; {spaces}"


def mine_step(run: DemoRun) -> str:
    from talktrack.cli.mining import print_mining_report
    from talktrack.pipelines.mining import mine_talk_tracks

    report = mine_talk_tracks(run.app.catalog, run.app.settings, run.app.workspace)
    print_mining_report(run.app.console, report)
    tracks = [t["key"] for block in report["objection_types"] for t in block["tracks"]]
    return f"{len(tracks)} talk tracks from {report['episodes']} objection episodes: {', '.join(tracks) or 'none'}"


def sop_step(run: DemoRun) -> str:
    from talktrack.pipelines.semantic.sop import check_calls

    with progress_hook(run.app.console) as hook:
        results = check_calls(run.app.catalog, run.app.settings, run.app.workspace,
                              call_ids=_latest_calls(run.app.catalog, SOP_SAMPLE_CALLS), progress=hook)
    if not results:
        return "no calls to check"
    compliance = sum(r.compliance for r in results) / len(results)
    missing: dict[str, int] = {}
    for result in results:
        for question in result.missing_key_questions:
            missing[question] = missing.get(question, 0) + 1
    worst = ", ".join(f"{q} ({n})" for q, n in sorted(missing.items(), key=lambda item: -item[1])[:3])
    return f"the latest {len(results)} calls checked, mean SOP compliance {compliance:.0%}; most often missed: {worst or 'none'}"


def _latest_calls(catalog, count: int) -> list[str]:
    from sqlalchemy import select

    from talktrack.core.catalog.schema import Call

    with catalog.session() as session:
        return list(session.scalars(select(Call.external_id).order_by(Call.started_at.desc()).limit(count)))


def evidence_step(run: DemoRun) -> str:
    from talktrack.pipelines.semantic.evidence import verify_all

    with progress_hook(run.app.console) as hook:
        reports = verify_all(run.app.catalog, run.app.settings, run.app.workspace, progress=hook)
    flagged = [r for r in reports if r.fake_progress]
    for report in flagged[:3]:
        run.app.console.print(f"[yellow]fake progress?[/] {report.deal_id}: {report.reasons[0] if report.reasons else ''}")
    return f"{len(reports)} deals with evidence verified; {len(flagged)} flagged for fake progress"


def train_customer_step(run: DemoRun) -> str:
    """Train the deal scorer, log it to MLflow and let the champion gate decide."""
    from talktrack.training.customer import train_customer

    result = train_customer(run.app.catalog, run.app.settings, run.app.workspace)
    metrics, promotion = result.metrics, result.promotion
    decision = f"v{promotion.version} {'champion' if promotion.promoted else 'not promoted'}" if promotion else "not registered"
    return f"holdout AUC {metrics['holdout_auc']:.3f}, ECE {metrics['holdout_ece']:.3f}; {decision}"


def train_capability_step(run: DemoRun) -> str:
    """Train the capability model, register it, and draw a team heatmap and one rep's radar."""
    from talktrack.training.capability import example_plots, register_capability, train_capability

    result = train_capability(run.app.catalog, run.app.settings, run.app.workspace)
    plots = example_plots(result, result.model_dir / "plots")
    promotion = register_capability(run.app.settings, run.app.workspace, result, plots)
    pictures = _draw_team_pictures(run, result.estimates)
    for picture in pictures:
        run.app.console.print(f"picture: {picture}")
    run.app.console.print(f"MLflow UI: mlflow ui --backend-store-uri {_tracking_uri(run)}  (then open http://127.0.0.1:5000)")
    decision = f"v{promotion.version} {'champion' if promotion.promoted else 'not promoted'}"
    return f"{len(result.estimates)} rep-month-dimension estimates; {decision}; {len(pictures)} pictures drawn"


def _draw_team_pictures(run: DemoRun, estimates) -> list[str]:
    from sqlalchemy import select

    from talktrack.core.catalog.schema import Team
    from talktrack.pipelines.coaching import draw_heatmap, draw_radar, rep_radar, team_heatmap

    folder = run.app.workspace.root / "pictures"
    folder.mkdir(parents=True, exist_ok=True)
    with run.app.catalog.session() as session:
        team = session.scalars(select(Team.external_id).order_by(Team.external_id)).first()
    view = team_heatmap(run.app.catalog, run.app.settings, estimates, team)
    radar = rep_radar(run.app.catalog, run.app.settings, estimates, view.reps[0])
    return [str(draw_heatmap(view, folder / f"heatmap-{team}.png")),
            str(draw_radar(radar, folder / f"radar-{view.reps[0]}.png"))]


def _tracking_uri(run: DemoRun) -> str:
    from talktrack.training.registry import tracking_uri

    return tracking_uri(run.app.settings, run.app.workspace)


def report_step(run: DemoRun) -> str:
    from talktrack.core.catalog.summary import summarize

    summary = summarize(run.app.catalog)
    print_workspace_summary(run.app.console, run.app.workspace.root, summary)
    entities = summary["entities"]
    return f"{entities['deals']} deals, {entities['calls']} calls, {entities['utterances']} utterances"


def service_keys_step(run: DemoRun) -> str:
    """A fresh API key per role for the service the demo ends with (old demo keys revoked)."""
    from talktrack.cli.demo_service import demo_ids, demo_keys

    run.ids = demo_ids(run.app, run.world_dir)
    run.keys = demo_keys(run.app, run.ids)
    return f"{len(run.keys)} keys ({', '.join(run.keys)}); examples below"


STEPS: list[tuple[str, Callable[[DemoRun], str]]] = [
    ("generate world", generate_world_step),
    ("import", import_step),
    ("ingest audio", ingest_audio_step),
    ("train moments", train_moments_step),
    ("detect moments", detect_moments_step),
    ("index", index_step),
    ("mine talk tracks", mine_step),
    ("SOP and key questions", sop_step),
    ("evidence", evidence_step),
    ("train deal scorer", train_customer_step),
    ("train capability", train_capability_step),
    ("service keys", service_keys_step),
    ("report", report_step),
]


def run_demo(app: AppContext, seed: int | None = None) -> DemoRun | None:
    """Run every step in order; stop at the first failure and say which step failed and why.

    Returns the finished run (its keys and ids feed the service examples), or None on a failure."""
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
    return run if ok else None


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
    """Render the calls of every language a configured model reads (Mandarin too, by default); with only
    an English model configured, the English ones."""
    from talktrack.models.language_routing import readable_languages

    readable = readable_languages(settings.models.transcriber)
    return [language for language in languages if language in readable] or list(languages)


def _espeak_available() -> bool:
    import shutil

    return shutil.which("espeak-ng") is not None
