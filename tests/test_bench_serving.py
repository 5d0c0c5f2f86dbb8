"""Fast scoring: per-deal features equal the full table's, single and batch answers agree with
the champion's predict over the full table, the feature cache's freshness rule, the serving
benchmark on a tiny world, and /metrics summed over two `talktrack serve` workers."""

from __future__ import annotations

import threading

import httpx
import pandas as pd
import pytest
from sqlalchemy import select

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import Deal
from talktrack.evaluation.bench_serving import (
    ServerProcess,
    ServingBenchOptions,
    bench_key,
    prepare_workspace,
    run_serving_bench,
)
from talktrack.models.features.deal import build_deal_table
from talktrack.serving.scoring_cache import DealFeatureCache, Refresher
from tests.serving_support import bearer

TINY = ServingBenchOptions(deals=120, calls=100, seed=3, rate_per_s=40, duration_s=2, trivial_duration_s=1,
                           mixed_duration_s=2, new_share=0.2, pool_deals=10, cold_requests=5, batch_rows=50,
                           page_repeats=2, workers=1)


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


@pytest.fixture(scope="module")
def full_table(world_workspace):
    settings, _, catalog = world_workspace
    return build_deal_table(catalog, settings)


def test_one_deals_features_equal_its_row_of_the_full_table(world_workspace, full_table):
    settings, _, catalog = world_workspace
    assert full_table.available["moments"]  # the zero-objection rule is exercised
    for deal_id in list(full_table.features.index[::40]):
        one = build_deal_table(catalog, settings, deal_ids=[deal_id]).features
        pd.testing.assert_frame_equal(one, full_table.features.loc[[deal_id], one.columns])
        # the industries this deal is not in are the only columns left out, and they are 0
        others = full_table.features.columns.difference(one.columns)
        assert others.str.startswith("industry__").all()
        assert (full_table.features.loc[deal_id, others] == 0).all()


def test_single_and_batch_answers_equal_the_champions_predict_on_the_full_table(
    client, keys, world_workspace, full_table
):
    from talktrack.serving.routes.scoring import align_to_model
    from talktrack.training import registry
    from talktrack.training.customer import MODEL_NAME

    settings, workspace, _ = world_workspace
    deals = list(full_table.features.index[5:12])
    batch = client.post("/v1/score/batch", json={"deal_ids": deals}, headers=bearer(keys["ml"])).json()["scores"]
    singles = [client.post("/v1/score", json={"deal_id": d}, headers=bearer(keys["crm"])).json() for d in deals]
    model, version = registry.load_champion(settings, workspace, MODEL_NAME)
    expected = model.predict(align_to_model(full_table.features.loc[deals], model))
    for single, row, (_, want) in zip(singles, batch, expected.iterrows(), strict=True):
        assert single["model"]["version"] == row["model"]["version"] == version
        assert single["probability"] == pytest.approx(row["probability"], abs=1e-12)
        assert single["probability"] == pytest.approx(want["p_win"], abs=1e-9)
        assert single["tier"] == row["tier"] == want["tier"]
        assert [r["feature"] for r in single["reasons"]] == [r["feature"] for r in row["reasons"]]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_feature_cache_serves_stale_entries_for_a_while_and_drops_invalidated_deals():
    clock = Clock()
    cache = DealFeatureCache(ttl_s=30, max_deals=2, clock=clock, max_stale_s=300)
    table = pd.DataFrame({"calls": [1.0, 2.0]}, index=["D1", "D2"])
    cache.put_table(table, built_from=cache.generation())
    usable, stale = cache.get_many(["D1", "D2", "D3"])
    assert usable["D2"].features == {"calls": 2.0} and stale == []
    clock.now = 31.0
    usable, stale = cache.get_many(["D1"])  # past the time-to-live: still answers, to be rebuilt
    assert set(usable) == {"D1"} and stale == ["D1"]
    clock.now = 301.0
    assert cache.get_many(["D1"]) == ({}, [])  # past the staleness bound: gone
    started = cache.generation()
    cache.invalidate(["D1"])  # the deal changed while its features were being built
    cache.put_table(table, built_from=started)
    assert set(cache.get_many(["D1", "D2"])[0]) == {"D2"}
    cache.put_table(table, built_from=cache.generation())  # built after the change: kept
    assert set(cache.get_many(["D1", "D2"])[0]) == {"D1", "D2"}
    cache.put_table(pd.DataFrame({"calls": [3.0]}, index=["D3"]), built_from=cache.generation())
    assert len(cache) == 2  # bounded: the oldest entry made room


def test_the_refresher_rebuilds_each_asked_deal_once_in_batches():
    rebuilt, done = [], threading.Event()

    def rebuild(deal_ids):
        rebuilt.append(list(deal_ids))
        if sum(map(len, rebuilt)) == 5:
            done.set()

    refresher = Refresher(rebuild, batch_size=3)
    refresher.request(["D1", "D2", "D1", "D3", "D4", "D5"])  # D1 twice: queued once
    refresher.start()
    assert done.wait(10)
    refresher.stop()
    assert rebuilt == [["D1", "D2", "D3"], ["D4", "D5"]]


@pytest.fixture(scope="module")
def tiny_workspace(tmp_path_factory, settings):
    workspace, _ = prepare_workspace(tmp_path_factory.mktemp("bench-serving"), settings, TINY)
    return workspace


def test_the_serving_bench_runs_on_a_tiny_world_without_errors(tmp_path, settings, tiny_workspace):
    figures = run_serving_bench(tmp_path, settings, TINY, workspace=tiny_workspace)
    cached = figures["rate_40"]
    score, me = cached["score"], cached["me"]
    assert score["requests"] == 80 and me["requests"] == 40
    assert score["errors"] == me["errors"] == figures["cold_single_score"]["errors"] == 0
    assert 0 < me["p50_ms"] <= me["p99_ms"] and 0 < score["p50_ms"] <= score["p99_ms"]
    assert cached["ratio_score_to_me"]["p50_ms"] > 0
    # what each side spent: the load generator's CPU and the server's per request, the load average
    assert score["load_generator"]["cpu_s"] > 0 and score["server_cpu_ms_per_request"] > 0
    assert set(score["load_average_1m"]) == {"before", "after"}
    assert figures["batch"]["cold"]["ok"] and figures["batch"]["warm"]["rows"] == 50
    assert figures["batch"]["warm"]["rows_per_s"] > 0
    # the pool was warmed (in every worker): the timed single scores read cached features
    assert figures["pool_warm_up"]["every_worker_warm"]
    assert cached["feature_cache"] == {"hit": 80, "miss": 0}
    # the mixed load: a fifth of its requests were for deals never scored, each a cache miss
    mixed = figures["mixed"]
    assert mixed["score"]["requests"] == 80 and mixed["score"]["errors"] == 0
    assert mixed["feature_cache"] == {"hit": 64, "miss": 16} and mixed["ratio_score_to_me"]["p99_ms"] > 0
    # every page's API calls answered, each page timed next to /v1/me
    assert {"dashboard", "tracks_list", "call_view", "drill_history", "me"} <= set(figures["pages"])
    for name, page in figures["pages"].items():
        assert page["errors"] == 0, (name, page["first_error"])
        assert page["opens"] == 2 and 0 < page["p50_ms"] <= page["p99_ms"]
    assert figures["pages"]["dashboard"]["requests_per_open"] == 4


def test_metrics_count_every_worker_of_a_two_worker_server(tiny_workspace):
    key = bench_key(tiny_workspace)
    catalog = open_catalog(tiny_workspace.catalog_url)
    with catalog.session() as session:
        deal = session.scalars(select(Deal.external_id).limit(1)).one()
    catalog.dispose()
    with ServerProcess(tiny_workspace, workers=2) as server:
        for _ in range(30):  # a new connection each: the kernel spreads them over both workers
            response = httpx.post(f"{server.url}/v1/score", json={"deal_id": deal}, headers=bearer(key), timeout=120)
            assert response.status_code == 200, response.text
        scrapes = [httpx.get(f"{server.url}/metrics", headers=bearer(key)).text for _ in range(6)]
    for text in scrapes:
        line = next(li for li in text.splitlines()
                    if li.startswith("talktrack_http_requests_total{") and 'route="/v1/score"' in li)
        assert float(line.rsplit(" ", 1)[1]) == 30.0
