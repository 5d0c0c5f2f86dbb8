"""The team-level deal routes against a real server over the shared served world: ``GET /v1/deals``
(the deals a caller may see, with each one's stage clock) and ``GET /v1/crm/funnel`` (how far a
window's deals got, stage by stage).

The expected numbers are computed here straight from the catalog (deals, stage events), so the
routes are checked against the data, not against themselves. Nothing is written.
"""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from sqlalchemy import select

from talktrack.core.catalog.schema import Deal, Rep, StageEvent, Team
from tests.serving_support import assert_error, bearer

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


@pytest.fixture(scope="module")
def catalog_deals(world_workspace) -> list[dict]:
    """Every deal of the catalog with its rep, team, status, creation time and the stages of its events."""
    _, _, catalog = world_workspace
    with catalog.session() as session:
        query = (select(Deal.id, Deal.external_id, Deal.status, Deal.created_at, Rep.external_id,
                        Team.external_id)
                 .join(Rep, Rep.id == Deal.rep_id).outerjoin(Team, Team.id == Rep.team_id))
        rows = session.execute(query).all()
        stages: dict[int, set[str]] = {}
        for deal_pk, stage in session.execute(select(StageEvent.deal_id, StageEvent.stage)).all():
            stages.setdefault(deal_pk, set()).add(stage)
    return [{"deal_id": external, "status": status, "created_at": created, "rep": rep, "team": team,
             "stages": stages.get(pk, set())} for pk, external, status, created, rep, team in rows]


@pytest.fixture(scope="module")
def other_team(world_workspace, keys) -> str:
    """The team of ``keys["other_rep"]``: not the manager key's team."""
    _, _, catalog = world_workspace
    with catalog.session() as session:
        return session.scalar(select(Team.external_id).join(Rep, Rep.team_id == Team.id)
                              .where(Rep.external_id == keys["other_rep_id"]))


def get(client, key: str, path: str, **params) -> httpx.Response:
    return client.get(path, headers=bearer(key), params=params)


def all_deals(client, key: str, **params) -> dict:
    """Every page of ``GET /v1/deals`` with ``params``: ``{"total": n, "deals": [...]}``."""
    found, offset = [], 0
    while True:
        page = client.get("/v1/deals", headers=bearer(key), params=params | {"limit": 500, "offset": offset})
        assert page.status_code == 200, page.text
        body = page.json()
        found += body["deals"]
        offset += body["limit"]
        if offset >= body["total"]:
            return {"total": body["total"], "deals": found}


# -- GET /v1/deals ------------------------------------------------------------------------------------
def test_a_rep_sees_exactly_their_own_deals(client, keys, catalog_deals):
    listed = all_deals(client, keys["rep"])
    own = {d["deal_id"] for d in catalog_deals if d["rep"] == keys["rep_id"]}
    assert own and {d["deal_id"] for d in listed["deals"]} == own and listed["total"] == len(own)
    assert {d["rep"] for d in listed["deals"]} == {keys["rep_id"]}
    refused = assert_error(get(client, keys["rep"], "/v1/deals", rep=keys["other_rep_id"]), 403)
    assert keys["rep_id"] in refused["message"]


def test_a_manager_sees_exactly_their_teams_deals_and_no_other_team(client, keys, catalog_deals, other_team):
    listed = all_deals(client, keys["manager"])
    team = {d["deal_id"] for d in catalog_deals if d["team"] == keys["team_id"]}
    assert {d["deal_id"] for d in listed["deals"]} == team
    assert {d["team"] for d in listed["deals"]} == {keys["team_id"]}
    assert other_team != keys["team_id"]
    refused = assert_error(get(client, keys["manager"], "/v1/deals", team=other_team), 403)
    assert "own team" in refused["message"]


def test_open_deals_carry_the_stage_clock_of_their_timeline(client, keys, catalog_deals, world_workspace):
    settings, _, _ = world_workspace
    thresholds = {stage.key: stage.threshold_days for stage in settings.stages}
    listed = all_deals(client, keys["admin"], team=keys["team_id"], status="open")
    expected = {d["deal_id"] for d in catalog_deals if d["team"] == keys["team_id"] and d["status"] == "open"}
    assert expected and {d["deal_id"] for d in listed["deals"]} == expected
    for deal in listed["deals"][:5]:
        assert deal["status"] == "open" and deal["closed_at"] is None
        assert deal["threshold_days"] == thresholds[deal["stage"]]
        timeline = client.get(f"/v1/crm/deals/{deal['deal_id']}/stages", headers=bearer(keys["admin"])).json()
        assert timeline["stage"] == deal["stage"]
        assert deal["days_in_stage"] == pytest.approx(timeline["current"]["days_in_stage"], abs=0.02)
        assert deal["over_threshold"] == (deal["days_in_stage"] > deal["threshold_days"])
        assert {"title", "customer", "customer_name", "amount", "currency", "progress_level"} <= deal.keys()


def test_filters_and_pages_split_the_same_list(client, keys):
    admin = bearer(keys["admin"])
    first = client.get("/v1/deals", headers=admin, params={"status": "won", "limit": 5}).json()
    second = client.get("/v1/deals", headers=admin, params={"status": "won", "limit": 5, "offset": 5}).json()
    assert first["total"] == second["total"] > 10
    assert not {d["deal_id"] for d in first["deals"]} & {d["deal_id"] for d in second["deals"]}
    assert {d["status"] for d in first["deals"] + second["deals"]} == {"won"}
    assert all(d["closed_at"] for d in first["deals"])
    stage = first["deals"][0]["stage"]
    in_stage = client.get("/v1/deals", headers=admin, params={"stage": stage, "limit": 500}).json()["deals"]
    assert in_stage and {d["stage"] for d in in_stage} == {stage}


@pytest.mark.parametrize("params", [{"status": "closed"}, {"stage": "nowhere"}, {"limit": 0}, {"limit": 501},
                                    {"offset": -1}, {"team": ""}, {"rep": "R" * 65}])
def test_bad_deal_queries_are_422(client, keys, params):
    assert_error(client.get("/v1/deals", headers=bearer(keys["admin"]), params=params), 422)


def test_unknown_team_or_rep_is_404_not_an_empty_list(client, keys):
    unknown_team = assert_error(get(client, keys["coach"], "/v1/deals", team="TEAM-NONE"), 404)
    unknown_rep = assert_error(get(client, keys["coach"], "/v1/deals", rep="REP-NONE"), 404)
    assert (unknown_team["code"], unknown_rep["code"]) == ("team_not_found", "rep_not_found")


# -- GET /v1/crm/funnel -------------------------------------------------------------------------------
def expected_funnel(deals: list[dict], order: list[str]) -> list[int]:
    """Deals reaching each stage: a deal counts for every stage up to the furthest its events reached."""
    furthest = [max((order.index(s) for s in d["stages"] if s in order), default=-1) for d in deals]
    return [sum(1 for f in furthest if f >= k) for k in range(len(order))]


def test_the_team_funnel_counts_what_the_stage_events_say(client, keys, catalog_deals, world_workspace):
    settings, _, _ = world_workspace
    order = [stage.key for stage in settings.stages]
    team = [d for d in catalog_deals if d["team"] == keys["team_id"]]
    funnel = client.get("/v1/crm/funnel", headers=bearer(keys["manager"])).json()  # a manager: own team
    assert funnel["team"] == keys["team_id"] and funnel["deals"] == len(team)
    assert [row["stage"] for row in funnel["stages"]] == order
    assert [row["reached"] for row in funnel["stages"]] == expected_funnel(team, order)
    assert funnel["outcomes"] == {s: [d["status"] for d in team].count(s) for s in ("open", "won", "lost")}
    assert funnel["stages"][0]["conversion"] is None
    for previous, row in zip(funnel["stages"], funnel["stages"][1:]):
        assert 0 <= row["conversion"] <= 1
        assert row["conversion"] == pytest.approx(row["reached"] / previous["reached"], abs=1e-4)
    won_at_last = funnel["stages"][-1]["furthest"]["won"]
    assert won_at_last == funnel["outcomes"]["won"]  # a deal is won on the last stage only


def test_a_window_counts_only_the_deals_created_in_it(client, keys, catalog_deals, world_workspace):
    settings, _, _ = world_workspace
    order = [stage.key for stage in settings.stages]
    created = sorted(d["created_at"] for d in catalog_deals)
    since, until = created[len(created) // 4], created[3 * len(created) // 4]
    window = [d for d in catalog_deals if since <= d["created_at"] < until]
    funnel = client.get("/v1/crm/funnel", headers=bearer(keys["crm"]),
                        params={"since": since.isoformat(), "until": until.isoformat()}).json()
    assert funnel["team"] is None and funnel["deals"] == len(window) < len(catalog_deals)
    assert [row["reached"] for row in funnel["stages"]] == expected_funnel(window, order)


def test_funnel_refusals_and_bad_windows(client, keys, other_team):
    assert_error(get(client, keys["manager"], "/v1/crm/funnel", team=other_team), 403)
    assert_error(client.get("/v1/crm/funnel", headers=bearer(keys["rep"])), 403)
    assert_error(get(client, keys["coach"], "/v1/crm/funnel", team="TEAM-NONE"), 404)
    admin = bearer(keys["admin"])
    later, earlier = datetime(2025, 6, 1).isoformat(), datetime(2025, 1, 1).isoformat()
    assert "after" in assert_error(client.get("/v1/crm/funnel", headers=admin,
                                              params={"since": later, "until": earlier}), 422)["message"]
    assert_error(client.get("/v1/crm/funnel", headers=admin, params={"since": "yesterday"}), 422)
