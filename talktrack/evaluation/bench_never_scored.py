"""Never-scored deals one at a time: ``POST /v1/score`` for deals the service has not seen (no
cache entry, no warm-up), each next to a ``GET /v1/me`` of the same server in the same run.

What a CRM that creates deals and scores them at once sees (issue 20: p99 <= 100 ms). A real
``talktrack serve`` process (one worker, warm-up off) runs over a generated world of ``deals``
deals with a trained, promoted customer scorer, moments and mined tracks
(:func:`talktrack.evaluation.bench_serving.prepare_workspace`); once its row keeper has built
every call's feature row, a separate client sends, for each of ``requests`` distinct deals drawn
at random, ``GET /v1/me`` then ``POST /v1/score``, sequentially (closed loop: this measures the
cost of one request, not a queue). One more deal is scored first and reported apart
(``first_score_ms``): the server's first score loads the champion model. The load average before and after is recorded with the
figures: on this shared 2-core machine it moves them. Then, in this process and without HTTP,
the same deals' features and score as the service built them before (the batch code on one
deal) and builds them now (plain rows), alternating deal by deal (``in_process``).

Example::

    figures = run_never_scored_bench(Path("/tmp/ns"), load_settings(), NeverScoredOptions(requests=150))
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import Deal
from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.evaluation.bench_serving import (
    ServerProcess,
    ServingBenchOptions,
    bench_key,
    prepare_workspace,
    wait_for_call_rows,
)
from talktrack.models.features.deal import build_deal_table
from talktrack.models.features.deal_rows import deal_feature_rows
from talktrack.training import registry
from talktrack.training.customer import MODEL_NAME

TARGET = {"p99_ms_max": 100.0}  # issue 20


@dataclass(frozen=True)
class NeverScoredOptions:
    deals: int = 3_000
    calls: int = 600
    seed: int = 5
    requests: int = 150


def run_never_scored_bench(workdir: Path, settings: Settings, options: NeverScoredOptions = NeverScoredOptions(),
                           progress=None) -> dict:
    """Build the world's workspace in ``workdir`` (or reuse the one a previous run left there),
    serve it, time the requests; the figures as a dict."""
    say = progress or (lambda message: None)
    workspace, build_s = _workspace(Path(workdir), settings, options, say)
    catalog = open_catalog(workspace.catalog_url)
    with catalog.session() as session:
        deal_ids = list(session.scalars(select(Deal.external_id).order_by(Deal.id)))
    if len(deal_ids) <= options.requests:
        raise ValueError(f"{options.requests} requests need more deals; the world has {len(deal_ids)}")
    first, *chosen = random.Random(options.seed).sample(deal_ids, options.requests + 1)
    key = bench_key(workspace)
    with ServerProcess(workspace, workers=1, config={"serving": {"feature_cache_warm_open_deals": False}}) as server:
        ready_s = wait_for_call_rows(catalog)
        say(f"server up, call rows ready after {ready_s:.1f} s; scoring {len(chosen)} never-scored deals")
        first_ms = _first_score(server.url, key, first)
        load_before = os.getloadavg()
        me, score, errors = _sequential(server.url, key, chosen)
        load_after = os.getloadavg()
    say("the same deals in this process: the batch code on one deal vs the plain rows, interleaved")
    in_process = _in_process(catalog, settings.model_copy(update={"workspace": workspace.root}), workspace, chosen)
    catalog.dispose()
    figures = {
        "score": _summary(score), "me": _summary(me), "errors": errors, "first_score_ms": round(first_ms, 1),
        "ratio_p50_score_to_me": round(float(np.median(score)) / float(np.median(me)), 1),
        "load_average_1m": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
        "in_process": in_process, "deals_in_world": len(deal_ids), "call_rows_ready_s": ready_s, "workspace_build_s": build_s,
        "options": asdict(options),
    }
    figures["target"] = TARGET | {"met": errors == 0 and figures["score"]["p99_ms"] <= TARGET["p99_ms_max"]}
    return figures


def _workspace(workdir: Path, settings: Settings, options: NeverScoredOptions, say) -> tuple[Workspace, float]:
    root = workdir / "workspace"
    if (root / "catalog.db").is_file():
        say(f"reusing the workspace in {root}")
        return Workspace.at(root), 0.0
    say(f"building a {options.deals}-deal workspace (world, import, moments, mining, scorer training)")
    sizes = ServingBenchOptions(deals=options.deals, calls=options.calls, seed=options.seed)
    return prepare_workspace(workdir, settings, sizes)


def _first_score(url: str, key: str, deal_id: str) -> float:
    """ms of the server's first score (another deal, not counted): it loads the champion model."""
    started = time.perf_counter()
    httpx.post(f"{url}/v1/score", json={"deal_id": deal_id}, headers={"Authorization": f"Bearer {key}"},
               timeout=120).raise_for_status()
    return (time.perf_counter() - started) * 1000


def _sequential(url: str, key: str, deal_ids: list[str]) -> tuple[list[float], list[float], int]:
    """ms of each ``GET /v1/me`` and each ``POST /v1/score`` (one after the other), and the errors."""
    headers = {"Authorization": f"Bearer {key}"}
    me, score, errors = [], [], 0
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        http.get("/v1/me")  # the connection, opened once
        for deal_id in deal_ids:
            started = time.perf_counter()
            errors += http.get("/v1/me").status_code != 200
            me.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            errors += http.post("/v1/score", json={"deal_id": deal_id}).status_code != 200
            score.append((time.perf_counter() - started) * 1000)
    return me, score, errors


def _in_process(catalog, settings: Settings, workspace: Workspace, deal_ids: list[str]) -> dict:
    """ms to build one deal's features and score them, in this process (no HTTP), the way the
    service did before (``build_deal_table`` for the deal, the pyfunc's DataFrame predict) and does
    now (:func:`deal_feature_rows`, the numpy scorer), alternating deal by deal so both meet the
    same machine load."""
    model, _ = registry.load_champion(settings, workspace, MODEL_NAME)
    scorer = model.unwrap_python_model()
    names = scorer.config["features"]
    before, now = [], []
    for deal_id in deal_ids:
        started = time.perf_counter()
        scorer.predict(None, build_deal_table(catalog, settings, deal_ids=[deal_id]).features)
        before.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        row = deal_feature_rows(catalog, settings, [deal_id])[deal_id]
        scorer.score_rows(np.array([[row.get(name, 0.0 if name.startswith("industry__") else np.nan)
                                     for name in names]]))
        now.append((time.perf_counter() - started) * 1000)
    return {"batch_code": _summary(before), "plain_rows": _summary(now)}


def _summary(ms: list[float]) -> dict:
    values = np.asarray(ms)
    return {"requests": len(ms), "p50_ms": round(float(np.percentile(values, 50)), 2),
            "p90_ms": round(float(np.percentile(values, 90)), 2), "p99_ms": round(float(np.percentile(values, 99)), 2),
            "max_ms": round(float(values.max()), 2)}
