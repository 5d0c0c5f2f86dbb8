"""Process health graded against a seeded world's truth, where the world knows it.

- **stage durations**: the days a deal spent in each stage, from the catalog's stage events, against
  the durations the world planned (``truth.json`` ``planned_durations_days``), for every stage a
  deal left;
- **key actions**: each (deal, action) status recomputed from the world's own files (its stage
  events, evidence and the *true* moves of its calls) against the pipeline's, from the catalog with
  whatever moments it holds (true ones: the bookkeeping; detected ones: the detector's cost too);
- **needs-diagnosis accuracy**: per diagnosis-stage call, the share of the stage's key questions the
  coverage reader found (the SOP check) against the share the world's rep really asked;
- **solution match**: per solution-stage call, "no misfit objection" from the moments against the
  world's objection labels.

Each part gives per-item agreement and the team-month factor both ways, so a manager's figure can be
read with its error beside it.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from talktrack.core.catalog import Catalog, open_catalog
from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.evaluation.semantic.oracle import write_truth_moments
from talktrack.models.features.deal import PIPELINE, latest_event
from talktrack.pipelines.crm_import import import_directory
from talktrack.pipelines.management import process_health as ph


def evaluate_world(world_dir: Path, settings: Settings, workdir: Path) -> dict:
    """Import ``world_dir`` into a fresh workspace at ``workdir``, write its true moments (so the figures
    grade the bookkeeping, not the moment detector) and grade process health; diagnosis accuracy goes
    through the real SOP check."""
    settings = settings.model_copy(update={"workspace": Path(workdir)})
    workspace = Workspace.at(Path(workdir)).ensure()
    catalog = open_catalog(workspace.catalog_url)
    try:
        import_directory(catalog, settings, Path(world_dir))
        write_truth_moments(Path(world_dir), catalog)
        report = evaluate_process_health(world_dir, catalog, settings, ph.sop_coverage(catalog, settings, workspace))
    finally:
        catalog.dispose()
    return report | {"moments": "truth (write_truth_moments)", "key_question_coverage": "SOP check"}


def evaluate_process_health(world_dir: Path, catalog: Catalog, settings: Settings, coverage: ph.Coverage,
                            as_of: datetime | None = None) -> dict:
    """The four comparisons above, as JSON; ``catalog`` holds ``world_dir`` imported (and its moments)."""
    world_dir = Path(world_dir)
    truth = json.loads((world_dir / "truth.json").read_text(encoding="utf-8"))
    as_of = as_of or latest_event(catalog)
    frames = ph.load_frames(catalog)
    return {"world": str(world_dir), "as_of": as_of.isoformat(timespec="seconds"),
            "stage_durations": stage_durations(frames, truth),
            "key_actions": key_actions(frames, settings, world_dir, truth, as_of),
            "diagnosis_accuracy": diagnosis(frames, settings, truth, coverage),
            "solution_match": solution(frames, settings, truth)}


def stage_durations(frames: ph.Frames, truth: dict) -> dict:
    events = frames.events.merge(frames.deals[["deal_pk", "deal_id"]], on="deal_pk").sort_values(["deal_pk", "entered_at"])
    events["days"] = (events.groupby("deal_pk")["entered_at"].shift(-1) - events["entered_at"]).dt.total_seconds() / 86400
    done = events[events["days"].notna() & events["stage"].isin(PIPELINE)]
    planned = [truth["deals"][deal]["planned_durations_days"][stage] for deal, stage in zip(done["deal_id"], done["stage"],
                                                                                            strict=True)]
    error = np.abs(done["days"].to_numpy() - np.array(planned, dtype=float))
    return {"stages_compared": len(done), "mae_days": _r(error.mean()) if len(error) else None,
            "max_error_days": _r(error.max()) if len(error) else None}


def key_actions(frames: ph.Frames, settings: Settings, world_dir: Path, truth: dict, as_of: datetime) -> dict:
    ours = ph.key_action_flags(frames, settings, as_of).set_index(["deal_id", "action"])["status"]
    true = truth_key_actions(world_dir, truth, settings, as_of)
    both = pd.concat([ours.rename("ours"), true.rename("truth")], axis=1)
    out = {}
    for action, group in both.groupby(level="action"):
        rate = {side: _rate(group[side]) for side in ("ours", "truth")}
        out[action] = {"deals": len(group), "agreement": _r((group["ours"] == group["truth"]).mean()),
                       "rate": rate["ours"], "true_rate": rate["truth"]}
    return out


def truth_key_actions(world_dir: Path, truth: dict, settings: Settings, as_of: datetime) -> pd.Series:
    """(deal_id, action) -> done | missed | pending from the world's files and its calls' true moves."""
    events = pd.read_csv(world_dir / "stage_events.csv", parse_dates=["entered_at"])
    evidence = pd.read_json(world_dir / "evidence.jsonl", lines=True, convert_dates=["submitted_at"])
    calls = pd.read_csv(world_dir / "calls.csv", parse_dates=["started_at"]).set_index("call_id")
    moves = {(call, move) for call, record in truth["calls"].items() for u in record["utterances"]
             if u["act"] == "move" for move in u.get("moves", [])}
    first = events.groupby(["deal_id", "stage"])["entered_at"].min()
    status = {}
    for action in settings.process_health.key_actions:
        wanted = {m.label for m in action.moments if m.kind == "move"}
        shown_calls = calls[[any((call, m) in moves for m in wanted) for call in calls.index]]
        for (deal, stage), entered in first.items():
            if stage != action.after_stage or entered > pd.Timestamp(as_of):
                continue
            deadline = entered + pd.Timedelta(hours=action.within_h)
            docs = evidence[(evidence["deal_id"] == deal) & evidence["kind"].isin(action.evidence)]
            talk = shown_calls[shown_calls["deal_id"] == deal]
            done = docs["submitted_at"].between(entered, deadline).any() or talk["started_at"].between(entered, deadline).any()
            status[(deal, action.key)] = "done" if done else ("pending" if deadline > pd.Timestamp(as_of) else "missed")
    return pd.Series(status, dtype=object).rename_axis(["deal_id", "action"])


def diagnosis(frames: ph.Frames, settings: Settings, truth: dict, coverage: ph.Coverage) -> dict:
    stage = settings.process_health.efficiency.diagnosis_stage
    questions = set(settings.stage(stage).key_questions)
    calls = ph.diagnosis_by_call(frames, settings, coverage)
    true = [len(set(truth["calls"][c]["key_questions"]["covered"]) & questions) / len(questions) for c in calls["call_id"]]
    calls = calls.assign(true_accuracy=true)
    return {"calls": len(calls), "per_call_mae": _r((calls["accuracy"] - calls["true_accuracy"]).abs().mean()),
            **_team_months(calls, "accuracy", "true_accuracy")}


def solution(frames: ph.Frames, settings: Settings, truth: dict) -> dict:
    misfit = set(settings.process_health.efficiency.mismatch_objections)
    calls = ph.solution_by_call(frames, settings)
    true = [0.0 if any(o["objection_type"] in misfit for o in truth["calls"][c]["objections"]) else 1.0
            for c in calls["call_id"]]
    calls = calls.assign(true_match=true)
    return {"calls": len(calls), "per_call_agreement": _r((calls["match"] == calls["true_match"]).mean()),
            **_team_months(calls, "match", "true_match")}


def _team_months(calls: pd.DataFrame, ours: str, true: str) -> dict:
    """The factor per team and month both ways, and their mean absolute difference."""
    means = calls.groupby(["team", "month"])[[ours, true]].mean()
    return {"team_months": len(means), "team_month_mae": _r((means[ours] - means[true]).abs().mean()),
            "rows": [{"team": team, "month": month, "ours": _r(row[ours]), "truth": _r(row[true])}
                     for (team, month), row in means.iterrows()]}


def _rate(statuses: pd.Series) -> float | None:
    done, missed = int((statuses == "done").sum()), int((statuses == "missed").sum())
    return _r(done / (done + missed)) if done + missed else None


def _r(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)
