"""The catalog reads behind the service's busiest pages, named, for the catalog bench and the plan test.

Each entry runs what a route runs (the same functions, with the access check a manager's key
pays): the call list's filters (``GET /v1/calls``), a call's view, the dashboard's panels
(open deals of a team, stage alerts, the funnel) and a never-scored deal's features. They must
stay fast as the catalog grows (issue 20: under 50 ms at 100k calls on SQLite and PostgreSQL),
which is a matter of indexes and of no per-row queries; ``tests/test_catalog_plans.py`` checks
SQLite's plan of every statement they run, ``talktrack bench catalog`` times them.

Example::

    ids = KeyIds.pick(catalog)
    for name, run in key_queries(catalog, settings, ids).items():
        run()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import cycle

from sqlalchemy import func, select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Deal, Moment, Rep, Team
from talktrack.models.features.deal import build_deal_table, latest_event
from talktrack.pipelines import deals as deal_list
from talktrack.pipelines import stage_timers
from talktrack.serving.access import Access
from talktrack.serving.call_queries import CallFilter, call_detail, list_calls, moments, transcript, visible_call
from talktrack.serving.keys import Caller

PAGE = 50
DASHBOARD_DEALS = 500  # what the dashboard asks for: /v1/deals?team=T&status=open&limit=500


class NoCatalogData(LookupError):
    """The catalog lacks what the key queries are picked from (calls with moments, deals, teams)."""


@dataclass(frozen=True)
class KeyIds:
    """The ids the queries are run with: the busiest rep (and its team), the deal with most calls, a
    call with moments, the commonest stage, the rarer language, and open deals to score one by one."""

    rep: str
    team: str
    deal: str
    call: str
    stage: str
    language: str
    open_deals: tuple[str, ...]
    as_of: datetime

    @classmethod
    def pick(cls, catalog: Catalog, open_deals: int = 40) -> KeyIds:
        with catalog.session() as session:
            rep = session.execute(select(Rep.external_id, Team.external_id).join(Call, Call.rep_id == Rep.id)
                                  .join(Team, Team.id == Rep.team_id).group_by(Rep.id, Team.external_id)
                                  .order_by(func.count(Call.id).desc(), Rep.id).limit(1)).first()
            deal = session.scalar(select(Deal.external_id).join(Call, Call.deal_id == Deal.id).group_by(Deal.id)
                                  .order_by(func.count(Call.id).desc(), Deal.id).limit(1))
            call = session.scalar(select(Call.external_id).join(Moment, Moment.call_id == Call.id)
                                  .join(Rep, Rep.id == Call.rep_id).where(Rep.external_id == rep[0])
                                  .order_by(Call.id).limit(1)) if rep else None
            stage = session.scalar(select(Call.stage).where(Call.stage.is_not(None)).group_by(Call.stage)
                                   .order_by(func.count().desc()).limit(1))
            language = session.scalar(select(Call.language).group_by(Call.language).order_by(func.count(), Call.language)
                                      .limit(1))
            opened = session.scalars(select(Deal.external_id).where(Deal.status == "open")
                                     .order_by(Deal.id.desc()).limit(open_deals)).all()
        if rep is None or deal is None or call is None or not opened:
            raise NoCatalogData("the key queries need calls with moments, deals with calls and open deals: "
                                "import a world and run `talktrack moments detect` first")
        return cls(rep=rep[0], team=rep[1], deal=deal, call=call, stage=stage, language=language,
                   open_deals=tuple(opened), as_of=latest_event(catalog))


def key_queries(catalog: Catalog, settings, ids: KeyIds) -> dict[str, Callable[[], object]]:
    """Name -> a call running one route's catalog work: the call list as an admin (no team pinned:
    the filters alone narrow it), a call's view and the dashboard as the busiest team's manager,
    scoring as the CRM (a different open deal each run). Builds the open deals' call feature rows
    first."""
    admin, manager = Caller(key_id=0, role="admin"), Caller(key_id=0, role="manager", team=ids.team)
    never_scored = cycle(ids.open_deals)

    def calls(**filters) -> Callable[[], object]:
        def run():
            access = Access(catalog, admin)
            pinned = CallFilter(rep=access.pin_rep(filters.get("rep")), team=access.pin_team(filters.get("team")),
                                **{k: v for k, v in filters.items() if k not in ("rep", "team")})
            return list_calls(catalog, pinned, limit=PAGE, offset=0)
        return run

    def call_view():
        row = visible_call(catalog, manager, ids.call)
        return call_detail(catalog, row), transcript(catalog, row), moments(catalog, row)

    def open_deals():
        filters = deal_list.DealFilter(team=Access(catalog, manager).pin_team(ids.team), status="open")
        return deal_list.list_deals(catalog, settings, filters, limit=DASHBOARD_DEALS, as_of=ids.as_of)

    def alerts():
        team = Access(catalog, manager).team_filter(ids.team)
        return stage_timers.stage_alerts(catalog, settings, ids.as_of, team)

    def funnel():
        return stage_timers.stage_funnel(catalog, settings, Access(catalog, manager).team_filter(ids.team))

    def score_features():
        return build_deal_table(catalog, settings, deal_ids=[next(never_scored)]).features

    # What the service's row keeper does at start: the open deals' call feature rows exist, so a
    # never-scored deal reads rows (issue 20, item 1) and the timing is of reading them.
    build_deal_table(catalog, settings, deal_ids=list(ids.open_deals))

    return {
        "calls.filter.rep": calls(rep=ids.rep),
        "calls.filter.team": calls(team=ids.team),
        "calls.filter.deal": calls(deal=ids.deal),
        "calls.filter.stage": calls(stage=ids.stage),
        "calls.filter.language": calls(language=ids.language),
        "calls.filter.status": calls(status="imported"),
        "calls.filter.team+language": calls(team=ids.team, language=ids.language),
        "call.view": call_view,
        "dashboard.open_deals": open_deals,
        "dashboard.alerts": alerts,
        "dashboard.funnel": funnel,
        "score.latest_event": lambda: latest_event(catalog),
        "score.never_scored_features": score_features,
    }
