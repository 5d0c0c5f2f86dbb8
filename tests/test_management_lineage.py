"""The lineage registry cannot rot: every column the deal scorer's feature builder really makes is
declared with its inputs, every declaration still names a column, every input named anywhere is a
field of the import format or a node of the graph, and the metrics declared are the ones process
health reports. Then the walks: a field's chains end in what managers read; names resolve or fail
with a clear error."""

from __future__ import annotations

import pytest

from talktrack.models.features.deal import FEATURE_INPUTS, build_deal_table
from talktrack.pipelines.management import process_health
from talktrack.pipelines.management.lineage import (
    MODELS,
    LineageError,
    feature_family,
    imported_fields,
    lineage_graph,
)


def test_the_declared_features_are_the_ones_the_scorer_builds(semantic_workspace):
    settings, _, catalog = semantic_workspace
    columns = list(build_deal_table(catalog, settings).features.columns)
    undeclared = [c for c in columns if feature_family(c) is None]
    assert undeclared == []
    stale = [key for key in FEATURE_INPUTS if not any(feature_family(c, [key]) for c in columns)]
    assert stale == []
    assert set(MODELS["deal_scorer"]) == set(FEATURE_INPUTS)


def test_every_input_is_an_imported_field_or_a_node():
    graph = lineage_graph()   # raises LineageError on an input that is nothing
    fields = set(imported_fields())
    assert {"customers.industry", "stage_events.entered_at", "evidence.kind"} <= fields
    named = {source for node in graph.nodes.values() for source in node.inputs}
    assert named <= set(graph.nodes)
    assert {n.kind for n in graph.nodes.values()} == {"field", "derived", "feature", "model", "metric"}


def test_an_unknown_input_is_refused_by_name():
    class Broken:
        LINEAGE = {"new_metric": ("customers.lead_sauce",)}

    with pytest.raises(LineageError, match="lead_sauce"):
        lineage_graph([process_health, Broken])


def test_process_health_declares_the_metrics_it_reports():
    row_keys = {"touches_per_hour", "diagnosis_accuracy", "solution_match"}
    assert row_keys | {"funnel_conversion", "key_action_rate", "team_efficiency"} == set(process_health.LINEAGE)


def test_a_field_chains_through_features_and_the_scorer_to_what_managers_read():
    graph = lineage_graph()
    chains = graph.chains("customers.industry")
    assert ["customers.industry", "industry__*", "deal_scorer", "deal_win_probability"] in chains
    assert all(chain[0] == "customers.industry" and graph.nodes[chain[-1]].kind == "metric" for chain in chains)
    assert "reps.team_id" in graph.upstream("team_efficiency")
    assert "team_efficiency" in graph.downstream("calls.duration_s")
    assert graph.resolve("industry__retail") == "industry__*"
    with pytest.raises(LineageError, match="no field, feature"):
        graph.resolve("customers.shoe_size")


def test_a_subgraph_keeps_only_what_feeds_and_is_fed():
    graph = lineage_graph()
    view = graph.subgraph("solution_match")
    ids = {n["id"] for n in view["nodes"]}
    assert {"solution_match", "moments", "utterances", "team_efficiency", "calls.stage"} <= ids
    assert "deal_scorer" not in ids and "customers.industry" not in ids
    assert all(a in ids and b in ids for a, b in view["edges"])
