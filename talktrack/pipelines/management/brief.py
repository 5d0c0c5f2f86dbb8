"""The manager's daily brief: three checks and one question, per team, as of a day.

1. **Lead-pool health**: of the team's leads created in the last ``pool_days``, the share created in
   the last ``new_days`` (fresh supply; at least ``min_new_share``) and the share marked invalid (at
   most ``max_invalid_share``).
2. **Process breakpoints**: open deals whose current stage has run past its timer
   (:func:`talktrack.pipelines.stage_timers.stage_alerts` at the end of the day).
3. **Capability shortfalls**: rep x dimension below the team mean in each of the last
   ``training.capability.shortfall_months`` months of the capability estimates.
4. **The question**: the week's answers to "which customer surprised you today?", clustered, with the
   new clusters as possible market signals (:mod:`.surprises`).

Each check says ``ok`` (True/False, or None when there is nothing to judge) so a reader sees at once
where to act. :func:`brief_markdown` renders the same dict as Markdown for an e-mail.

Example::

    brief = daily_brief(catalog, settings, team="TEAM-01", as_of=date(2026, 12, 7), estimates=None, embedder=emb)
    print(brief_markdown(brief))
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Lead, Rep, Team
from talktrack.pipelines import coaching, stage_timers
from talktrack.pipelines.management import surprises


class BriefError(LookupError):
    """An unknown manager or team; the message names it."""


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59))


def manager_teams(catalog: Catalog, manager: str | None = None) -> list[dict]:
    """The teams and their managers (``Team.manager_external_id``), or only ``manager``'s teams."""
    query = select(Team.external_id, Team.name, Team.manager_external_id).order_by(Team.external_id)
    if manager is not None:
        query = query.where(Team.manager_external_id == manager)
    with catalog.session() as session:
        rows = [{"team": r[0], "team_name": r[1], "manager": r[2]} for r in session.execute(query)]
    if manager is not None and not rows:
        raise BriefError(f"no team has manager {manager!r} (teams.csv manager_id)")
    return rows


def lead_pool(catalog: Catalog, settings, team: str, as_of: date) -> dict:
    """Shares of new and invalid leads in the team's pool (see the module docstring)."""
    options = settings.management.brief
    end = datetime.combine(as_of + timedelta(days=1), time())
    pool_start, new_start = end - timedelta(days=options.pool_days), end - timedelta(days=options.new_days)
    query = (select(Lead.created_at, Lead.status).join(Rep, Rep.id == Lead.rep_id).join(Team, Team.id == Rep.team_id)
             .where(Team.external_id == team, Lead.created_at >= pool_start, Lead.created_at < end))
    with catalog.session() as session:
        rows = session.execute(query).all()
    pool = len(rows)
    new = sum(created >= new_start for created, _ in rows)
    invalid = sum(status == "invalid" for _, status in rows)
    new_share, invalid_share = (new / pool, invalid / pool) if pool else (None, None)
    return {"pool": pool, "new": new, "invalid": invalid, "new_share": new_share, "invalid_share": invalid_share,
            "min_new_share": options.min_new_share, "max_invalid_share": options.max_invalid_share,
            "pool_since": pool_start.date().isoformat(), "new_since": new_start.date().isoformat(),
            "new_ok": None if new_share is None else new_share >= options.min_new_share,
            "invalid_ok": None if invalid_share is None else invalid_share < options.max_invalid_share}


def breakpoints(catalog: Catalog, settings, team: str, as_of: date) -> dict:
    """Open deals over their stage timer at the end of ``as_of``, most overdue first."""
    alerts = stage_timers.stage_alerts(catalog, settings, as_of=end_of_day(as_of), team=team)
    by_stage: dict[str, int] = {}
    for alert in alerts:
        by_stage[alert["stage"]] = by_stage.get(alert["stage"], 0) + 1
    return {"count": len(alerts), "by_stage": by_stage, "deals": alerts}


def capability_shortfalls(catalog: Catalog, settings, estimates, team: str, as_of: date) -> dict:
    """Rep x dimension below the team mean N months running, N = ``training.capability.shortfall_months``.

    ``estimates`` is the capability model's frame (None: never trained, the check cannot be made)."""
    months = settings.training.capability.shortfall_months
    if estimates is None:
        return {"available": False, "months_running": months, "month": None, "shortfalls": [],
                "reason": "no capability estimates: run `talktrack train capability`"}
    month_key = f"{as_of.year:04d}-{as_of.month:02d}"
    periods = sorted(p for p in estimates["period"].unique() if p <= month_key)
    reps = [r for r in coaching.team_reps(catalog, team) if r in set(estimates["rep"])]
    if not periods or not reps:
        return {"available": False, "months_running": months, "month": None, "shortfalls": [],
                "reason": f"no estimates of team {team}'s reps up to {month_key}"}
    # share=inf: only the "months running" half of the coaching rule (the brief's check)
    view = coaching.shortfall_heatmap(estimates, reps, list(settings.capability_keys), periods[-1],
                                      share=math.inf, months_running=months, team=team)
    gaps = {(r, d): float(view.gaps[i, j]) for i, r in enumerate(view.reps) for j, d in enumerate(view.dimensions)}
    rows = [{"rep": r, "dimension": d, "gap": round(gaps[(r, d)], 3), "reason": reason}
            for (r, d), reason in sorted(view.reasons.items())]
    return {"available": True, "months_running": months, "month": periods[-1], "shortfalls": rows}


def daily_brief(catalog: Catalog, settings, *, team: str, as_of: date, estimates, embedder,
                known: surprises.KnownExamples | None = None) -> dict:
    """Everything of one team's brief as of the end of ``as_of``."""
    if not stage_timers.team_exists(catalog, team):
        raise BriefError(f"unknown team {team!r}")
    managers = {row["team"]: row for row in manager_teams(catalog)}
    leads = lead_pool(catalog, settings, team, as_of)
    stuck = breakpoints(catalog, settings, team, as_of)
    skills = capability_shortfalls(catalog, settings, estimates, team, as_of)
    question = surprises.weekly_clusters(catalog, settings, embedder, team, as_of, known)
    checks = {"lead_pool": None if leads["pool"] == 0 else bool(leads["new_ok"] and leads["invalid_ok"]),
              "breakpoints": stuck["count"] == 0,
              "capability": None if not skills["available"] else not skills["shortfalls"]}
    return {"team": team, "team_name": managers[team]["team_name"], "manager": managers[team]["manager"],
            "as_of": as_of.isoformat(), "checks": checks, "lead_pool": leads, "breakpoints": stuck,
            "capability": skills, "surprises": question}
