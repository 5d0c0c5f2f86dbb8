"""A few deals' feature rows in plain Python: what the service scores a deal it has never seen
from, with the values of :func:`talktrack.models.features.deal.build_deal_table` bit for bit.

Why: building one deal's row with the batch code costs ~35 ms on an idle machine, most of it
pandas' fixed cost per frame and per operation (a one-row ``read_sql``, ``get_dummies``,
``groupby``), not the data: a deal has a handful of stage events and calls. Here the same small
indexed reads (the deal with its customer and rep, its stage events, its rep's surveys, its
calls' precomputed rows from :mod:`talktrack.models.features.call_rows`, its chat messages) feed
plain loops; the chat columns are :mod:`talktrack.models.features.chat`'s, shared with the batch.

The batch path stays the truth; these rows equal its rows exactly (tests/test_deal_rows.py
checks every deal of a world, and the scores), which needs care in three places:

- means and sums are pandas' grouped ones, which add with Kahan compensation
  (:func:`kahan_sum`), not ``sum()``;
- ``log``/``log1p`` go through numpy, as the batch does (libm may round differently);
- time spans are ``timedelta.total_seconds()``, which equals pandas' ``Timedelta.total_seconds``.

As in the serving path of ``build_deal_table``, a row has only its own industry's one-hot column
(the model's input alignment sets the others to 0).

Example::

    rows = deal_feature_rows(catalog, settings, ["D00042"])   # {"D00042": {"log_employees": 5.3, ...}}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import bindparam, func, select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Customer, Deal, Rep, StageEvent, SurveyScore
from talktrack.core.config import Settings
from talktrack.models.features.call_rows import CallRead, read_call_rows
from talktrack.models.features.chat import chat_row, read_chat_inputs
from talktrack.models.features.conversation import CALL_FEATURES
from talktrack.models.features.deal import PIPELINE, STAGE_COLUMNS, SUMMED, latest_event

NAN = float("nan")
# statements built once (building a select costs more than running it on a few indexed rows)
_DEALS = (select(Deal.external_id.label("deal_id"), Deal.id.label("deal_pk"), Deal.rep_id, Deal.created_at,
                 Deal.closed_at, Customer.employees, Customer.purchase_frequency, Customer.open_positions,
                 Customer.sentiment, Customer.industry, Customer.language.label("customer_language"),
                 Rep.language.label("rep_language"))
          .join(Customer, Customer.id == Deal.customer_id).join(Rep, Rep.id == Deal.rep_id)
          .where(Deal.external_id.in_(bindparam("deal_ids", expanding=True))).order_by(Deal.id))
_EVENTS = (select(StageEvent.deal_id, StageEvent.stage, StageEvent.entered_at)
           .where(StageEvent.deal_id.in_(bindparam("deal_pks", expanding=True)))
           .order_by(StageEvent.deal_id, StageEvent.entered_at))
_OTHERS = (SurveyScore.rep_id == bindparam("rep"), SurveyScore.source != "self")
_LATEST_MONTH_SCORES = (
    select(SurveyScore.score)
    .where(*_OTHERS, SurveyScore.period == select(func.max(SurveyScore.period)).where(
        *_OTHERS, SurveyScore.period <= bindparam("created"), SurveyScore.period < bindparam("limit"))
        .scalar_subquery())
    .order_by(SurveyScore.id))


def deal_feature_rows(catalog: Catalog, settings: Settings, deal_ids: Sequence[str],
                      as_of: datetime | None = None) -> dict[str, dict[str, float]]:
    """deal id -> its feature row as of each deal's cut-off (a closed deal's close, else ``as_of``,
    default the catalog's latest event). Raises ``KeyError`` naming deals not in the catalog."""
    as_of = as_of or latest_event(catalog)
    with catalog.engine.connect() as connection:  # one checkout for the few small reads
        deals = _deals(connection, deal_ids)
        capabilities: dict[tuple, float] = {}  # deals of one rep, month and cut-off month share it
        for deal in deals.values():
            closed = deal["closed_at"]
            deal["cutoff"] = closed if closed is not None and closed <= as_of else as_of
            months = (deal["rep_id"], deal["created_at"].strftime("%Y-%m"), deal["cutoff"].strftime("%Y-%m"))
            if months not in capabilities:
                capabilities[months] = survey_capability(connection, *months)
            deal["rep_capability"] = capabilities[months]
        pks = [deal["deal_pk"] for deal in deals.values()]
        events = _stage_events(connection, pks)
        chats = read_chat_inputs(connection, pks)
    calls, _, _ = read_call_rows(catalog, settings, pks)
    calls_by_pk: dict[int, list[CallRead]] = {}
    for call in calls:
        calls_by_pk.setdefault(call.deal_pk, []).append(call)
    thresholds = {stage.key: stage.threshold_days for stage in settings.stages}
    logs = _logs(deals.values())
    return {deal_id: (logs[deal_id]
                      | _customer(deal)
                      | stage_row(events.get(deal["deal_pk"], []), deal["cutoff"], thresholds)
                      | {"rep_capability": deal["rep_capability"]}
                      | conversation_row(calls_by_pk.get(deal["deal_pk"], []), deal["cutoff"])
                      | chat_row(chats, deal["deal_pk"], deal["cutoff"], settings.objection_keys))
            for deal_id, deal in deals.items()}


def _deals(connection, deal_ids: Sequence[str]) -> dict[str, dict]:
    deals = {row.deal_id: row._asdict() for row in connection.execute(_DEALS, {"deal_ids": list(deal_ids)})}
    missing = sorted(set(deal_ids) - set(deals))
    if missing:
        raise KeyError(f"deals not in the catalog: {missing[:5]}")
    return deals


def _logs(deals: Iterable[dict]) -> dict[str, dict[str, float]]:
    """``log_employees`` and ``log1p_open_positions`` through numpy's log, as the batch computes them."""
    deals = list(deals)
    employees = np.log(np.array([_float(d["employees"]) for d in deals], dtype=float).clip(min=1))
    positions = np.log1p(np.array([_float(d["open_positions"]) for d in deals], dtype=float).clip(min=0))
    return {d["deal_id"]: {"log_employees": float(e), "log1p_open_positions": float(p)}
            for d, e, p in zip(deals, employees, positions, strict=True)}


def _customer(deal: Mapping) -> dict[str, float]:
    languages = deal["customer_language"], deal["rep_language"]
    industry = deal["industry"] if deal["industry"] is not None else "unknown"
    return {
        "purchase_frequency": _float(deal["purchase_frequency"]),
        "sentiment": _float(deal["sentiment"]),
        # pandas compares missing values as unequal: two unknown languages are no match
        "language_match": float(None not in languages and languages[0] == languages[1]),
        f"industry__{industry}": 1.0,
    }


def _stage_events(connection, deal_pks: list[int]) -> dict[int, list[tuple[str, datetime]]]:
    events: dict[int, list[tuple[str, datetime]]] = {}
    for deal_pk, stage, entered_at in connection.execute(_EVENTS, {"deal_pks": deal_pks}):
        events.setdefault(deal_pk, []).append((stage, entered_at))
    return events


def stage_row(events: list[tuple[str, datetime]], cutoff: datetime, thresholds: Mapping[str, float]) -> dict:
    """:func:`talktrack.models.features.deal.stage_history` of (stage, entered_at) pairs in time order."""
    row = dict.fromkeys(STAGE_COLUMNS, NAN)
    events = [(stage, at) for stage, at in events if at is not None and at < cutoff]
    if not events:
        return row | {"stalled_stages": 0.0, "stalled_any": 0.0}
    stamps = [at for _, at in events] + [cutoff]
    stalled = 0
    for index, (stage, _) in enumerate(events):
        days = (stamps[index + 1] - stamps[index]).total_seconds() / 86400.0
        if stage in PIPELINE:
            row[f"days__{stage}"] = days
            stalled += days > thresholds[stage]
    current = events[-1][0]
    row["stalled_stages"], row["stalled_any"] = float(stalled), float(stalled > 0)
    row["days_in_current_stage"] = (stamps[-1] - stamps[-2]).total_seconds() / 86400.0
    row["stage_index"] = float(PIPELINE.index(current)) if current in PIPELINE else float(len(PIPELINE))
    return row


def survey_capability(connection, rep_id: int, created_month: str, cutoff_month: str) -> float:
    """:class:`talktrack.models.features.deal.SurveyCapability` for a deal of ``rep_id`` created in
    ``created_month``: the mean (self-ratings left out) of the rep's latest survey month up to that
    month and before the deal's cut-off month; only that month's scores are read (a rep has hundreds)."""
    scores = connection.scalars(_LATEST_MONTH_SCORES, {"rep": rep_id, "created": created_month,
                                                       "limit": cutoff_month})
    return kahan_mean(float(score) for score in scores)


def conversation_row(calls: list[CallRead], cutoff: datetime) -> dict[str, float]:
    """``calls`` and the ``conv__`` means (sums for :data:`SUMMED`) over the calls before the cut-off."""
    before = [call.features for call in calls if call.started_at is not None and call.started_at < cutoff]
    row = {"calls": float(len(before))}
    for name in CALL_FEATURES:
        values = [features[name] for features in before]
        row[f"conv__{name}"] = kahan_sum(values, min_count=1) if name in SUMMED else kahan_mean(values)
    return row


def kahan_sum(values: Iterable[float], min_count: int = 0) -> float:
    """The sum of the non-NaN values with Kahan compensation, as pandas' grouped ``sum`` adds
    (NaN when fewer than ``min_count`` values)."""
    total, count = _kahan(values)
    return total if count >= min_count else NAN


def kahan_mean(values: Iterable[float]) -> float:
    """The mean of the non-NaN values as pandas' grouped ``mean`` computes it (NaN when none)."""
    total, count = _kahan(values)
    return total / count if count else NAN


def _kahan(values: Iterable[float]) -> tuple[float, int]:
    total, compensation, count = 0.0, 0.0, 0
    for value in values:
        if math.isnan(value):
            continue
        count += 1
        y = value - compensation
        t = total + y
        compensation = t - total - y
        if math.isnan(compensation):  # an infinite value: pandas resets the compensation
            compensation = 0.0
        total = t
    return total, count


def _float(value) -> float:
    return NAN if value is None else float(value)
