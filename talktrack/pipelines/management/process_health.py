"""Process health per team and month: the stage funnel, key-action completion and team efficiency.

A manager sees the funnel already (:func:`talktrack.pipelines.stage_timers.stage_funnel`); what the
funnel hides is *how* deals move. So, per team and month:

- **funnel**: the deals created that month, counted at every stage up to the furthest one they
  reached, with the conversion from the stage before (:func:`stage_timers.funnel_rows`).
- **key actions** (``settings.process_health.key_actions``): for each deal that entered an action's
  ``after_stage`` that month, *done* when evidence of one of the action's kinds was submitted, or a
  call of the deal showed one of its moments, within ``within_h`` hours of entering the stage;
  *missed* when the deadline passed without; *pending* while it runs. rate = done / (done + missed).
- **efficiency** = effective touches per working hour × needs-diagnosis accuracy × solution match:

  - *effective touch*: a call or visit of a rep of the team (role ``rep``) that lasted at least
    ``min_touch_s`` and in which the customer spoke at least ``min_customer_utterances`` times;
  - *working hours*: the team's reps × weekdays of the month they were employed (up to ``as_of`` in
    the current month) × ``hours_per_day`` (the CRM has no timesheets);
  - *needs-diagnosis accuracy*: the mean, over the month's calls in ``diagnosis_stage``, of the share
    of that stage's key questions the call covered (the SOP check's key-question coverage);
  - *solution match*: the share of the month's calls in ``solution_stage`` (among calls whose moments
    were detected) in which the customer raised no objection of a ``mismatch_objections`` type
    (default ``need``: "this does not fit what we need").

  A factor without calls to measure it is ``None``, and so is the product: an unknown is not a zero.

Every figure is computed from the catalog; none is typed in. Which imported fields feed each one is
:data:`LINEAGE` (read by :mod:`talktrack.pipelines.management.lineage`).

Example::

    report = process_health(catalog, settings, team="TEAM-01", coverage=sop_coverage(catalog, settings, ws))
    report["key_actions"][0]["rate"], report["efficiency"][0]["efficiency"]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Deal, EvidenceDocument, Moment, Rep, StageEvent, Team, Utterance
from talktrack.core.config import Settings
from talktrack.models.features.deal import latest_event
from talktrack.pipelines import stage_timers
from talktrack.pipelines.semantic import sop

# call external id -> the key questions the call covered
Coverage = Callable[[list[str]], dict[str, set[str]]]

# Which imported fields (``<import file>.<column>``), derived data and metrics each figure reads.
LINEAGE: dict[str, tuple[str, ...]] = {
    "funnel_conversion": ("deals.created_at", "deals.status", "deals.rep_id", "reps.team_id",
                          "stage_events.stage", "stage_events.entered_at"),
    "key_action_rate": ("stage_events.stage", "stage_events.entered_at", "evidence.kind",
                        "evidence.submitted_at", "calls.deal_id", "calls.started_at", "moments", "reps.team_id"),
    "touches_per_hour": ("calls.rep_id", "calls.started_at", "calls.duration_s", "utterances",
                         "reps.team_id", "reps.role", "reps.hired_at"),
    "diagnosis_accuracy": ("calls.stage", "calls.started_at", "utterances", "reps.team_id"),
    "solution_match": ("calls.stage", "calls.started_at", "moments", "reps.team_id"),
    "team_efficiency": ("touches_per_hour", "diagnosis_accuracy", "solution_match"),
}


@dataclass(frozen=True)
class Frames:
    """The rows process health reads, one table each (``team``: the team's external id).

    deals: deal_pk, deal_id, created_at, status, team. events: deal_pk, stage, entered_at. evidence: deal_pk,
    kind, submitted_at. calls: call_pk, call_id, deal_pk, rep_pk, team, started_at, duration_s, stage,
    detected (moments were labelled), customer_utterances. moments: call_pk, kind, label.
    reps: rep_pk, team, role, hired_at.
    """

    deals: pd.DataFrame
    events: pd.DataFrame
    evidence: pd.DataFrame
    calls: pd.DataFrame
    moments: pd.DataFrame
    reps: pd.DataFrame


def load_frames(catalog: Catalog, team: str | None = None) -> Frames:
    """Everything of one team (or all teams), a few queries in all."""
    team_of_rep = select(Rep.id.label("rep_pk"), Team.external_id.label("team"), Rep.role, Rep.hired_at) \
        .join(Team, Team.id == Rep.team_id)
    if team is not None:
        team_of_rep = team_of_rep.where(Team.external_id == team)
    customer_turns = (select(Utterance.call_id, func.count().label("customer_utterances"))
                      .where(Utterance.role == "customer").group_by(Utterance.call_id).subquery())
    with catalog.engine.connect() as connection:
        reps = pd.read_sql(team_of_rep, connection)
        rep_pks = [int(pk) for pk in reps["rep_pk"]]
        deals = pd.read_sql(select(Deal.id.label("deal_pk"), Deal.external_id.label("deal_id"),
                                   Deal.rep_id.label("rep_pk"), Deal.created_at,
                                   Deal.status).where(Deal.rep_id.in_(rep_pks)), connection)
        deal_pks = [int(pk) for pk in deals["deal_pk"]]
        events = pd.read_sql(select(StageEvent.deal_id.label("deal_pk"), StageEvent.stage, StageEvent.entered_at)
                             .where(StageEvent.deal_id.in_(deal_pks)).order_by(StageEvent.entered_at), connection)
        evidence = pd.read_sql(select(EvidenceDocument.deal_id.label("deal_pk"), EvidenceDocument.kind,
                                      EvidenceDocument.submitted_at).where(EvidenceDocument.deal_id.in_(deal_pks)),
                               connection)
        calls = pd.read_sql(select(Call.id.label("call_pk"), Call.external_id.label("call_id"),
                                   Call.deal_id.label("deal_pk"), Call.rep_id.label("rep_pk"), Call.started_at,
                                   Call.duration_s, Call.stage, Call.moments_model,
                                   customer_turns.c.customer_utterances)
                            .outerjoin(customer_turns, customer_turns.c.call_id == Call.id)
                            .where(Call.rep_id.in_(rep_pks)), connection)
        moments = pd.read_sql(select(Moment.call_id.label("call_pk"), Moment.kind, Moment.label)
                              .where(Moment.call_id.in_([int(pk) for pk in calls["call_pk"]])), connection)
    team_by_rep = dict(zip(reps["rep_pk"], reps["team"], strict=True))
    deals["team"] = deals["rep_pk"].map(team_by_rep)
    calls["team"] = calls["rep_pk"].map(team_by_rep)
    calls["detected"] = calls.pop("moments_model").notna()
    calls["customer_utterances"] = calls["customer_utterances"].fillna(0).astype(int)
    for table, column in ((deals, "created_at"), (events, "entered_at"), (evidence, "submitted_at"),
                          (calls, "started_at")):
        table[column] = pd.to_datetime(table[column])
    return Frames(deals, events, evidence, calls, moments, reps)


def month_of(stamps: pd.Series) -> pd.Series:
    return stamps.dt.strftime("%Y-%m")


# -- funnel ----------------------------------------------------------------------------------------
def funnel_by_month(frames: Frames, order: list[str], months: Iterable[str]) -> list[dict]:
    """Per team and creation month of the deals: :func:`stage_timers.funnel_rows` of those deals."""
    rank = {stage: index for index, stage in enumerate(order)}
    furthest = frames.events.assign(rank=frames.events["stage"].map(rank)).groupby("deal_pk")["rank"].max()
    deals = frames.deals.assign(month=month_of(frames.deals["created_at"]),
                                furthest=frames.deals["deal_pk"].map(furthest).fillna(-1).astype(int))
    wanted = set(months)
    rows = []
    for (team, month), group in deals[deals["month"].isin(wanted)].groupby(["team", "month"]):
        pairs = list(zip(group["furthest"], group["status"], strict=True))
        rows.append({"team": team, "month": month, "deals": len(group),
                     "stages": stage_timers.funnel_rows(pairs, order)})
    return rows


# -- key actions -----------------------------------------------------------------------------------
def key_action_flags(frames: Frames, settings: Settings, as_of: datetime) -> pd.DataFrame:
    """One row per (deal, key action) whose stage the deal entered: team, month, entered_at,
    deadline and status (done | missed | pending) as of ``as_of``."""
    actions = settings.process_health.key_actions
    _check_actions(settings)
    first_entry = frames.events.groupby(["deal_pk", "stage"])["entered_at"].min()
    team_of = dict(zip(frames.deals["deal_pk"], frames.deals["team"], strict=True))
    id_of = dict(zip(frames.deals["deal_pk"], frames.deals["deal_id"], strict=True))
    rows = []
    for action in actions:
        entries = first_entry.xs(action.after_stage, level="stage") if action.after_stage in \
            first_entry.index.get_level_values("stage") else pd.Series(dtype="datetime64[ns]")
        entries = entries[entries <= pd.Timestamp(as_of)]
        deadline = entries + pd.Timedelta(hours=action.within_h)
        shown = _shown_by_evidence(frames, action, entries, deadline) | _shown_in_calls(frames, action, entries, deadline)
        for deal_pk, entered in entries.items():
            status = "done" if deal_pk in shown else ("pending" if deadline[deal_pk] > pd.Timestamp(as_of) else "missed")
            rows.append({"deal_pk": int(deal_pk), "deal_id": id_of.get(deal_pk), "team": team_of.get(deal_pk),
                         "action": action.key,
                         "entered_at": entered, "deadline": deadline[deal_pk], "status": status})
    flags = pd.DataFrame(rows, columns=["deal_pk", "deal_id", "team", "action", "entered_at", "deadline", "status"])
    flags["month"] = month_of(pd.to_datetime(flags["entered_at"]))
    return flags


def _check_actions(settings: Settings) -> None:
    """A key action naming an evidence kind or a moment the deployment does not know is a typo."""
    labels = {"objection": set(settings.objection_keys), "move": set(settings.move_keys),
              "key_question": set(settings.key_questions)}
    for action in settings.process_health.key_actions:
        unknown = sorted(set(action.evidence) - set(settings.evidence_kinds))
        unknown += [f"{m.kind}:{m.label}" for m in action.moments if m.label not in labels[m.kind]]
        if unknown:
            raise ValueError(f"process_health.key_actions.{action.key}: unknown evidence kinds or moments {unknown}")


def _within(stamps: pd.DataFrame, column: str, entries: pd.Series, deadline: pd.Series) -> set[int]:
    stamps = stamps[stamps["deal_pk"].isin(entries.index)]
    if stamps.empty:
        return set()
    start, end = stamps["deal_pk"].map(entries), stamps["deal_pk"].map(deadline)
    return {int(pk) for pk in stamps.loc[(stamps[column] >= start) & (stamps[column] <= end), "deal_pk"]}


def _shown_by_evidence(frames: Frames, action, entries: pd.Series, deadline: pd.Series) -> set[int]:
    if not action.evidence:
        return set()
    return _within(frames.evidence[frames.evidence["kind"].isin(action.evidence)], "submitted_at", entries, deadline)


def _shown_in_calls(frames: Frames, action, entries: pd.Series, deadline: pd.Series) -> set[int]:
    if not action.moments:
        return set()
    wanted = {(m.kind, m.label) for m in action.moments}
    # A boolean mask, never a bare list: an empty list would select no columns (a world without moments).
    mask = [(k, lab) in wanted for k, lab in zip(frames.moments["kind"], frames.moments["label"], strict=True)]
    hits = frames.moments.loc[pd.Series(mask, index=frames.moments.index, dtype=bool)]
    calls = frames.calls[frames.calls["call_pk"].isin(hits["call_pk"]) & frames.calls["deal_pk"].notna()]
    return _within(calls.assign(deal_pk=calls["deal_pk"].astype(int)), "started_at", entries, deadline)


def key_action_rates(flags: pd.DataFrame, settings: Settings, months: Iterable[str]) -> list[dict]:
    """Per team, month and action: due (entered the stage), done, missed, pending and the rate."""
    by_key = {action.key: action for action in settings.process_health.key_actions}
    flags = flags[flags["month"].isin(set(months))]
    rows = []
    for (team, month, key), group in flags.groupby(["team", "month", "action"]):
        counts = group["status"].value_counts()
        done, missed = int(counts.get("done", 0)), int(counts.get("missed", 0))
        rows.append({"team": team, "month": month, "action": key, "after_stage": by_key[key].after_stage,
                     "within_h": by_key[key].within_h, "due": len(group), "done": done, "missed": missed,
                     "pending": int(counts.get("pending", 0)),
                     "rate": round(done / (done + missed), 4) if done + missed else None})
    return rows


# -- efficiency ------------------------------------------------------------------------------------
def working_hours(frames: Frames, month: str, as_of: datetime, hours_per_day: float) -> dict[str, float]:
    """team -> its reps' weekdays of ``month`` (from hiring, up to ``as_of``) × hours a day."""
    start = pd.Period(month, "M").start_time.normalize()
    end = min(pd.Period(month, "M").end_time.normalize() + pd.Timedelta(days=1), pd.Timestamp(as_of).normalize()
              + pd.Timedelta(days=1))
    hours: dict[str, float] = {}
    for team, hired in frames.reps.loc[frames.reps["role"] == "rep", ["team", "hired_at"]].itertuples(index=False):
        first = max(start, pd.Timestamp(hired)) if hired is not None and not pd.isna(hired) else start
        days = int(np.busday_count(first.date(), end.date())) if first < end else 0
        hours[team] = hours.get(team, 0.0) + days * hours_per_day
    return hours


def effective_touches(frames: Frames, settings: Settings) -> pd.DataFrame:
    """The reps' calls with real content (long enough, the customer spoke), with their month."""
    rules = settings.process_health.efficiency
    reps = set(frames.reps.loc[frames.reps["role"] == "rep", "rep_pk"])
    calls = frames.calls[frames.calls["rep_pk"].isin(reps)]
    real = (calls["duration_s"].fillna(0) >= rules.min_touch_s) & (calls["customer_utterances"] >= rules.min_customer_utterances)
    return calls[real].assign(month=month_of(calls.loc[real, "started_at"]))


def diagnosis_by_call(frames: Frames, settings: Settings, coverage: Coverage) -> pd.DataFrame:
    """Per call in the diagnosis stage: the share of that stage's key questions it covered."""
    stage = settings.process_health.efficiency.diagnosis_stage
    questions = set(settings.stage(stage).key_questions)
    calls = frames.calls[frames.calls["stage"] == stage]
    covered = coverage(list(calls["call_id"])) if len(calls) and questions else {}
    share = [len(covered.get(call, set()) & questions) / len(questions) if questions else None
             for call in calls["call_id"]]
    return calls.assign(month=month_of(calls["started_at"]), accuracy=share)


def solution_by_call(frames: Frames, settings: Settings) -> pd.DataFrame:
    """Per solution-stage call whose moments were detected: 1 when no misfit objection was raised, else 0."""
    rules = settings.process_health.efficiency
    calls = frames.calls[(frames.calls["stage"] == rules.solution_stage) & frames.calls["detected"]]
    misfit = frames.moments[(frames.moments["kind"] == "objection") & frames.moments["label"].isin(rules.mismatch_objections)]
    return calls.assign(month=month_of(calls["started_at"]), match=(~calls["call_pk"].isin(misfit["call_pk"])).astype(float))


def efficiency_rows(frames: Frames, settings: Settings, months: list[str], as_of: datetime,
                    coverage: Coverage) -> list[dict]:
    """Per team and month: the three factors, what each is made of, and their product."""
    rules = settings.process_health.efficiency
    touches = effective_touches(frames, settings).groupby(["team", "month"]).size()
    diagnosis = diagnosis_by_call(frames, settings, coverage).groupby(["team", "month"])["accuracy"].agg(["mean", "size"])
    solution = solution_by_call(frames, settings).groupby(["team", "month"])["match"].agg(["mean", "size"])
    rows = []
    for month in months:
        hours = working_hours(frames, month, as_of, rules.hours_per_day)
        for team in sorted(set(frames.reps["team"])):
            n_touches = int(touches.get((team, month), 0))
            rate = n_touches / hours[team] if hours.get(team) else None
            accuracy, diag_calls = _factor(diagnosis, team, month)
            match, sol_calls = _factor(solution, team, month)
            factors = (rate, accuracy, match)
            rows.append({"team": team, "month": month, "effective_touches": n_touches,
                         "working_hours": hours.get(team, 0.0), "touches_per_hour": _round(rate),
                         "diagnosis_calls": diag_calls, "diagnosis_accuracy": _round(accuracy),
                         "solution_calls": sol_calls, "solution_match": _round(match),
                         "efficiency": _round(float(np.prod(factors))) if None not in factors else None})
    return rows


def _factor(table: pd.DataFrame, team: str, month: str) -> tuple[float | None, int]:
    if (team, month) not in table.index:
        return None, 0
    mean, size = table.loc[(team, month)]
    return (None if pd.isna(mean) else float(mean)), int(size)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# -- the report ------------------------------------------------------------------------------------
def recent_months(as_of: datetime, count: int) -> list[str]:
    """The ``count`` months ending with ``as_of``'s, oldest first."""
    last = pd.Period(pd.Timestamp(as_of), "M")
    return [str(last - offset) for offset in range(count - 1, -1, -1)]


def process_health(catalog: Catalog, settings: Settings, *, coverage: Coverage, team: str | None = None,
                   as_of: datetime | None = None, months: int = 6) -> dict:
    """Funnel, key-action rates and efficiency per team for the ``months`` months up to ``as_of``
    (default: the catalog's latest event, so a replayed history reads as it did)."""
    if months < 1:
        raise ValueError(f"months must be at least 1, not {months}")
    as_of = as_of or latest_event(catalog)
    window = recent_months(as_of, months)
    frames = load_frames(catalog, team)
    order = [stage.key for stage in settings.stages]
    return {"team": team, "as_of": as_of.isoformat(timespec="seconds"), "months": window,
            "funnel": funnel_by_month(frames, order, window),
            "key_actions": key_action_rates(key_action_flags(frames, settings, as_of), settings, window),
            "efficiency": efficiency_rows(frames, settings, window, as_of, coverage)}


def sop_coverage(catalog: Catalog, settings: Settings, workspace) -> Coverage:
    """Key questions covered per call, as the SOP check finds them in the rep's sentences."""
    def covered(call_ids: list[str]) -> dict[str, set[str]]:
        results = sop.check_calls(catalog, settings, workspace, call_ids) if call_ids else []
        return {result.call_id: set(result.covered_key_questions) for result in results}

    return covered
