"""``talktrack eval ...``: quality against references, printed as a table and written as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from talktrack.cli.context import AppContext

eval_app = typer.Typer(help="Measure quality against references and generated truth (DER, WER/CER, semantic layer).",
                       no_args_is_help=True)


def _emit(app: AppContext, report: dict, out: Path | None, as_json: bool) -> None:
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        app.console.print(f"wrote {out}")
    if as_json:
        typer.echo(text)


@eval_app.command("diarization")
def eval_diarization(
    ctx: typer.Context,
    audio_dir: Annotated[Path, typer.Option("--audio-dir", help="Folder with <uri>.wav files.")],
    rttm: Annotated[Path, typer.Option("--rttm", help="Reference RTTM.")],
    uem: Annotated[Path | None, typer.Option("--uem", help="Scored regions (UEM).")] = None,
    num_speakers: Annotated[int | None, typer.Option("--num-speakers", min=1, help="Give the true count.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """DER per file and overall (collar 0 and 0.25, with and without overlap)."""
    from talktrack.evaluation.diarization import evaluate_diarization
    from talktrack.models.diarization import build_diarizer, speaker_bounds

    app: AppContext = ctx.obj
    diarizer = build_diarizer(app.settings.models.diarizer)
    bounds = speaker_bounds(app.settings.models.diarizer, num=num_speakers)
    report = evaluate_diarization(audio_dir, rttm, uem, diarizer=diarizer, bounds=bounds)
    if not as_json:
        _print_der(app, report)
    _emit(app, report, out, as_json)


def _short(condition: str) -> str:
    """``collar_0.25_no_overlap`` → ``c0.25 no-ovl``."""
    return condition.replace("collar_", "c").replace("_no_overlap", " no-ovl")


def _print_der(app: AppContext, report: dict) -> None:
    conditions = list(report["overall"])
    table = Table(title="Diarization error rate (DER)")
    for column in ("file", "speakers ref/found", *(_short(c) for c in conditions)):
        table.add_column(column, justify="right")
    for row in report["files"]:
        speakers = f"{row.get('speakers_reference', '?')}/{row.get('speakers_found', '?')}"
        table.add_row(row["uri"], speakers, *(f"{row['der'][c]['der']:.3f}" for c in conditions))
    overall = report["overall"]
    table.add_row("[bold]overall", "", *(f"[bold]{overall[c]['der']:.3f}" for c in conditions))
    app.console.print(table)
    for skipped in report.get("skipped", []):
        app.console.print(f"[yellow]skipped[/] {skipped}")


@eval_app.command("asr")
def eval_asr(
    ctx: typer.Context,
    audio: Annotated[list[Path], typer.Option("--audio", help="Recording(s) to transcribe (repeat the option).")],
    ref: Annotated[Path, typer.Option("--ref", help="Reference: plain text, or Kaldi-style 'id text' lines.")],
    language: Annotated[str | None, typer.Option("--language", help="en → WER, zh → CER (default: from the text).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """WER (English) or CER (Chinese) of the configured transcribers, each file routed by its language."""
    from talktrack.evaluation.asr import evaluate_asr
    from talktrack.models.language_routing import LanguageRouter

    app: AppContext = ctx.obj
    report = evaluate_asr(audio, ref, transcriber=LanguageRouter(app.settings.models.transcriber), language=language)
    if not as_json:
        table = Table(title="Speech recognition error")
        for column in ("file", "metric", "error rate", "hypothesis"):
            table.add_column(column)
        for row in report["files"]:
            rate = row.get("error_rate")
            table.add_row(
                Path(row["audio"]).name, row.get("metric", "-"), f"{rate:.3f}" if rate is not None else "-",
                (row.get("hypothesis") or row.get("error") or "")[:80],
            )
        app.console.print(table)
    _emit(app, report, out, as_json)


@eval_app.command("semantic")
def eval_semantic(
    ctx: typer.Context,
    world: Annotated[Path, typer.Option("--world", help="A generated world (talktrack world generate).")],
    train_world: Annotated[Path | None, typer.Option(
        "--train-world", help="World whose labels train the moment detector (default: a new one, seed + 1000).")] = None,
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", help="Where the fresh workspace goes (default: <workspace>/eval/semantic-<world name>).")] = None,
    max_calls_moments: Annotated[int, typer.Option(help="Calls sampled to grade moments.")] = 1500,
    max_calls_sop: Annotated[int, typer.Option(help="Calls sampled to grade key questions.")] = 1000,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """The semantic layer on a fresh workspace from WORLD, graded by its truth: moments, search recall,
    mined tracks, key questions, evidence; with the issue's targets checked."""
    from talktrack.cli.progress import progress_hook
    from talktrack.evaluation.semantic.run import evaluate_semantic

    app: AppContext = ctx.obj
    workdir = _fresh_workdir(app, world, workdir, "semantic")
    console = app.console if not as_json else _stderr_console()
    with progress_hook(console) as hook:
        report = evaluate_semantic(world, app.settings, workdir, train_world=train_world,
                                   max_calls_moments=max_calls_moments, max_calls_sop=max_calls_sop,
                                   progress=hook, say=lambda message: console.print(f"[bold]{message}"))
    if not as_json:
        _print_targets(app, report["targets"])
    _emit(app, report, out, as_json)


def _fresh_workdir(app: AppContext, world: Path, workdir: Path | None, kind: str) -> Path:
    """The evaluation's own folder, emptied; refuses a folder that is not a generated world."""
    import shutil

    if not (world / "truth.json").is_file():
        typer.echo(f"error: {world}: not a generated world (no truth.json)", err=True)
        raise typer.Exit(2)
    workdir = workdir or app.workspace.root / "eval" / f"{kind}-{world.resolve().name}"
    if workdir.exists():
        shutil.rmtree(workdir)
    return workdir


def _print_targets(app: AppContext, targets: dict) -> None:
    table = Table(title="Semantic layer against the world's truth")
    for column in ("figure", "value", "target", "met"):
        table.add_column(column)
    for name, target in targets.items():
        if isinstance(target, dict):
            value = target["value"]
            table.add_row(name, f"{value:.3f}" if isinstance(value, float) else str(value), target["target"],
                          "[green]yes[/]" if target["met"] else "[red]no[/]")
    app.console.print(table)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


@eval_app.command("models")
def eval_models(
    ctx: typer.Context,
    world: Annotated[Path, typer.Option("--world", help="A generated world (talktrack world generate).")],
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", help="Where the fresh workspaces go (default: <workspace>/eval/models-<world name>).")] = None,
    moments: Annotated[str, typer.Option(
        help="Moments for both models: detector (trained on another seed) | oracle | none.")] = "detector",
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Train the deal scorer and the capability model on fresh workspaces from WORLD and grade them
    by its truth: AUC vs the Bayes-optimal AUC, Brier, ECE; Spearman with the hidden skill levels."""
    from talktrack.evaluation.models.capability import evaluate_capability
    from talktrack.evaluation.models.customer import evaluate_customer_scorer

    app: AppContext = ctx.obj
    workdir = _fresh_workdir(app, world, workdir, "models")
    console = app.console if not as_json else _stderr_console()
    console.print("[bold]customer scorer ...")
    customer = evaluate_customer_scorer(world, app.settings, workdir / "customer", moments=moments)
    console.print("[bold]capability model ...")
    capability = evaluate_capability(world, app.settings, workdir / "capability", moments=moments)
    report = {"customer_scorer": customer, "capability": capability}
    if not as_json:
        app.console.print({k: customer[k] for k in ("auc", "bayes_auc", "auc_gap", "brier", "ece") if k in customer})
        app.console.print({"spearman_mean": {name: capability[name]["mean"] for name in
                                             ("blended", "surveys_only", "surveys_raw", "model_only")},
                           "features_gain_mean": capability["features_gain_mean"]})
    _emit(app, report, out, as_json)


@eval_app.command("chat-features")
def eval_chat_features(
    ctx: typer.Context,
    world: Annotated[Path, typer.Option("--world", help="A generated world (talktrack world generate).")],
    chat_seed: Annotated[int, typer.Option(help="Seed of the world's generated chats and e-mails.")] = 11,
    text_dir: Annotated[Path | None, typer.Option(
        "--text-dir", help="Real chats with outcomes (a folder holding persuasionforgood/), e.g. ../shared/data/text.")] = None,
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", help="Where the fresh workspace goes (default: <workspace>/eval/chat-features-<world name>).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """The deal scorer with and without its chat/e-mail features on WORLD's holdout (AUC, log-loss,
    paired bootstrap), and the chat features alone on real chats with an outcome."""
    from talktrack.evaluation.models.chat_features import evaluate_chat_features

    app: AppContext = ctx.obj
    workdir = _fresh_workdir(app, world, workdir, "chat-features")
    report = {"chat_features": evaluate_chat_features(world, app.settings, workdir, chat_seed=chat_seed,
                                                      text_dir=text_dir)}
    if not as_json:
        generated, real = report["chat_features"]["generated"], report["chat_features"]["real"]
        app.console.print({name: generated[name] for name in ("without_chats", "with_chats", "difference")})
        if real:
            app.console.print({k: real[k] for k in ("chats", "cv_auc", "cv_log_loss", "prior_log_loss")})
    _emit(app, report, out, as_json)


@eval_app.command("quotes")
def eval_quotes(
    ctx: typer.Context,
    bases: Annotated[int, typer.Option(min=2, help="Generated proposals to issue and forge.")] = 24,
    seed: Annotated[int, typer.Option(help="Seed of the generated proposals.")] = 0,
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", help="Where the files and catalog go (default: <workspace>/eval/quotes).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Issue watermarked quotes, forge them (edited text, pages added/removed/swapped, mark stripped or copied,
    another deal's) and report the share flagged and the false alarms on intact files."""
    from talktrack.evaluation.quotes import evaluate_quotes

    app: AppContext = ctx.obj
    report = evaluate_quotes(workdir or app.workspace.root / "eval" / "quotes", bases=bases, seed=seed)
    if not as_json:
        for name in ("generated", "third_party"):
            part = report[name]
            app.console.print(f"{name}: " + ("none found" if part is None else
                              f"{part['bases']} bases, {part['forged']} forged files, flagged "
                              f"{part['flagged_share']:.4f}; false alarms {part['false_alarms']} of {part['intact']}"))
    _emit(app, report, out, as_json)


@eval_app.command("management")
def eval_management(
    ctx: typer.Context,
    world: Annotated[Path, typer.Option("--world", help="A generated world (talktrack world generate).")],
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", help="Where the fresh workspace goes (default: <workspace>/eval/management-<world name>).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Import WORLD into a fresh workspace and grade the management figures against its truth: healthy
    contract value (must be exact), exclusions per reason, concentration flags and the planted region."""
    from talktrack.evaluation.management import evaluate_management

    app: AppContext = ctx.obj
    report = evaluate_management(world, app.settings, _fresh_workdir(app, world, workdir, "management"))
    if not as_json:
        _print_management(app, report)
    _emit(app, report, out, as_json)


def _print_management(app: AppContext, report: dict) -> None:
    revenue = report["revenue"]
    healthy, excluded, flags = revenue["healthy_value"], revenue["excluded"], revenue["concentration"]
    table = Table(title=f"Management figures against the world's truth (as of {revenue['as_of']})")
    for column in ("figure", "value", "target", "met"):
        table.add_column(column)
    rows = (
        ("healthy contract value cells exact", f"{healthy['cells'] - healthy['mismatches']}/{healthy['cells']}",
         "all", healthy["exact"]),
        ("exclusions per reason exact", f"{excluded['ours']} vs {excluded['truth']}", "equal", excluded["exact"]),
        ("concentration figures and flags agree", str(flags["all_agree"]), "True", flags["all_agree"]),
        ("planted region flagged: recall", f"{flags['recall']:.2f}", "1.00", flags["recall"] == 1.0),
        ("flagged regions: precision", f"{flags['precision']:.2f}", "1.00", flags["precision"] == 1.0),
    )
    ltv = report.get("ltv_cac")
    if ltv:
        worst = ltv["max_source_error"]
        rows += (
            ("LTV/CAC costs (marketing, sales hours, won) exact", str(ltv["costs_exact"]), "True", ltv["costs_exact"]),
            ("LTV/CAC per source within 10 % of the truth", f"{ltv['sources_within_target']}/{ltv['sources']}"
             + ("" if worst is None else f" (worst {worst:.1%})"), "all", ltv["sources_within_target"] == ltv["sources"]),
        )
    credibility = report.get("credibility")
    if credibility:
        rows += (("credibility counts (fields by hand/captured, checks made/passed) exact",
                  f"{credibility['counts'] - credibility['mismatches']}/{credibility['counts']}", "all",
                  credibility["exact"]),)
    anomalies = report.get("anomalies")
    if anomalies:
        recall, precision = anomalies["recall"], anomalies["precision"]
        rows += (
            ("planted visit padding caught: recall", f"{anomalies['caught']}/{len(anomalies['planted'])}", ">= 0.90",
             recall is not None and recall >= 0.9),
            ("anomaly cases right: precision", f"{anomalies['right_cases']}/{anomalies['cases']}", ">= 0.90",
             precision is not None and precision >= 0.9),
        )
    sandbox = report.get("sandbox")
    if sandbox:
        change = sandbox["margin_change"]
        rows += (("sandbox: true margin change inside the 90 % interval", f"{change['coverage']:.0%} of "
                  f"{sandbox['scenarios']} scenarios", ">= 85 %", change["met"]),)
    for name, value, target, met in rows:
        table.add_row(name, value, target, "[green]yes[/]" if met else "[red]no[/]")
    app.console.print(table)


@eval_app.command("gates")
def eval_gates(
    ctx: typer.Context,
    world: Annotated[Path, typer.Option("--world", help="A generated world (talktrack world generate).")],
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", help="Where the fresh workspace goes (default: <workspace>/eval/gates-<world name>).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Stage gates graded by the world's truth: stage changes without real evidence caught (recall, also on
    changes whose evidence is fake) and changes with real evidence refused (false refusals)."""
    from talktrack.evaluation.stage_gates import evaluate_gates

    app: AppContext = ctx.obj
    workdir = _fresh_workdir(app, world, workdir, "gates")
    report = evaluate_gates(world, app.settings, workdir)
    if not as_json:
        for name in ("configured", "world_requirements"):
            part = report[name]
            app.console.print(f"{name}: {part['gated']} gated changes, recall {part['recall']} "
                              f"(fake evidence {part['recall_fake_evidence']}), false refusals "
                              f"{part['false_refusals']} of {part['backed']} ({part['false_refusal_rate']})")
    _emit(app, report, out, as_json)


@eval_app.command("ocr")
def eval_ocr(
    ctx: typer.Context,
    world: Annotated[Path, typer.Option("--world", help="A generated world with screenshots (world generate "
                                                        "--screenshots N).")],
    limit: Annotated[int | None, typer.Option(min=1, help="Read at most this many screenshots.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Merge the report into this JSON file under "
                                                           "'calendar_ocr' (e.g. bench/results/stage_gates.json).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Calendar screenshots read by the real OCR engine: field accuracy (date, time, customer; target >= 95 %)
    and the booking check on genuine, another customer's and doctored screenshots; beside them the
    hand-written entries of real calendar apps (real_phrasing/calendar_entries.yaml), from text and via OCR."""
    from talktrack.evaluation.calendar_ocr import evaluate_calendar_ocr, evaluate_real_entries

    app: AppContext = ctx.obj
    report = evaluate_calendar_ocr(world, app.settings, limit=limit)
    report["real_entries"] = evaluate_real_entries(app.settings)
    if not as_json:
        real = report["real_entries"]
        app.console.print("real calendar formats, test split: field accuracy "
                          f"{real['text_test']['all']['field_accuracy']['rate']} from text, "
                          f"{real['ocr_test']['all']['field_accuracy']['rate']} via OCR (dev "
                          f"{real['text_dev']['all']['field_accuracy']['rate']} / "
                          f"{real['ocr_dev']['all']['field_accuracy']['rate']})")
        fields, decisions = report["fields"]["all"], report["decisions"]
        app.console.print(f"{report['screenshots']} screenshots: field accuracy {fields['field_accuracy']['rate']} "
                          f"(date {fields['date']['rate']}, time {fields['time']['rate']}, customer "
                          f"{fields['customer']['rate']}); genuine accepted {decisions['genuine']['rate']}, other "
                          f"customer's flagged {decisions['other_customer']['rate']}, doctored flagged "
                          f"{decisions['doctored']['rate']}; {report['seconds_per_image']} s per image")
    if out is not None:
        merged = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
        _emit(app, merged | {"calendar_ocr": report}, out, False)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))


@eval_app.command("chat-summaries")
def eval_chat_summaries(
    ctx: typer.Context,
    world: Annotated[Path, typer.Option("--world", help="A generated world (talktrack world generate).")],
    chat_seed: Annotated[int, typer.Option(help="Seed of the chats written for the world.")] = 11,
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", help="Where the fresh workspace goes (default: <workspace>/eval/chat-summaries-<world name>).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Chat summaries verified against the customer's chats: genuine ones (specifics typed only in chat) passed,
    another customer's copies and invented specifics flagged, on WORLD's chats and on the hand-written
    real-style cases (real_phrasing/chat_summaries.yaml, dev and test)."""
    from talktrack.evaluation.chat_evidence import evaluate_chat_summaries

    app: AppContext = ctx.obj
    workdir = _fresh_workdir(app, world, workdir, "chat-summaries")
    report = evaluate_chat_summaries(world, app.settings, workdir, chat_seed=chat_seed)
    if not as_json:
        real = report["real_style"]
        for name, block in (("generated", report["generated"]["all"]), ("real-style dev", real["dev"]["all"]),
                            ("real-style test", real["test"]["all"])):
            app.console.print(f"{name}: {block['n']} summaries, fakes flagged precision {block['precision']} recall "
                              f"{block['recall']}; genuine verified {block['genuine_passed']}")
    _emit(app, report, out, as_json)
