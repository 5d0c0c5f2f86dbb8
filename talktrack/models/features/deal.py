"""Per-deal features for the customer/deal scorer, each computed only from data dated
before the deal's cut-off, so that nothing from the future leaks into a score.

The cut-off of a closed deal is its close time (the won/lost event itself is excluded:
only stage events, calls and surveys strictly before it count); of an open deal, ``as_of``
(default: the latest event in the catalog). Survey means of month M count from the first
day of M+1 on.

Feature groups (column prefixes):

- customer (CRM/ERP/outside signals): ``log_employees``, ``purchase_frequency`` (orders a year),
  ``log1p_open_positions`` (hiring), ``sentiment`` (public, -1..1), ``industry__<name>`` (one-hot),
  ``language_match`` (rep works in the customer's language).
- stage history: ``days__<stage>`` (time spent in each pipeline stage; the current one up to the
  cut-off), ``stalled_stages`` (stages over their ``threshold_days``), ``stalled_any``,
  ``days_in_current_stage``, ``stage_index``.
- rep capability: ``rep_capability`` — the rep's mean 360° survey score (1-5, self-ratings left
  out) in the deal's creation month or the latest month before it; a ``capability`` callable
  replaces it once the capability model exists.
- conversation (:mod:`talktrack.models.features.conversation`, over the deal's calls before the
  cut-off): ``calls``, ``conv__<feature>`` means, and sums of objections, track uses, discounts.
- chats and e-mails (:mod:`talktrack.models.features.chat`, over the deal's messages before the
  cut-off): ``chat__`` counts, customer share, reply latency, recency, objections by type.

:func:`reason_text` turns a feature and its value into words a manager reads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Customer, Deal, Rep, StageEvent, SurveyScore
from talktrack.core.config import Settings
from talktrack.models.features.call_rows import read_call_table
from talktrack.models.features.chat import FEATURE_INPUTS as CHAT_INPUTS
from talktrack.models.features.chat import chat_columns, chat_reason, chat_row, read_chat_inputs
from talktrack.models.features.conversation import CALL_FEATURES, CallFrames, call_features, load_calls

PIPELINE = ("lead", "qualification", "needs_diagnosis", "solution_presentation", "negotiation")
CUSTOMER_COLUMNS = ("log_employees", "purchase_frequency", "log1p_open_positions", "sentiment", "language_match")
STAGE_COLUMNS = tuple(f"days__{stage}" for stage in PIPELINE) + (
    "stalled_stages", "stalled_any", "days_in_current_stage", "stage_index")
SUMMED = ("objections", "approved_track_uses", "mined_track_uses", "discount_offers")
CONVERSATION_COLUMNS = ("calls",) + tuple(f"conv__{name}" for name in CALL_FEATURES)

# A capability provider: meta rows (rep_id, period "YYYY-MM", cutoff) -> a capability per row.
CapabilityProvider = Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class DealTable:
    """``features``: one numeric row per deal (index: deal external id). ``meta``: deal_pk,
    rep_id, created_at, cutoff, status, closed_at, label (1 won, 0 lost, NaN open).
    ``available``: which optional inputs the catalog had (moments, talk tracks, surveys)."""

    features: pd.DataFrame
    meta: pd.DataFrame
    available: dict[str, bool] = field(default_factory=dict)


def build_deal_table(catalog: Catalog, settings: Settings, *, as_of: datetime | None = None,
                     deal_ids: list[str] | None = None,
                     capability: CapabilityProvider | None = None) -> DealTable:
    """Features of every deal (or ``deal_ids``) as of each deal's cut-off.

    With ``deal_ids`` (the serving path), only those deals' stage events and reps' surveys are
    read, and their calls' features come from the precomputed rows
    (:mod:`talktrack.models.features.call_rows`; missing or stale ones are built first), so one
    deal costs a few small queries and its row has the same values as in the table of every
    deal; only the ``industry__`` one-hot columns are limited to the industries present among
    the deals asked for.
    """
    meta = _deal_meta(catalog, deal_ids)
    as_of = as_of or latest_event(catalog)
    meta["cutoff"] = _cutoffs(meta, as_of)
    subset = None if deal_ids is None else meta
    if subset is None:
        frames = load_calls(catalog)
        has_moments, has_tracks = frames.has_moments, frames.has_tracks
        calls = _calls_with_features(frames, settings)
    else:
        calls, has_moments, has_tracks = read_call_table(catalog, settings, subset["deal_pk"])
    parts = [
        _customer_features(meta),
        _stage_features(_stage_events(catalog, None if subset is None else subset["deal_pk"]), meta, settings),
        _capability(meta, capability or SurveyCapability(_surveys(catalog, None if subset is None else subset["rep_id"]))),
        _conversation_features(calls, meta),
        _chat_features(catalog, meta, settings, whole=subset is None),
    ]
    features = pd.concat(parts, axis=1).loc[meta.index].astype(float)
    available = {"moments": has_moments, "talk_tracks": has_tracks,
                 "surveys": bool(features["rep_capability"].notna().any()), "calls": not calls.empty,
                 "chats": bool(features["chat__messages"].notna().any())}
    return DealTable(features, meta, available)


def _calls_with_features(frames: CallFrames, settings: Settings) -> pd.DataFrame:
    """Per-call features of every call, with each call's deal and start (the batch path)."""
    stage_questions = {stage.key: list(stage.key_questions) for stage in settings.stages}
    table = call_features(frames, stage_questions)
    return table.join(frames.calls[["deal_id", "started_at"]], how="inner")


_NEWEST = select(*(select(func.max(column)).scalar_subquery()
                   for column in (StageEvent.entered_at, Call.started_at, Deal.closed_at)))


def latest_event(catalog: Catalog) -> datetime:
    """The newest timestamp in the catalog (stage events, calls, closes): the default "now"."""
    with catalog.engine.connect() as connection:  # one round trip: every never-scored deal asks
        stamps = [stamp for stamp in connection.execute(_NEWEST).one() if stamp is not None]
    if not stamps:
        raise ValueError("the catalog has no stage events, calls or closed deals: nothing to score as of")
    return max(stamps)


def _deal_meta(catalog: Catalog, deal_ids: list[str] | None) -> pd.DataFrame:
    query = (select(Deal.external_id.label("deal_id"), Deal.id.label("deal_pk"), Deal.rep_id, Deal.created_at,
                    Deal.status, Deal.closed_at, Customer.employees, Customer.purchase_frequency,
                    Customer.open_positions, Customer.sentiment, Customer.industry,
                    Customer.language.label("customer_language"), Rep.language.label("rep_language"))
             .join(Customer, Customer.id == Deal.customer_id).join(Rep, Rep.id == Deal.rep_id))
    if deal_ids is not None:
        query = query.where(Deal.external_id.in_(deal_ids))
    with catalog.engine.connect() as connection:
        meta = pd.read_sql(query.order_by(Deal.id), connection).set_index("deal_id")
    if deal_ids is not None and len(meta) != len(set(deal_ids)):
        missing = sorted(set(deal_ids) - set(meta.index))[:5]
        raise KeyError(f"deals not in the catalog: {missing}")
    meta["label"] = meta["status"].map({"won": 1.0, "lost": 0.0})
    return meta


def _cutoffs(meta: pd.DataFrame, as_of: datetime) -> pd.Series:
    closed = meta["closed_at"].notna() & (pd.to_datetime(meta["closed_at"]) <= as_of)
    return pd.to_datetime(meta["closed_at"]).where(closed, pd.Timestamp(as_of))


def _customer_features(meta: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=meta.index)
    out["log_employees"] = np.log(meta["employees"].astype(float).clip(lower=1))
    out["purchase_frequency"] = meta["purchase_frequency"].astype(float)
    out["log1p_open_positions"] = np.log1p(meta["open_positions"].astype(float).clip(lower=0))
    out["sentiment"] = meta["sentiment"].astype(float)
    out["language_match"] = (meta["customer_language"] == meta["rep_language"]).astype(float)
    industries = pd.get_dummies(meta["industry"].fillna("unknown"), prefix="industry", prefix_sep="__")
    return pd.concat([out, industries.astype(float)], axis=1)


def _stage_events(catalog: Catalog, deal_pks: pd.Series | None = None) -> pd.DataFrame:
    query = select(StageEvent.deal_id.label("deal_pk"), StageEvent.stage, StageEvent.entered_at)
    if deal_pks is not None:
        query = query.where(StageEvent.deal_id.in_([int(pk) for pk in deal_pks]))
    with catalog.engine.connect() as connection:
        return pd.read_sql(query.order_by(StageEvent.deal_id, StageEvent.entered_at), connection)


def _stage_features(events: pd.DataFrame, meta: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    thresholds = {stage.key: stage.threshold_days for stage in settings.stages}
    cutoff_by_pk = dict(zip(meta["deal_pk"], meta["cutoff"], strict=True))
    events = events[events["deal_pk"].isin(cutoff_by_pk)]
    events = events[pd.to_datetime(events["entered_at"]) < events["deal_pk"].map(cutoff_by_pk)]
    by_pk = {pk: group for pk, group in events.groupby("deal_pk")}
    rows = {deal_id: stage_history(by_pk.get(pk), cutoff, thresholds)
            for deal_id, pk, cutoff in zip(meta.index, meta["deal_pk"], meta["cutoff"], strict=True)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(STAGE_COLUMNS))


def stage_history(events: pd.DataFrame | None, cutoff: datetime, thresholds: Mapping[str, float]) -> dict:
    """Days in each pipeline stage from events entered before ``cutoff`` (the last one runs to it)."""
    row = {column: float("nan") for column in STAGE_COLUMNS}
    if events is None or events.empty:
        return row | {"stalled_stages": 0.0, "stalled_any": 0.0}
    stamps = list(pd.to_datetime(events["entered_at"])) + [pd.Timestamp(cutoff)]
    stalled = 0
    for index, stage in enumerate(events["stage"]):
        days = (stamps[index + 1] - stamps[index]).total_seconds() / 86400.0
        if stage in PIPELINE:
            row[f"days__{stage}"] = days
            stalled += days > thresholds[stage]
    current = events["stage"].iloc[-1]
    row["stalled_stages"], row["stalled_any"] = float(stalled), float(stalled > 0)
    row["days_in_current_stage"] = (stamps[-1] - stamps[-2]).total_seconds() / 86400.0
    row["stage_index"] = float(PIPELINE.index(current)) if current in PIPELINE else float(len(PIPELINE))
    return row


def _surveys(catalog: Catalog, rep_ids: pd.Series | None = None) -> pd.DataFrame:
    query = select(SurveyScore.rep_id, SurveyScore.period, SurveyScore.source, SurveyScore.score)
    if rep_ids is not None:
        query = query.where(SurveyScore.rep_id.in_(sorted({int(rep) for rep in rep_ids})))
    with catalog.engine.connect() as connection:
        return pd.read_sql(query, connection)


class SurveyCapability:
    """The rep's mean 360° survey score (self-ratings left out) of the deal's creation month, or
    the latest month before it, among months that ended before the cut-off. The stand-in for the
    capability model: pass another provider to :func:`build_deal_table` to replace it."""

    def __init__(self, surveys: pd.DataFrame):
        others = surveys[surveys["source"] != "self"]
        self.monthly = others.groupby(["rep_id", "period"])["score"].mean().sort_index()

    def __call__(self, meta: pd.DataFrame) -> pd.Series:
        created = pd.to_datetime(meta["created_at"]).dt.strftime("%Y-%m")
        cutoff_month = pd.to_datetime(meta["cutoff"]).dt.strftime("%Y-%m")
        values = [self._latest(rep, created_month, limit)
                  for rep, created_month, limit in zip(meta["rep_id"], created, cutoff_month, strict=True)]
        return pd.Series(values, index=meta.index, dtype=float)

    def _latest(self, rep_id: int, created_month: str, cutoff_month: str) -> float:
        if rep_id not in self.monthly.index.get_level_values(0):
            return float("nan")
        months = self.monthly.loc[rep_id]
        usable = months[(months.index <= created_month) & (months.index < cutoff_month)]
        return float(usable.iloc[-1]) if len(usable) else float("nan")


def _capability(meta: pd.DataFrame, provider: CapabilityProvider) -> pd.DataFrame:
    return pd.DataFrame({"rep_capability": provider(meta)}, index=meta.index)


def _conversation_features(calls: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    pk_to_deal = dict(zip(meta["deal_pk"], meta.index, strict=True))
    calls = calls[calls["deal_id"].isin(pk_to_deal)].copy()
    calls["deal"] = calls["deal_id"].map(pk_to_deal)
    calls = calls[pd.to_datetime(calls["started_at"]) < calls["deal"].map(meta["cutoff"])]
    grouped = calls.groupby("deal")
    means = grouped[list(CALL_FEATURES)].mean().add_prefix("conv__")
    for name in SUMMED:   # totals over the deal, not per-call means
        means[f"conv__{name}"] = grouped[name].sum(min_count=1)
    out = means.reindex(meta.index)
    out.insert(0, "calls", grouped.size().reindex(meta.index).fillna(0.0))
    return out[list(CONVERSATION_COLUMNS)]


def _chat_features(catalog: Catalog, meta: pd.DataFrame, settings: Settings, whole: bool) -> pd.DataFrame:
    """The ``chat__`` columns of each deal (one shared definition with the never-scored rows)."""
    with catalog.engine.connect() as connection:
        inputs = read_chat_inputs(connection, None if whole else list(meta["deal_pk"]))
    kinds = settings.objection_keys
    rows = {deal_id: chat_row(inputs, int(pk), pd.Timestamp(cutoff).to_pydatetime(), kinds)
            for deal_id, pk, cutoff in zip(meta.index, meta["deal_pk"], meta["cutoff"], strict=True)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(chat_columns(kinds))).reindex(meta.index)


def stage_info(settings: Settings) -> dict[str, tuple[str, float]]:
    """stage key → (English name, threshold days): what :func:`reason_text` needs of the settings,
    small enough to travel inside a logged model."""
    return {stage.key: (stage.name_en, stage.threshold_days) for stage in settings.stages}


def reason_text(feature: str, value: float, stages: Mapping[str, tuple[str, float]],
                row: Mapping[str, float] | None = None) -> str:
    """A feature's value in a manager's words, e.g. ``stalled 12 days in negotiation (threshold 7)``.

    ``row`` (the deal's other feature values) lets a stall flag name the stage that stalled.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{_LABELS.get(feature, feature)}: unknown"
    if feature.startswith("days__"):
        return _stage_days(feature.removeprefix("days__"), value, stages)
    if feature in ("stalled_any", "stalled_stages") and value >= 0.5 and row is not None:
        return _worst_stall(row, stages)
    if feature.startswith("industry__"):
        name = feature.removeprefix("industry__").replace("_", " ")
        return f"industry: {name}" if value >= 0.5 else f"industry is not {name}"
    if feature.startswith("chat__"):
        return chat_reason(feature, value) or f"{feature.replace('_', ' ')}: {value:.2f}"
    template = _TEMPLATES.get(feature)
    if template is not None:
        return template(value)
    return f"{_LABELS.get(feature, feature.replace('_', ' '))}: {value:.2f}"


def _stage_days(key: str, days: float, stages: Mapping[str, tuple[str, float]]) -> str:
    name, threshold = stages.get(key, (key.replace("_", " "), float("inf")))
    prefix = "stalled " if days > threshold else ""
    return f"{prefix}{days:.0f} days in {name.lower()} (threshold {threshold:g})"


def _worst_stall(row: Mapping[str, float], stages: Mapping[str, tuple[str, float]]) -> str:
    """The stage furthest over its threshold, relative to the threshold."""
    over = [(row[f"days__{key}"] / threshold, key) for key, (_, threshold) in stages.items()
            if not math.isnan(row.get(f"days__{key}", float("nan"))) and row[f"days__{key}"] > threshold]
    if not over:
        return "a stage ran over its threshold"
    _, key = max(over)
    return _stage_days(key, row[f"days__{key}"], stages)


def top_reasons(names: list[str], values: np.ndarray, contributions: np.ndarray, k: int,
                stages: Mapping[str, tuple[str, float]]) -> list[dict]:
    """The ``k`` reasons that moved one deal's score most (by |log-odds contribution|), in words.

    Features that read the same in words (a stage's days and the stall flag naming that
    stage) are one reason with their effects added: a manager should not see "stalled 16
    days in lead" twice with opposite signs. Unknown values and the industries the customer
    is not in are left out: "industry is not retail" explains nothing to a manager.
    """
    row = dict(zip(names, (float(v) for v in values), strict=True))
    merged: dict[str, dict] = {}
    for name, value, effect in zip(names, (float(v) for v in values), (float(c) for c in contributions), strict=True):
        if math.isnan(value) or abs(effect) < 1e-9 or (name.startswith("industry__") and value < 0.5):
            continue
        text = reason_text(name, value, stages, row)
        entry = merged.setdefault(text, {"feature": name, "effect": 0.0, "text": text})
        entry["effect"] += effect
    ranked = sorted(merged.values(), key=lambda r: -abs(r["effect"]))
    return [{"feature": r["feature"], "effect": round(r["effect"], 4),
             "direction": "raises" if r["effect"] > 0 else "lowers", "text": r["text"]}
            for r in ranked if abs(r["effect"]) >= 1e-9][:k]


_LABELS = {"rep_capability": "rep's survey capability", "calls": "calls so far"}
_TEMPLATES: dict[str, Callable[[float], str]] = {
    "log_employees": lambda v: f"customer size: {math.exp(v):,.0f} employees",
    "purchase_frequency": lambda v: f"customer buys {v:.1f} times a year",
    "log1p_open_positions": lambda v: f"customer hiring: {math.expm1(v):.0f} open positions",
    "sentiment": lambda v: f"public sentiment about the customer {v:+.2f} (-1..1)",
    "language_match": lambda v: ("rep speaks the customer's language" if v >= 0.5
                                 else "rep does not work in the customer's language"),
    "stalled_stages": lambda v: f"{v:.0f} stage(s) over their time threshold",
    "stalled_any": lambda v: "a stage ran over its threshold" if v >= 0.5 else "no stage ran over its threshold",
    "days_in_current_stage": lambda v: f"{v:.0f} days in the current stage",
    "stage_index": lambda v: f"reached stage {v + 1:.0f} of 5",
    "rep_capability": lambda v: f"rep's 360° survey score {v:.1f}/5",
    "calls": lambda v: f"{v:.0f} call(s) with the customer",
    "conv__objections": lambda v: f"customer raised {v:.0f} objection(s)",
    "conv__objections_answered": lambda v: f"{v:.0%} of objections answered",
    "conv__approved_track_uses": lambda v: f"approved talk tracks used {v:.0f} time(s)",
    "conv__mined_track_uses": lambda v: f"top-seller talk tracks used {v:.0f} time(s)",
    "conv__discount_offers": lambda v: f"discount offered {v:.0f} time(s)",
    "conv__key_question_coverage": lambda v: f"{v:.0%} of key questions covered",
    "conv__talk_ratio": lambda v: f"rep talked {v:.0%} of the time",
    "conv__longest_monologue_s": lambda v: f"longest rep monologue {v:.0f} s",
    "conv__questions_per_min": lambda v: f"rep asked {v:.1f} questions a minute",
    "conv__open_question_share": lambda v: f"{v:.0%} open questions",
    "conv__interactivity": lambda v: f"{v:.1f} speaker switches a minute",
    "conv__patience_s": lambda v: f"rep waited {v:.1f} s before answering",
    "conv__interruptions_per_min": lambda v: f"{v:.1f} interruptions a minute",
}


# Lineage: the imported fields (``<import file>.<column>``) and derived data (utterances, moments,
# talk tracks) each feature reads, declared here beside the builders so that a new feature comes with
# its inputs; ``talktrack lineage`` draws it and tests/test_management_lineage.py checks it against the
# columns build_deal_table really makes. A key ending in ``*`` is a family of columns (a prefix).
_STAGE_INPUTS = ("stage_events.stage", "stage_events.entered_at", "deals.closed_at")
_CALL_INPUTS = ("calls.deal_id", "calls.started_at", "deals.closed_at")
FEATURE_INPUTS: dict[str, tuple[str, ...]] = {
    "log_employees": ("customers.employees",),
    "purchase_frequency": ("customers.purchase_frequency",),
    "log1p_open_positions": ("customers.open_positions",),
    "sentiment": ("customers.sentiment",),
    "language_match": ("customers.language", "reps.language"),
    "industry__*": ("customers.industry",),
    "days__*": _STAGE_INPUTS,
    "stalled_stages": _STAGE_INPUTS,
    "stalled_any": _STAGE_INPUTS,
    "days_in_current_stage": _STAGE_INPUTS,
    "stage_index": _STAGE_INPUTS,
    "rep_capability": ("surveys.score", "surveys.source", "surveys.period", "deals.rep_id", "deals.created_at"),
    "calls": _CALL_INPUTS,
    **{f"conv__{name}": _CALL_INPUTS + ("utterances",) for name in CALL_FEATURES[:7]},
    "conv__objections": _CALL_INPUTS + ("moments",),
    "conv__objections_answered": _CALL_INPUTS + ("moments",),
    "conv__approved_track_uses": _CALL_INPUTS + ("moments", "talk_tracks"),
    "conv__mined_track_uses": _CALL_INPUTS + ("moments", "talk_tracks"),
    "conv__discount_offers": _CALL_INPUTS + ("moments",),
    "conv__key_question_coverage": _CALL_INPUTS + ("calls.stage", "moments"),
    **CHAT_INPUTS,
}
