"""Coaching views on the capability estimates: a rep's radar, the team shortfall heatmap, and
recommendations (a course, a coach session, top-seller examples) for each shortfall.

The rule (``settings.training.capability``): a dimension whose estimate is at least
``shortfall_share`` (30%) below the team mean in the month, or below the team mean in each of the
last ``shortfall_months`` (2) months, is a shortfall. The gap is relative on the survey scale:
``(rep - team_mean) / team_mean``.

Reads the estimates saved by ``talktrack train capability`` and the catalog; never trains.

Example::

    estimates = read_estimates(workspace.models_dir / "capability")
    view = team_heatmap(catalog, settings, estimates, "TEAM-01")
    recommendations(catalog, settings, estimates, view.flagged())
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import or_, select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Course, Deal, Moment, Rep, TalkTrack, Team, Utterance
from talktrack.models import talk_cues

COURSES_FILE = Path(__file__).resolve().parents[1] / "configs" / "courses.yaml"


class CoachingError(LookupError):
    """An unknown rep, team or month; the message names it."""


@cache
def coaching_catalogue(path: Path = COURSES_FILE) -> dict:
    """``configs/courses.yaml``: per dimension a default course, a coach session, example selectors."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "dimensions" not in data:
        raise ValueError(f"{path}: expected a mapping with 'dimensions'")
    return data["dimensions"]


# -- rep and team lookups -------------------------------------------------------------------------
def team_reps(catalog: Catalog, team: str) -> list[str]:
    """External ids of a team's reps (by team external id or name)."""
    with catalog.session() as session:
        team_pk = session.scalar(select(Team.id).where(or_(Team.external_id == team, Team.name == team)))
        if team_pk is None:
            raise CoachingError(f"unknown team {team!r} (give its id, e.g. TEAM-01, or its name)")
        return list(session.scalars(select(Rep.external_id).where(Rep.team_id == team_pk).order_by(Rep.external_id)))


def rep_team(catalog: Catalog, rep: str) -> tuple[str, str]:
    """(team external id, rep language) of a rep."""
    with catalog.session() as session:
        row = session.execute(select(Team.external_id, Rep.language).join(Rep, Rep.team_id == Team.id)
                              .where(Rep.external_id == rep)).first()
    if row is None:
        raise CoachingError(f"unknown rep {rep!r}")
    return row[0], row[1]


def _month(estimates: pd.DataFrame, month: str | None) -> str:
    periods = sorted(estimates["period"].unique())
    if not periods:
        raise CoachingError("no capability estimates: run `talktrack train capability` first")
    if month is None:
        return periods[-1]
    if month not in periods:
        raise CoachingError(f"no estimates for month {month!r}; months with estimates: {periods[0]}..{periods[-1]}")
    return month


# -- radar ---------------------------------------------------------------------------------------
def rep_radar(catalog: Catalog, settings, estimates: pd.DataFrame, rep: str, month: str | None = None) -> dict:
    """One rep's 12 dimensions in a month (estimate and sd on the survey scale) with the team mean."""
    team, _ = rep_team(catalog, rep)
    month = _month(estimates, month)
    rows = estimates[(estimates["period"] == month)]
    mine = rows[rows["rep"] == rep].set_index("dimension")
    if mine.empty:
        raise CoachingError(f"no estimates for rep {rep!r} in {month}")
    team_mean = rows[rows["rep"].isin(team_reps(catalog, team))].groupby("dimension")["estimate"].mean()
    dims = list(settings.capability_keys)
    return {"rep": rep, "team": team, "month": month,
            "dimensions": [{"dimension": d, "estimate": round(float(mine.loc[d, "estimate"]), 3),
                            "sd": round(float(mine.loc[d, "sd"]), 3), "team_mean": round(float(team_mean[d]), 3)}
                           for d in dims if d in mine.index]}


# -- heatmap ----------------------------------------------------------------------------------------
@dataclass
class Heatmap:
    """Reps x dimensions of a team in a month: estimates, relative gaps, flags and their reasons."""

    team: str
    month: str
    reps: list[str]
    dimensions: list[str]
    values: np.ndarray  # shape: (n_reps, n_dimensions), survey scale
    team_mean: np.ndarray  # shape: (n_dimensions,)
    gaps: np.ndarray  # (value - team_mean) / team_mean
    flags: np.ndarray  # bool
    reasons: dict[tuple[str, str], str]

    def flagged(self) -> list[dict]:
        return [{"rep": r, "dimension": d, "reason": self.reasons[(r, d)], "team": self.team, "month": self.month}
                for r, d in sorted(self.reasons)]

    def to_dict(self) -> dict:
        return {"team": self.team, "month": self.month, "reps": self.reps, "dimensions": self.dimensions,
                "values": np.round(self.values, 3).tolist(), "team_mean": np.round(self.team_mean, 3).tolist(),
                "gaps": np.round(self.gaps, 3).tolist(), "flags": self.flags.tolist(), "flagged": self.flagged()}


def shortfall_heatmap(estimates: pd.DataFrame, reps: list[str], dimensions: list[str], month: str, *,
                      share: float, months_running: int, team: str = "") -> Heatmap:
    """The heatmap and the rule, on estimates alone (no catalog): see the module docstring."""
    periods = sorted(p for p in estimates["period"].unique() if p <= month)[-months_running:]
    rows = estimates[estimates["rep"].isin(reps) & estimates["period"].isin(periods)]
    cube = rows.pivot_table(index=["period", "rep"], columns="dimension", values="estimate")
    means = cube.groupby(level="period").mean()
    current = cube.loc[month].reindex(index=reps, columns=dimensions)
    gaps = (current - means.loc[month, dimensions]) / means.loc[month, dimensions]
    below = {p: (cube.loc[p].reindex(index=reps, columns=dimensions) < means.loc[p, dimensions]) for p in periods}
    reasons: dict[tuple[str, str], str] = {}
    for r in reps:
        for d in dimensions:
            gap = gaps.loc[r, d]
            if np.isfinite(gap) and gap <= -share:
                reasons[(r, d)] = (f"{-gap:.0%} below the team mean ({current.loc[r, d]:.2f} vs "
                                   f"{means.loc[month, d]:.2f}) in {month}")
            elif len(periods) == months_running and all(bool(below[p].loc[r, d]) for p in periods):
                reasons[(r, d)] = f"below the team mean {months_running} months running ({', '.join(periods)})"
    flags = np.array([[(r, d) in reasons for d in dimensions] for r in reps], dtype=bool).reshape(len(reps), -1)
    return Heatmap(team, month, reps, dimensions, current.to_numpy(dtype=float),
                   means.loc[month, dimensions].to_numpy(dtype=float), gaps.to_numpy(dtype=float), flags, reasons)


def team_heatmap(catalog: Catalog, settings, estimates: pd.DataFrame, team: str, month: str | None = None) -> Heatmap:
    options = settings.training.capability
    reps = [r for r in team_reps(catalog, team) if r in set(estimates["rep"])]
    if not reps:
        raise CoachingError(f"team {team!r} has no reps with capability estimates")
    return shortfall_heatmap(estimates, reps, list(settings.capability_keys), _month(estimates, month),
                             share=options.shortfall_share, months_running=options.shortfall_months, team=team)


def draw_radar(radar: dict, path: Path) -> Path:
    """A :func:`rep_radar` drawn as PNG/SVG (by suffix), the team mean as the reference line."""
    from talktrack.models.charts import radar_chart

    rows = radar["dimensions"]
    return radar_chart({r["dimension"]: r["estimate"] for r in rows}, path,
                       reference={r["dimension"]: r["team_mean"] for r in rows}, title=f"{radar['rep']} {radar['month']}")


def draw_heatmap(view: Heatmap, path: Path) -> Path:
    """A :func:`team_heatmap` drawn as PNG/SVG (by suffix), shortfalls marked."""
    from talktrack.models.charts import heatmap_chart

    return heatmap_chart(view.gaps, view.reps, view.dimensions, path, flags=view.flags, title=f"{view.team} {view.month}")


# -- recommendations ------------------------------------------------------------------------------------
def recommendations(catalog: Catalog, settings, estimates: pd.DataFrame, flagged: list[dict]) -> list[dict]:
    """For each flagged (rep, dimension): a course, a coach session and top-seller examples."""
    catalogue = coaching_catalogue()
    out = []
    for item in flagged:
        dimension = item["dimension"]
        _, language = rep_team(catalog, item["rep"])
        entry = catalogue.get(dimension, {})
        top = top_sellers(catalog, estimates, dimension, settings.training.capability.top_sellers,
                          exclude=item["rep"])
        out.append(item | {
            "course": course_for(catalog, dimension, language, entry),
            "coach_session": entry.get("coach", f"Coach session on {dimension.replace('_', ' ')}"),
            "top_sellers": top,
            "examples": examples_for(catalog, entry.get("examples", {"turns": "any"}), top,
                                     settings.training.capability.examples),
        })
    return out


def course_for(catalog: Catalog, dimension: str, language: str, entry: dict) -> dict:
    """The catalog's course of this dimension in the rep's language, else the configured one."""
    with catalog.session() as session:
        rows = session.execute(select(Course.external_id, Course.title, Course.url, Course.language)
                               .where(Course.dimension == dimension).order_by(Course.external_id)).all()
    for wanted in (language, "en"):
        for course_id, title, url, course_language in rows:
            if course_language == wanted:
                return {"id": course_id, "title": title, "url": url, "language": course_language,
                        "dimension": dimension, "source": "catalog"}
    titles = entry.get("course", {})
    title = titles.get(language) or titles.get("en") or dimension.replace("_", " ").title()
    return {"id": None, "title": title, "url": None, "language": language if language in titles else "en",
            "dimension": dimension, "source": "courses.yaml"}


def top_sellers(catalog: Catalog, estimates: pd.DataFrame, dimension: str, count: int, exclude: str = "") -> list[str]:
    """Reps with won deals, ranked by their mean estimate in ``dimension`` over all months."""
    with catalog.session() as session:
        winners = set(session.scalars(select(Rep.external_id).join(Deal, Deal.rep_id == Rep.id)
                                      .where(Deal.status == "won")))
    scores = estimates[estimates["dimension"] == dimension].groupby("rep")["estimate"].mean()
    ranked = [r for r in scores.sort_values(ascending=False).index if r in winners and r != exclude]
    return ranked[:count]


def examples_for(catalog: Catalog, selector: dict, reps: list[str], count: int) -> list[dict]:
    """Real utterances of ``reps``' won-deal calls that show the skill: talk-track exemplars, then
    moments (answers to the objection types, the moves), then surface cues of the turns."""
    found: list[dict] = []
    for finder in (_track_examples, _moment_examples, _turn_examples):
        if len(found) < count:
            seen = {(e["call_id"], e["text"]) for e in found}
            found += [e for e in finder(catalog, selector, reps, count) if (e["call_id"], e["text"]) not in seen]
    return found[:count]


def _won_call_ids(session, reps: list[str]) -> dict[int, tuple[str, str, str]]:
    rows = session.execute(select(Call.id, Call.external_id, Rep.external_id, Deal.external_id)
                           .join(Rep, Rep.id == Call.rep_id).join(Deal, Deal.id == Call.deal_id)
                           .where(Rep.external_id.in_(reps), Deal.status == "won").order_by(Call.id)).all()
    return {pk: (call, rep, deal) for pk, call, rep, deal in rows}


def _example(call: tuple[str, str, str], text: str, start: float | None, end: float | None, source: str) -> dict:
    return {"call_id": call[0], "rep": call[1], "deal_id": call[2], "text": text, "start_s": start, "end_s": end,
            "source": source}


def _track_examples(catalog: Catalog, selector: dict, reps: list[str], count: int) -> list[dict]:
    objections = selector.get("objections") or []
    if not objections:
        return []
    with catalog.session() as session:
        rows = session.execute(select(TalkTrack.exemplars).where(TalkTrack.objection_type.in_(objections),
                                                                 TalkTrack.status != "rejected")
                               .order_by(TalkTrack.status != "approved", TalkTrack.id)).all()
    out = []
    for (exemplars,) in rows:
        for e in exemplars or []:
            if e.get("outcome") == "won" and (e.get("rep_id") in reps or e.get("top_seller")):
                out.append({"call_id": e["call_id"], "rep": e.get("rep_id"), "deal_id": e.get("deal_id"),
                            "text": e["answer"]["text"], "start_s": e["answer"].get("start_s"),
                            "end_s": e["answer"].get("end_s"), "source": "talk_track",
                            "objection": e["objection"]["text"]})
    return out[:count]


def _moment_examples(catalog: Catalog, selector: dict, reps: list[str], count: int) -> list[dict]:
    objections, moves = selector.get("objections") or [], selector.get("moves") or []
    if not (objections or moves):
        return []
    out = []
    with catalog.session() as session:
        calls = _won_call_ids(session, reps)
        if not calls:
            return []
        if objections:
            out += _answers_to(session, calls, objections, count)
        if moves and len(out) < count:
            rows = session.execute(select(Utterance.call_id, Utterance.text, Utterance.start_s, Utterance.end_s)
                                   .join(Moment, Moment.utterance_id == Utterance.id)
                                   .where(Moment.call_id.in_(calls), Moment.kind == "move", Moment.label.in_(moves))
                                   .distinct().order_by(Utterance.call_id, Utterance.seq).limit(count * 4)).all()
            out += [_example(calls[c], t, s, e, "moment") for c, t, s, e in rows]
    return out[:count]


def _answers_to(session, calls: dict, objections: list[str], count: int) -> list[dict]:
    """The rep turn right after a customer objection of these types."""
    rows = session.execute(select(Utterance.call_id, Utterance.seq).join(Moment, Moment.utterance_id == Utterance.id)
                           .where(Moment.call_id.in_(calls), Moment.kind == "objection",
                                  Moment.label.in_(objections)).distinct()
                           .order_by(Utterance.call_id, Utterance.seq).limit(count * 4)).all()
    out = []
    for call_pk, seq in rows:
        answer = session.execute(select(Utterance.text, Utterance.start_s, Utterance.end_s)
                                 .where(Utterance.call_id == call_pk, Utterance.seq > seq, Utterance.role == "rep")
                                 .order_by(Utterance.seq).limit(1)).first()
        if answer is not None:
            out.append(_example(calls[call_pk], answer[0], answer[1], answer[2], "moment"))
    return out


TURN_CUES = {
    "any": lambda text, previous, position: len(text) > 20,
    "question": lambda text, previous, position: talk_cues.is_question(text),
    "open_question": lambda text, previous, position: talk_cues.is_open_question(text),
    "echo": lambda text, previous, position: talk_cues.echoes(text, previous),
    "early_question": lambda text, previous, position: position < 0.25 and talk_cues.is_question(text),
}


def _turn_examples(catalog: Catalog, selector: dict, reps: list[str], count: int) -> list[dict]:
    cue = selector.get("turns")
    if cue is None:
        return []
    if cue not in TURN_CUES:
        raise ValueError(f"courses.yaml: unknown turns cue {cue!r}; known: {sorted(TURN_CUES)}")
    out = []
    with catalog.session() as session:
        calls = _won_call_ids(session, reps)
        for call_pk in list(calls)[:50]:
            turns = session.execute(select(Utterance.role, Utterance.text, Utterance.start_s, Utterance.end_s)
                                    .where(Utterance.call_id == call_pk).order_by(Utterance.seq)).all()
            for i, (role, text, start, end) in enumerate(turns):
                previous = turns[i - 1][1] if i and turns[i - 1][0] == "customer" else ""
                if role == "rep" and TURN_CUES[cue](text, previous, i / len(turns)):
                    out.append(_example(calls[call_pk], text, start, end, "turn"))
                    break
            if len(out) >= count:
                break
    return out
