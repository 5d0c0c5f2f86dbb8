"""Lineage: which imported fields feed which model inputs and metrics, as one graph of data.

A director who is told "the win probability fell" asks "from what?"; a data steward who changes
how "industry" is entered asks "what moves?". Both questions are walks over one graph whose nodes
are declared beside the code that computes them, never written as prose:

- **field**: a column of the import format, ``<import file>.<column>`` (``customers.industry``),
  every column of every importable entity (``ENTITIES`` and ``REVENUE_ENTITIES`` of the CRM import);
- **derived**: what the platform computes from imported data before any feature (:data:`DERIVED`);
- **feature**: a deal-scorer input, from :data:`talktrack.models.features.deal.FEATURE_INPUTS`,
  declared next to the feature builders (``industry__*`` stands for the one-hot family);
- **model**: :data:`MODELS`, the models and the features they read;
- **metric**: :data:`MODEL_OUTPUTS` and each metric module's ``LINEAGE`` (:data:`METRIC_MODULES`).

Example::

    graph = lineage_graph()
    graph.chains("customers.industry")[0]   # ['customers.industry', 'industry__*', 'deal_scorer', 'deal_win_probability']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from talktrack.models.features.deal import FEATURE_INPUTS
from talktrack.pipelines.crm_import.entities import ENTITIES
from talktrack.pipelines.crm_import.revenue_entities import REVENUE_ENTITIES
from talktrack.pipelines.management import anomalies, credibility, ltv, process_health, revenue, sandbox

KINDS = ("field", "derived", "feature", "model", "metric")
# Computed from imported data before any feature reads it.
DERIVED: dict[str, tuple[str, ...]] = {
    "utterances": ("calls.transcript_path", "calls.audio_path"),   # transcribed or imported transcripts
    "moments": ("utterances",),                                    # objections, moves, key questions
    "talk_tracks": ("moments", "deals.status"),                    # mined from won deals' answers
    "chat_messages": (),          # `talktrack import-chats`: WeCom archives, chat exports, mailboxes (no CRM field)
    "chat_moments": ("chat_messages",),                            # objections and moves in chats and e-mails
}
MODELS: dict[str, tuple[str, ...]] = {"deal_scorer": tuple(FEATURE_INPUTS)}
# What a model's output becomes where a manager reads it.
MODEL_OUTPUTS: dict[str, tuple[str, ...]] = {
    "deal_win_probability": ("deal_scorer",),
    "customer_tier": ("deal_scorer",),
}
# Metric modules; each declares ``LINEAGE: dict[metric, inputs]`` beside its computation.
METRIC_MODULES = (process_health, revenue, anomalies, ltv, credibility, sandbox)


@dataclass(frozen=True)
class Node:
    name: str
    kind: str
    inputs: tuple[str, ...] = ()


class LineageError(ValueError):
    """A declaration names an input that is no node of the graph, or a name was asked that is none."""


class Lineage:
    """The graph: nodes by name, each with its inputs; walks up (what feeds it) and down (what it feeds)."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.nodes = {node.name: node for node in nodes}
        self.consumers: dict[str, list[str]] = {name: [] for name in self.nodes}
        unknown = sorted({(node.name, source) for node in self.nodes.values() for source in node.inputs
                          if source not in self.nodes})
        if unknown:
            raise LineageError(f"inputs that are no field, derived data, feature, model or metric: {unknown}")
        for node in self.nodes.values():
            for source in node.inputs:
                self.consumers[source].append(node.name)

    def resolve(self, name: str) -> str:
        """A node's name; a real one-hot column (``industry__retail``) resolves to its family (``industry__*``)."""
        if name in self.nodes:
            return name
        family = [key for key in self.nodes if key.endswith("*") and name.startswith(key[:-1])]
        if family:
            return family[0]
        near = sorted(key for key in self.nodes if name.split(".")[0] in key)[:8]
        raise LineageError(f"{name!r} is no field, feature, model or metric of the lineage"
                           + (f"; did you mean one of {near}?" if near else " (talktrack lineage lists them)"))

    def upstream(self, name: str) -> set[str]:
        return self._walk(self.resolve(name), lambda n: self.nodes[n].inputs)

    def downstream(self, name: str) -> set[str]:
        return self._walk(self.resolve(name), lambda n: self.consumers[n])

    @staticmethod
    def _walk(start: str, step) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in step(todo.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def chains(self, name: str) -> list[list[str]]:
        """Every path from the imported fields through ``name`` to what nothing else reads (a metric at
        the end of the line), so a field's chain reads ``lead source → features → forecast``."""
        start = self.resolve(name)
        ups = self._paths(start, lambda n: self.nodes[n].inputs)
        downs = self._paths(start, lambda n: self.consumers[n])
        return sorted(list(reversed(up)) + down[1:] for up in ups for down in downs)

    def _paths(self, start: str, step) -> list[list[str]]:
        nexts = step(start)
        if not nexts:
            return [[start]]
        return [[start] + rest for nxt in nexts for rest in self._paths(nxt, step)]

    def subgraph(self, name: str | None = None) -> dict:
        """Nodes and edges (``[from, to]``) of the whole graph, or of what feeds and is fed by ``name``."""
        if name is None:
            keep = set(self.nodes)
        else:
            start = self.resolve(name)
            keep = {start} | self.upstream(start) | self.downstream(start)
        nodes = [{"id": n.name, "kind": n.kind, "inputs": [i for i in n.inputs if i in keep]}
                 for n in self.nodes.values() if n.name in keep and (n.kind != "field" or self.consumers[n.name]
                                                                      or n.name == name)]
        shown = {n["id"] for n in nodes}
        edges = [[source, n["id"]] for n in nodes for source in n["inputs"] if source in shown]
        return {"focus": None if name is None else self.resolve(name), "kinds": list(KINDS), "nodes": nodes,
                "edges": edges}


def imported_fields() -> list[str]:
    """Every column of the import format, as ``<import file>.<column>``."""
    return [f"{entity.name}.{column}" for entity in ENTITIES + REVENUE_ENTITIES
            for column in entity.row_model.model_fields]


def lineage_graph(metric_modules: Iterable = METRIC_MODULES) -> Lineage:
    """The graph of the declarations above (:class:`LineageError` when one names an unknown input)."""
    nodes = [Node(field, "field") for field in imported_fields()]
    nodes += _declared("derived", DERIVED) + _declared("feature", FEATURE_INPUTS)
    nodes += _declared("model", MODELS) + _declared("metric", MODEL_OUTPUTS)
    for module in metric_modules:
        nodes += _declared("metric", module.LINEAGE)
    return Lineage(nodes)


def _declared(kind: str, table: Mapping[str, tuple[str, ...]]) -> list[Node]:
    return [Node(name, kind, tuple(inputs)) for name, inputs in table.items()]


def feature_family(column: str, families: Iterable[str] = FEATURE_INPUTS) -> str | None:
    """The declaration that covers a deal-table column: its own name or a ``prefix*`` family."""
    if column in families:
        return column
    return next((key for key in families if key.endswith("*") and column.startswith(key[:-1])), None)
