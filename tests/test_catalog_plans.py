"""The catalog reads behind the call list's filters, a call's view, the dashboard and scoring use
indexes (issue 20): SQLite's plan of every statement they run, on a small imported world, has no
step that reads a whole calls, utterances, moments, deals or stage_events table. A plan does not
depend on the catalog's size (no ANALYZE statistics), so what is planned here is what runs at
100k calls; ``talktrack bench catalog`` times them there."""

from __future__ import annotations

import pytest

from talktrack.core.catalog.plans import captured_statements, full_scans
from talktrack.evaluation.semantic.oracle import write_truth_moments
from talktrack.serving.key_queries import KeyIds, key_queries

BIG_TABLES = {"calls", "utterances", "moments", "deals", "stage_events", "call_feature_rows"}


@pytest.fixture(scope="module")
def planned(tmp_path_factory, semantic_workspace, semantic_world):
    import shutil

    from tests.conftest import _open_workspace

    settings, source, _ = semantic_workspace
    root = tmp_path_factory.mktemp("plans") / "ws"
    shutil.copytree(source.root, root)
    settings, _, catalog = _open_workspace(root, settings)
    write_truth_moments(semantic_world, catalog)
    queries = key_queries(catalog, settings, KeyIds.pick(catalog))
    for run in queries.values():  # once first: a never-scored deal's call rows are built on first read
        run()
    yield catalog, queries
    catalog.dispose()


@pytest.mark.parametrize("name", [
    "calls.filter.rep", "calls.filter.team", "calls.filter.deal", "calls.filter.stage", "calls.filter.language",
    "calls.filter.status", "calls.filter.team+language", "call.view", "dashboard.open_deals", "dashboard.alerts",
    "dashboard.funnel", "score.latest_event", "score.never_scored_features",
])
def test_key_query_reads_no_big_table_whole(planned, name):
    catalog, queries = planned
    with captured_statements(catalog.engine) as statements:
        queries[name]()
    assert statements, f"{name} ran no SELECT"
    scans = full_scans(catalog.engine, statements, BIG_TABLES)
    assert not scans, "\n".join(f"{s.detail}  <-  {s.sql[:300]}" for s in scans)


def test_full_scans_sees_a_scan(planned):
    """The check itself: a filter on an unindexed column is reported."""
    from sqlalchemy import text

    catalog, _ = planned
    with captured_statements(catalog.engine) as statements, catalog.engine.connect() as connection:
        connection.execute(text("SELECT id FROM calls WHERE duration_s > 10"))
    assert [s.table for s in full_scans(catalog.engine, statements, BIG_TABLES)] == ["calls"]
