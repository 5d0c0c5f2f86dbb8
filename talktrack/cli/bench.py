"""``talktrack bench``: the long measurements behind README's targets, written as JSON.

Each benchmark writes ``<out>/<name>.json`` with the figures and the machine they ran on;
``make bench`` runs them all on the reference data in ``../shared/data``.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from talktrack.cli.context import AppContext, fail

bench_app = typer.Typer(help="Benchmarks: speed, DER, WER and batch robustness, as JSON.", no_args_is_help=True)

Data = Annotated[Path, typer.Option("--data", help="The reference data folder (shared/data).")]
Out = Annotated[Path, typer.Option("--out", help="Folder for the JSON results.")]
DEFAULT_DATA = Path("../shared/data")
DEFAULT_OUT = Path("bench/results")
AMI_EVAL_SETS = ("development", "test")


def _machine() -> dict:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}


def _write(app: AppContext, out: Path, name: str, figures: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": name, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": _machine(), **figures}
    path = out / f"{name}.json"
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    app.console.print(f"[green]{name}[/]: wrote {path}")


def _speed_files(data: Path) -> list[Path]:
    return [
        data / "asr_en/whisper_jfk/jfk.flac",
        data / "asr_en/wenet_librispeech/librispeech-1995-1837-0001.wav",
        data / "ami_debug/dev00.wav",
        data / "asr_en/faster_whisper_stereo/stereo_diarization.wav",
    ]


@bench_app.command("speech")
def bench_speech(
    ctx: typer.Context, data: Data = DEFAULT_DATA, out: Out = DEFAULT_OUT, repeats: int = 3,
    cold_start_only: Annotated[bool, typer.Option(
        "--cold-start-only", help="Only the whole-process cold start; the other figures of speech_speed.json "
                                  "stay, its earlier cold start is kept as cold_start_before.")] = False,
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="A checkout of an earlier commit (git worktree add) timed in the same cold-start "
                           "rounds.")] = None,
) -> None:
    """Whole pipeline vs bare faster-whisper on the same files (ratio and RTF)."""
    from talktrack.evaluation.bench_speech import bench_speed

    app: AppContext = ctx.obj
    if cold_start_only:
        _rerun_cold_start(app, data, out, repeats, baseline)
        return
    figures = bench_speed(_speed_files(data), app.settings, repeats=repeats)
    app.console.print(figures["overall"])
    figures["cold_start"] = _cold_start(app, data, repeats, baseline)
    app.console.print({"cold_start_ratio": figures["cold_start"]["ratio"]})
    _write(app, out, "speech_speed", figures)


def _rerun_cold_start(app: AppContext, data: Path, out: Path, repeats: int, baseline: Path | None) -> None:
    """A new ``cold_start`` in the existing speech_speed.json, the one it replaces kept as ``cold_start_before``."""
    path = out / "speech_speed.json"
    if not path.is_file():
        fail(f"{path}: no earlier speech bench to update; run `talktrack bench speech` first")
    previous = json.loads(path.read_text(encoding="utf-8"))
    figures = {key: value for key, value in previous.items() if key not in ("benchmark", "when", "machine")}
    figures["speed_when"] = previous.get("speed_when", previous.get("when"))  # the per-file figures' run
    figures["cold_start_before"] = {"when": previous.get("when"), **previous.get("cold_start", {})}
    figures["cold_start"] = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                             **_cold_start(app, data, repeats, baseline)}
    app.console.print({key: figures["cold_start"][key] for key in ("ratio", "cpu_ratio", "load_average_1m")})
    _write(app, out, "speech_speed", figures)


def _cold_start(app: AppContext, data: Path, repeats: int, baseline: Path | None = None) -> dict:
    """`talktrack transcribe` vs a bare faster-whisper script on the first 30 s of the real call 40."""
    import soundfile as sf

    from talktrack.evaluation.bench_speech import bench_cold_start
    from talktrack.evaluation.bench_words import CALL_40

    samples, rate = sf.read(data / f"{CALL_40}_mix.wav", dtype="int16")
    with tempfile.TemporaryDirectory(prefix="talktrack-cold-") as folder:
        path = Path(folder) / "call40_first_30s.wav"
        sf.write(path, samples[: 30 * rate], rate)
        return bench_cold_start(path, app.settings, repeats=repeats, baseline=baseline)


@bench_app.command("words")
def bench_words_command(
    ctx: typer.Context, data: Data = DEFAULT_DATA, out: Out = DEFAULT_OUT,
    mixtures: Annotated[bool, typer.Option(help="Also the call-40 mixtures (test split).")] = True,
) -> None:
    """Pipeline WER and cpWER against bare faster-whisper's WER, same model, same files (call 40, asr_en)."""
    from talktrack.evaluation.bench_words import bench_words

    app: AppContext = ctx.obj
    cache = app.workspace.root / "bench-cache" / "call-mixtures" if mixtures else None
    figures = bench_words(data, app.settings, mixtures_cache=cache)
    app.console.print(figures["overall"])
    _write(app, out, "speech_words", figures)


@bench_app.command("diarization")
def bench_diarization(ctx: typer.Context, data: Data = DEFAULT_DATA, out: Out = DEFAULT_OUT) -> None:
    """DER on the AMI debug development+test clips, speaker count found automatically."""
    from talktrack.core.config import DiarizerSettings
    from talktrack.evaluation.diarization import evaluate_diarization
    from talktrack.models.diarization import build_diarizer, speaker_bounds

    app: AppContext = ctx.obj
    diarizer = build_diarizer(app.settings.models.diarizer)
    bounds = speaker_bounds(app.settings.models.diarizer)  # the configured range, count found automatically
    ami = data / "ami_debug"
    figures = {}
    with tempfile.TemporaryDirectory(prefix="talktrack-ami-") as folder:
        # development+test scored as one set (the target), beside each part and train
        for name, subsets in (("development+test", AMI_EVAL_SETS), ("train", ("train",))):
            rttm, uem = Path(folder) / f"{name}.rttm", Path(folder) / f"{name}.uem"
            for suffix, target in (("rttm", rttm), ("uem", uem)):
                target.write_text("".join((ami / f"debug.{s}.{suffix}").read_text(encoding="utf-8") for s in subsets), encoding="utf-8")
            figures[name] = evaluate_diarization(ami, rttm, uem, diarizer=diarizer, bounds=bounds)
        figures["generated_calls"] = _generated_calls_der(app, Path(folder) / "world", diarizer, bounds)
    app.console.print({name: {c: r["der"] for c, r in result["overall"].items()} for name, result in figures.items()})
    backend = app.settings.models.diarizer.backend  # another backend's figures go beside the default's
    default = DiarizerSettings.model_fields["backend"].default
    _write(app, out, "diarization_ami" if backend == default else f"diarization_ami_{backend}", figures)
    if backend == "combined":
        _diarization_calls(app, data, out)


def _diarization_calls(app: AppContext, data: Path, out: Path) -> None:
    """Two-party phone calls (the call-40 mixtures, train/test; AMI; call 40's mix): DER and speaker-count
    accuracy per condition, before ("more speakers wins") and after the verified count rule."""
    from talktrack.evaluation.diarization_calls import bench_call_mixtures

    with tempfile.TemporaryDirectory(prefix="talktrack-calls-") as folder:
        figures = bench_call_mixtures(app.settings.models.diarizer, data, Path(folder))
    app.console.print({label: entry["after_verified"] for label, entry in figures["sets"].items()})
    _write(app, out, "diarization_calls", figures)


def _generated_calls_der(app: AppContext, folder: Path, diarizer, bounds) -> dict:
    """DER on two-speaker calls rendered by the world generator (espeak-ng voices), against their RTTM."""
    from talktrack.cli.world import taxonomy_from_settings
    from talktrack.evaluation.diarization import evaluate_diarization
    from talktrack.evaluation.world import WorldSpec, generate_world

    spec = WorldSpec(seed=11, reps=6, customers=10, deals=12, calls=24, languages=("en", "zh"), audio=6)
    generate_world(spec, folder, taxonomy_from_settings(app.settings))
    audio = folder / "audio"
    rttm = folder / "all.rttm"
    rttm.write_text("".join(p.read_text(encoding="utf-8") for p in sorted(audio.glob("*.rttm"))), encoding="utf-8")
    return evaluate_diarization(audio, rttm, None, diarizer=diarizer, bounds=bounds)


@bench_app.command("asr")
def bench_asr(ctx: typer.Context, data: Data = DEFAULT_DATA, out: Out = DEFAULT_OUT) -> None:
    """WER of the bundled transcriber on jfk and the LibriSpeech utterance."""
    from talktrack.evaluation.asr import evaluate_asr
    from talktrack.models.transcription import Transcriber

    app: AppContext = ctx.obj
    transcriber = Transcriber(app.settings.models.transcriber)
    figures = {
        "jfk": evaluate_asr([data / "asr_en/whisper_jfk/jfk.flac"], data / "asr_en/whisper_jfk/jfk.ref.txt", transcriber=transcriber),
        "librispeech": evaluate_asr(
            [data / "asr_en/wenet_librispeech/librispeech-1995-1837-0001.wav"],
            data / "asr_en/wenet_librispeech/text",
            transcriber=transcriber,
        ),
    }
    app.console.print({name: result.get("error_rate") for name, result in figures.items()})
    _write(app, out, "asr_wer", figures)


@bench_app.command("asr-zh")
def bench_asr_zh(
    ctx: typer.Context, data: Data = DEFAULT_DATA, out: Out = DEFAULT_OUT,
    espeak: Annotated[bool, typer.Option(help="Also espeak-ng Mandarin, mixed speech and hotwords.")] = True,
) -> None:
    """Mandarin CER (AISHELL, prompt and OpenCC on/off), RTF on 2 threads, English per model, espeak and hotwords."""
    from talktrack.evaluation.bench_asr_zh import bench_mandarin

    app: AppContext = ctx.obj
    settings = app.settings.models.transcriber
    if settings.cpu_threads == 0:  # the target is RTF on 2 cores: say so instead of letting CTranslate2 pick
        settings = settings.model_copy(update={"cpu_threads": 2})
    figures = {"load_average_1m": round(os.getloadavg()[0], 2), **bench_mandarin(data, settings, espeak=espeak)}
    app.console.print({name: figures[name]["error_rate"] for name in ("aishell_x3_26s", "espeak_zh") if name in figures})
    _write(app, out, "asr_zh", figures)


@bench_app.command("batch")
def bench_batch_command(
    ctx: typer.Context, data: Data = DEFAULT_DATA, out: Out = DEFAULT_OUT, files: int = 200
) -> None:
    """Ingest N files, 10% of them bad: all good done, every bad one reported."""
    from talktrack.evaluation.bench_batch import bench_batch

    app: AppContext = ctx.obj
    with tempfile.TemporaryDirectory(prefix="talktrack-batch-") as workdir:
        figures = bench_batch(Path(workdir), _speed_files(data)[:3], app.settings, files=files)
    app.console.print({k: v for k, v in figures.items() if k != "reasons"})
    _write(app, out, "ingest_batch", figures)
    if not (figures["all_good_done"] and figures["every_bad_reported"]):
        raise typer.Exit(1)


@bench_app.command("index")
def bench_index_command(
    ctx: typer.Context, out: Out = DEFAULT_OUT,
    sizes: Annotated[str, typer.Option(help="Index sizes, comma separated.")] = "100000,1000000",
    world: Annotated[Path | None, typer.Option(help="A generated world for the sentence pool (default: a new one).")] = None,
    compressed: Annotated[int, typer.Option(help="Vectors in the compressed (IVF-PQ) run, built in bounded "
                                                 "chunks; 0 skips it.", min=0)] = 10_000_000,
    only_compressed: Annotated[bool, typer.Option(help="Skip the HNSW sizes (their figures in the JSON stay).")] = False,
) -> None:
    """Embedding throughput per backend; HNSW/IVF-PQ build time, p50/p99 latency and recall@10 vs exact;
    the compressed index at --compressed vectors: peak memory, latency, recall, build time, baselines."""
    from talktrack.cli.progress import progress_hook
    from talktrack.evaluation.bench_index import run_compressed_bench, run_index_bench

    app: AppContext = ctx.obj
    wanted = tuple(int(size) for size in sizes.split(","))
    cache_dir = app.workspace.root / "bench-cache" / "index"
    with progress_hook(app.console) as hook:
        if not only_compressed:
            figures = run_index_bench(out / "index.json", wanted, world_dir=world, settings=app.settings,
                                      cache_dir=cache_dir, progress=hook)
            app.console.print({size: {"hnsw": f["hnsw"]["chosen"], "exact_p50_ms": f["exact"]["p50_ms"]}
                               for size, f in figures["sizes"].items()})
        if compressed:
            run = run_compressed_bench(out / "index.json", compressed, world_dir=world, settings=app.settings,
                                       cache_dir=cache_dir, progress=hook)["compressed"]
            app.console.print({"compressed": {"vectors": run["vectors"], "search": run["search"]["default"],
                                              "peak_rss_mb": run["peak_rss_mb"], "build_s": run["build"]["build_s"]}})
    app.console.print(f"[green]index[/]: wrote {out / 'index.json'}")


@bench_app.command("mining")
def bench_mining_command(
    ctx: typer.Context, out: Out = DEFAULT_OUT,
    calls: Annotated[int, typer.Option(help="Calls in the generated world.")] = 10_000,
    workdir: Annotated[Path | None, typer.Option(help="Keep the world and workspace here (for `bench catalog`); "
                                                      "default: a temporary folder.")] = None,
    key: Annotated[str | None, typer.Option(help="Store this run under KEY in mining.json, keeping the rest "
                                                 "(e.g. calls_100k).")] = None,
) -> None:
    """Moment detection and talk-track mining on a generated world of N calls (targets: 10k calls < 5 min,
    100k < 10 min), with CPU seconds, peak memory and load average per phase."""
    from talktrack.cli.progress import progress_hook
    from talktrack.evaluation.bench_mining import run_mining_bench

    app: AppContext = ctx.obj
    with tempfile.TemporaryDirectory(prefix="talktrack-mining-") as scratch, progress_hook(app.console) as hook:
        folder = Path(workdir) if workdir else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        figures = run_mining_bench(folder, app.settings, calls=calls, progress=hook)
    app.console.print(figures["phases"])
    _write_keyed(app, out, "mining", key, figures)


def _write_keyed(app: AppContext, out: Path, name: str, key: str | None, figures: dict) -> None:
    """``_write`` the whole record, or (with ``key``) set one key of the existing record."""
    path = out / f"{name}.json"
    if key is None or not path.is_file():
        _write(app, out, name, {key: figures} if key else figures)
        return
    record = json.loads(path.read_text(encoding="utf-8"))
    record[key] = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": _machine(), **figures}
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    app.console.print(f"[green]{name}[/]: wrote {key} in {path}")


@bench_app.command("objections")
def bench_objections_command(ctx: typer.Context, out: Out = DEFAULT_OUT) -> None:
    """The detector `make demo` trains (taxonomy + the labels world of the demo seed + 1000) on the
    hand-written test split at its own threshold and at one chosen on dev, the coach-label learning
    curve with thresholds chosen on the dev items not given as labels, and the real chats at both
    thresholds: key ``shipped_detector`` of real_phrasing.json (the encoder comparison stays)."""
    from talktrack.cli.demo import LABELS_SEED_OFFSET, LABELS_WORLD
    from talktrack.evaluation.semantic.moments_phrasing import evaluate_real_moments
    from talktrack.evaluation.world.labels import labels_from_new_world
    from talktrack.pipelines.semantic.moments import fit_detector, moment_embedder, read_labels_file

    app: AppContext = ctx.obj
    seed = app.settings.demo.seed + LABELS_SEED_OFFSET
    labels = read_labels_file(labels_from_new_world(app.workspace.worlds_dir / f"labels-seed{seed}", seed,
                                                    LABELS_WORLD))
    start = time.process_time()
    detector = fit_detector(app.settings, moment_embedder(app.settings, app.workspace), labels)
    figures = {"labels_seed": seed, "model": detector.version, "n_examples": detector.n_examples_,
               **evaluate_real_moments(detector, app.settings, app.workspace, labels),
               "cpu_s": round(time.process_time() - start, 1), "load_avg_1m": round(os.getloadavg()[0], 2)}
    app.console.print({key: figures[key] for key in ("phrasing_test_dev_threshold", "coach_labels_to_target")})
    _write_keyed(app, out, "real_phrasing", "shipped_detector", figures)


@bench_app.command("mining-logit")
def bench_mining_logit_command(ctx: typer.Context, out: Out = DEFAULT_OUT) -> None:
    """CPU seconds of one rep-adjusted logit fit, block solve vs the dense one it replaced, at the
    sizes of one objection type in 10k-, 30k- and 100k-call worlds (``logit_fit`` in mining.json)."""
    from talktrack.evaluation.mining_logit import time_fits

    app: AppContext = ctx.obj
    fits = [time_fits(deals, reps) for deals, reps in ((1_000, 66), (3_000, 200), (10_000, 666))]
    figures = {"fits": fits, "load_avg_1m": round(os.getloadavg()[0], 2)}
    app.console.print(figures)
    _write_keyed(app, out, "mining", "logit_fit", figures)


@bench_app.command("catalog")
def bench_catalog_command(
    ctx: typer.Context, out: Out = DEFAULT_OUT,
    workdir: Annotated[Path, typer.Option(help="A world kept by `bench mining --workdir` (its workspace/catalog.db).")]
    = Path("bench-world"),
    postgres: Annotated[str | None, typer.Option(help="A PostgreSQL URL whose database is (re)created and filled "
                                                      "from the SQLite catalog; the role needs CREATEDB.")] = None,
    repeats: Annotated[int, typer.Option(help="Timed runs per query.", min=1)] = 50,
    key: Annotated[str | None, typer.Option(help="Store this run under KEY in catalog.json, keeping the rest "
                                                 "(e.g. calls_10k beside the 100k record).")] = None,
) -> None:
    """The catalog reads behind the call list's filters, the dashboard and scoring: p50/p99 per query on
    SQLite (as found and migrated) and PostgreSQL (issue 20: under 50 ms at 100k calls)."""
    from talktrack.evaluation.bench_catalog import run_catalog_bench
    from talktrack.serving.key_queries import KeyIds, key_queries

    app: AppContext = ctx.obj
    figures = run_catalog_bench(workdir / "workspace" / "catalog.db", app.settings,
                                lambda catalog, settings: key_queries(catalog, settings, KeyIds.pick(catalog)),
                                postgres_url=postgres, repeats=repeats, progress=app.console.print)
    figures["load_avg_1m"] = round(os.getloadavg()[0], 2)
    app.console.print({db: {name: q["p99_ms"] for name, q in figures[db]["queries"].items()}
                       for db in ("sqlite_before_migration", "sqlite", "postgresql") if db in figures})
    _write_keyed(app, out, "catalog", key, figures)


@bench_app.command("serving")
def bench_serving_command(
    ctx: typer.Context, out: Out = DEFAULT_OUT,
    rate: Annotated[float, typer.Option(help="Requests per second (open loop).", min=1)] = 500.0,
    duration: Annotated[float, typer.Option(help="Seconds of scoring load (cached, then mixed).", min=1)] = 30.0,
    deals: Annotated[int, typer.Option(help="Deals in the generated world.", min=10)] = 10_100,
    pool: Annotated[int, typer.Option(help="Distinct deals the single-score load draws from.", min=1)] = 200,
    workers: Annotated[int, typer.Option(help="Server worker processes.", min=1)] = 2,
    mixed: Annotated[float, typer.Option(help="Share of the mixed load's requests for never-scored deals.",
                                         min=0.0, max=1.0)] = 0.2,
) -> None:
    """Single-deal scoring p50/p99 at a fixed rate (cached deals: key ``rate_<rate>``; the mixed
    load with never-scored deals: ``mixed``) next to ``GET /v1/me`` of the same server at the same
    rate, with the load generator's CPU share and the load average; never-scored deals one by one;
    batch rows/s; the API calls behind each workbench page."""
    from talktrack.evaluation.bench_serving import ServingBenchOptions, rate_key, run_serving_bench

    app: AppContext = ctx.obj
    new_deals = int(mixed * rate * duration) + 1  # the mixed load's never-scored deals
    options = ServingBenchOptions(deals=deals, rate_per_s=rate, duration_s=duration, mixed_duration_s=duration,
                                  new_share=mixed, pool_deals=pool, workers=workers,
                                  batch_rows=max(pool, min(6_000, deals - 50 - new_deals)))
    with tempfile.TemporaryDirectory(prefix="talktrack-serving-") as workdir:
        figures = run_serving_bench(Path(workdir), app.settings, options, progress=app.console.print)
    app.console.print({name: figures[name] for name in ("cold_single_score", rate_key(rate), "mixed", "pages",
                                                          "target")})
    earlier = out / "serving.json"  # `bench never-scored` keeps its figures in the same record
    if earlier.is_file():
        figures = {key: value for key, value in json.loads(earlier.read_text(encoding="utf-8")).items()
                   if key == "never_scored"} | figures
    _write(app, out, "serving", figures)


@bench_app.command("real-phrasing")
def bench_real_phrasing_command(ctx: typer.Context, out: Out = DEFAULT_OUT) -> None:
    """Encoders (USE, multilingual-e5-small, both) on the hand-written sets: objections flagged at 5 %
    false flags and type top-1 with a dev-trained classifier, search recall@10 plain and with feedback,
    CPU ms per sentence; chosen on dev, reported on test (issue 16)."""
    from talktrack.evaluation.semantic.real_phrasing_bench import run_real_phrasing_bench

    app: AppContext = ctx.obj
    figures = run_real_phrasing_bench(progress=app.console.print)
    app.console.print({name: {lang: row[lang] for lang in ("en", "zh")} for name, row in figures["objections"].items()})
    _write(app, out, "real_phrasing", figures)


@bench_app.command("never-scored")
def bench_never_scored_command(
    ctx: typer.Context, out: Out = DEFAULT_OUT,
    deals: Annotated[int, typer.Option(help="Deals in the generated world.", min=10)] = 3_000,
    requests: Annotated[int, typer.Option(help="Never-scored deals, scored one at a time.", min=1)] = 150,
    workdir: Annotated[Path | None, typer.Option(help="Keep (and reuse) the workspace here.")] = None,
) -> None:
    """Deals the service has never seen, scored one by one, next to GET /v1/me (issue 20: p99 <= 100 ms);
    written as the ``never_scored`` key of serving.json, the rest of that file kept."""
    from talktrack.evaluation.bench_never_scored import NeverScoredOptions, run_never_scored_bench

    app: AppContext = ctx.obj
    options = NeverScoredOptions(deals=deals, calls=max(100, deals // 5), requests=requests)
    with tempfile.TemporaryDirectory(prefix="talktrack-never-scored-") as scratch:
        folder = Path(workdir) if workdir else Path(scratch)
        figures = run_never_scored_bench(folder, app.settings, options, progress=app.console.print)
    app.console.print({name: figures[name] for name in ("score", "me", "load_average_1m", "target")})
    _write_keyed(app, out, "serving", "never_scored", figures)


@bench_app.command("all")
def bench_all(ctx: typer.Context, data: Data = DEFAULT_DATA, out: Out = DEFAULT_OUT) -> None:
    """Every benchmark above, one after the other."""
    for command in (bench_asr, bench_asr_zh, bench_diarization, bench_speech, bench_words_command):
        command(ctx, data=data, out=out)
    bench_batch_command(ctx, data=data, out=out)
    with tempfile.TemporaryDirectory(prefix="talktrack-bench-world-") as world:
        bench_mining_command(ctx, out=out, workdir=Path(world))
        # the mined world's catalog, under its own key: the 100k record (bench mining --calls 100000) stays
        bench_catalog_command(ctx, out=out, workdir=Path(world), key="calls_10k")
    bench_index_command(ctx, out=out)
    bench_serving_command(ctx, out=out)
    bench_never_scored_command(ctx, out=out)  # after serving: it sets a key of serving.json
