"""Serving under load: single-deal scoring latency at a fixed request rate, and batch rows/s.

A real ``talktrack serve`` process runs over a workspace with a trained, promoted customer
scorer; a SEPARATE process generates the load (httpx + asyncio, open loop: request ``i`` is
due at ``i / rate`` seconds whatever the earlier ones did, and its latency counts from that due
time, so a server that falls behind shows it). In the same run and at the same rate, the same
server answers a trivial route (``GET /v1/me``: key check only, the fixed cost every route
pays), so ``score/trivial`` says what scoring adds, whatever the machine's speed that day.

Phases, in order: cold single scores (sequential, deals never scored: the cache-miss cost),
batch of up to 10,000 deals cold then warm (rows/s), the scored pool warmed by one batch,
the trivial route at ``rate``, then ``POST /v1/score`` at ``rate`` over the pool.

Example::

    figures = run_serving_bench(Path("/tmp/bench"), load_settings(), rate=200, duration_s=20)
"""

from __future__ import annotations

import asyncio
import gc
import json
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import numpy as np
import yaml
from sqlalchemy import select

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import Deal
from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.evaluation.world import WorldSpec, generate_world
from talktrack.pipelines.crm_import import import_directory
from talktrack.training.customer import train_customer

TARGET = {"rate_per_s": 200, "score_p99_ms_max": 25.0, "errors": 0}


@dataclass(frozen=True)
class ServingBenchOptions:
    """Sizes and load; ``deals`` should exceed ``batch_rows + cold_requests``."""

    deals: int = 10_100
    calls: int = 1_500
    seed: int = 5
    rate_per_s: float = 200.0
    duration_s: float = 20.0
    trivial_duration_s: float = 10.0
    pool_deals: int = 200
    cold_requests: int = 50
    batch_rows: int = 10_000
    workers: int = 1


def run_serving_bench(workdir: Path, settings: Settings, options: ServingBenchOptions = ServingBenchOptions(),
                      progress=None, workspace: Workspace | None = None) -> dict:
    """Build the workspace (unless one made by :func:`prepare_workspace` is given), start the
    server, run the phases; the figures as a dict."""
    say = progress or (lambda message: None)
    build_s = 0.0
    if workspace is None:
        say("building the workspace (world, import, scorer training)")
        workspace, build_s = prepare_workspace(Path(workdir), settings, options)
    catalog = open_catalog(workspace.catalog_url)
    with catalog.session() as session:
        deal_ids = list(session.scalars(select(Deal.external_id).order_by(Deal.id)))
    catalog.dispose()
    key = bench_key(workspace)
    # no warm-up at start: the cold phase measures what a never-scored deal costs
    no_warm_up = {"serving": {"feature_cache_warm_open_deals": False}}
    with ServerProcess(workspace, workers=options.workers, config=no_warm_up) as server:
        say(f"server up at {server.url}; driving load from a separate process")
        figures = _in_load_process(server.url, key, deal_ids, options)
    figures["workspace_build_s"] = build_s
    figures["options"] = asdict(options)
    figures["target"] = TARGET | {"met": _target_met(figures, options)}
    return figures


def prepare_workspace(workdir: Path, settings: Settings, options: ServingBenchOptions) -> tuple[Workspace, float]:
    """A generated world imported into a fresh workspace, with the customer scorer trained and promoted."""
    started = time.perf_counter()
    spec = WorldSpec(seed=options.seed, reps=max(12, options.deals // 250), customers=max(10, options.deals // 5),
                     deals=options.deals, calls=options.calls, audio=0)
    generate_world(spec, workdir / "world")
    workspace = Workspace.at(workdir / "workspace").ensure()
    settings = settings.model_copy(update={"workspace": workspace.root})
    catalog = open_catalog(workspace.catalog_url)
    import_directory(catalog, settings, workdir / "world")
    train_customer(catalog, settings, workspace)
    catalog.dispose()
    return workspace, round(time.perf_counter() - started, 1)


def bench_key(workspace: Workspace) -> str:
    """An ``ml`` key (it may score and read /metrics: the cache's hit and miss counts), made the way
    an operator makes one: ``talktrack keys create`` (evaluation does not import the service)."""
    made = subprocess.run(
        [sys.executable, "-m", "talktrack", "-w", str(workspace.root), "keys", "create", "--role", "ml",
         "--name", "bench-serving", "--json"],
        capture_output=True, text=True, check=True,
    )
    return json.loads(made.stdout)["key"]


class ServerProcess:
    """``talktrack serve`` in a child process on a free port; stopped on exit."""

    def __init__(self, workspace: Workspace, workers: int = 1, config: dict | None = None) -> None:
        self.workspace, self.workers, self.config = workspace, workers, config or {}
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> ServerProcess:
        command = [sys.executable, "-m", "talktrack", "-w", str(self.workspace.root)]
        if self.config:
            path = self.workspace.root / "bench-serve.yaml"
            path.write_text(yaml.safe_dump(self.config), encoding="utf-8")
            command += ["-c", str(path)]
        command += ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        env = os.environ | {"HF_HUB_OFFLINE": "1", "MLFLOW_DISABLE_TELEMETRY": "true"}
        # the server logs a JSON line per request: to a file, since a pipe nobody reads would fill and block it
        self.log_path = self.workspace.root / f"serve-{self.port}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=self._log)
        self._wait_ready(timeout_s=120)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"talktrack serve exited {self.process.returncode}: "
                                   f"{self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code in (200, 503):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"talktrack serve did not answer /health within {timeout_s} s")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _in_load_process(url: str, key: str, deal_ids: list[str], options: ServingBenchOptions) -> dict:
    """Run :func:`drive` in a spawned process, so the load's CPU is not the caller's."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(drive, (url, key, deal_ids, asdict(options)))


def drive(url: str, key: str, deal_ids: list[str], options: dict) -> dict:
    """The load generator's whole run (in its own process); figures per phase.

    The generator's own garbage collector is off during the run: latencies count from each
    request's due time, so a collector pause here would be charged to the server."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        return asyncio.run(_phases(url, key, deal_ids, ServingBenchOptions(**options)))
    finally:
        gc.enable()


async def _phases(url: str, key: str, deal_ids: list[str], options: ServingBenchOptions) -> dict:
    cold = deal_ids[-options.cold_requests:] if options.cold_requests else []
    batch = [d for d in deal_ids if d not in set(cold)][:options.batch_rows]
    pool = batch[:options.pool_deals]
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as client:
        figures = {"cold_single_score": await _sequential_scores(client, cold)}
        figures["batch"] = {"cold": await _batch(client, batch), "warm": await _batch(client, batch)}
        await _batch(client, pool)  # the pool is warm from here on (within the cache's time-to-live)
        before = await _cache_counts(client)
        figures["trivial"] = await open_loop(client, lambda i: ("GET", "/v1/me", None),
                                             options.rate_per_s, options.trivial_duration_s)
        rng = random.Random(options.seed)
        figures["score"] = await open_loop(
            client, lambda i: ("POST", "/v1/score", {"deal_id": rng.choice(pool)}),
            options.rate_per_s, options.duration_s)
        after = await _cache_counts(client)
    figures["score_feature_cache"] = {name: after.get(name, 0) - before.get(name, 0) for name in ("hit", "miss")}
    figures["ratio_score_to_trivial"] = _ratios(figures["score"], figures["trivial"])
    return figures


async def open_loop(client: httpx.AsyncClient, request_for, rate_per_s: float, duration_s: float) -> dict:
    """Requests due every ``1/rate`` s for ``duration_s``; latency from each one's due time."""
    total = max(1, int(rate_per_s * duration_s))
    started = time.perf_counter()
    tasks = []
    for index in range(total):
        due = started + index / rate_per_s
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_timed(client, *request_for(index), due)))
    results = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return _summary(results, elapsed, rate_per_s)


async def _timed(client: httpx.AsyncClient, method: str, path: str, body: dict | None, due: float):
    try:
        response = await client.request(method, path, json=body)
        ok = response.status_code == 200
    except httpx.HTTPError:
        ok = False
    return time.perf_counter() - due, ok


def _summary(results: list[tuple[float, bool]], elapsed_s: float, rate_per_s: float) -> dict:
    latencies = np.array([seconds for seconds, _ in results]) * 1000.0
    errors = sum(not ok for _, ok in results)
    return {
        "requests": len(results), "errors": errors, "offered_rate_per_s": rate_per_s,
        "throughput_per_s": round((len(results) - errors) / elapsed_s, 1),
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p90_ms": round(float(np.percentile(latencies, 90)), 2),
        "p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "max_ms": round(float(latencies.max()), 2),
    }


async def _sequential_scores(client: httpx.AsyncClient, deal_ids: list[str]) -> dict:
    results = []
    started = time.perf_counter()
    for deal_id in deal_ids:
        results.append(await _timed(client, "POST", "/v1/score", {"deal_id": deal_id}, time.perf_counter()))
    if not results:
        return {"requests": 0}
    return _summary(results, time.perf_counter() - started, 0.0)


async def _batch(client: httpx.AsyncClient, deal_ids: list[str]) -> dict:
    started = time.perf_counter()
    response = await client.post("/v1/score/batch", json={"deal_ids": deal_ids})
    seconds = time.perf_counter() - started
    ok = response.status_code == 200 and len(response.json()["scores"]) == len(deal_ids)
    return {"rows": len(deal_ids), "ok": ok, "seconds": round(seconds, 3),
            "rows_per_s": round(len(deal_ids) / seconds, 1)}


async def _cache_counts(client: httpx.AsyncClient) -> dict[str, float]:
    """The feature-cache counters from /metrics (needs an admin or ml key; absent otherwise)."""
    response = await client.get("/metrics")
    counts: dict[str, float] = {}
    if response.status_code != 200:
        return counts
    for line in response.text.splitlines():
        if line.startswith("talktrack_score_feature_cache_total{"):
            label = line.split('result="', 1)[1].split('"', 1)[0]
            counts[label] = float(line.rsplit(" ", 1)[1])
    return counts


def _ratios(score: dict, trivial: dict) -> dict:
    return {name: round(score[name] / trivial[name], 2) if trivial[name] else None
            for name in ("p50_ms", "p99_ms")}


def _target_met(figures: dict, options: ServingBenchOptions) -> bool:
    score = figures["score"]
    return (options.rate_per_s >= TARGET["rate_per_s"] and score["p99_ms"] < TARGET["score_p99_ms_max"]
            and score["errors"] == 0)
