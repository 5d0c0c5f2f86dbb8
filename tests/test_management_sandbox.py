"""The decision sandbox on a real SQLite catalog holding a small generated world, and the world's
counterfactual quarter it is graded against (few Monte Carlo draws: the figures of record come from
``talktrack eval sandbox`` on a bigger unseen world, bench/results/management_sandbox.json)."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import Deal
from talktrack.core.workspace import Workspace
from talktrack.evaluation.sandbox import evaluate_sandbox, world_spec
from talktrack.evaluation.world import WorldSpec, generate_world
from talktrack.evaluation.world.counterfactual import Plan, forward_quarter
from talktrack.evaluation.world.generate import build_records
from talktrack.evaluation.world.spec import Taxonomy
from talktrack.pipelines.crm_import import import_directory
from talktrack.pipelines.management.sandbox import kaplan_meier, run_sandbox
from talktrack.pipelines.management.sandbox_history import SandboxError, Scenario, moved_count

AS_OF = date(2026, 12, 7)
DRAWS = 300
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("sandbox-world")
    generate_world(WorldSpec(seed=34, reps=24, customers=120, deals=360, calls=20, audio=0, screenshots=0,
                             as_of=AS_OF), out)
    return out, json.loads((out / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def imported(tmp_path_factory, world, settings):
    root = tmp_path_factory.mktemp("sandbox-ws")
    workspace = Workspace.at(root).ensure()
    local = settings.model_copy(update={"workspace": workspace.root,
                                        "catalog": settings.catalog.model_copy(update={"url": None})})
    catalog = open_catalog(workspace.catalog_url)
    import_directory(catalog, local, world[0])
    yield catalog, local
    catalog.dispose()


def test_scenario_is_validated():
    with pytest.raises(ValidationError, match="two lines"):
        Scenario(from_line="order_hub", to_line="order_hub")
    with pytest.raises(ValidationError):
        Scenario(from_line="order_hub", to_line="field_service", move_share=1.5)
    with pytest.raises(ValidationError):
        Scenario(from_line="order_hub", to_line="field_service", reps=3)


def test_moved_count_rounds_half_up_and_moves_at_least_one():
    assert [moved_count(0.2, n) for n in (0, 1, 4, 5, 8, 10)] == [0, 1, 1, 1, 2, 2]
    assert moved_count(0.5, 5) == 3 and moved_count(0.0, 9) == 0 and moved_count(1.0, 7) == 7


def test_kaplan_meier_counts_open_deals_as_censored():
    # closed at 1, 2, 4; open (censored) at 3 and 5: S(1) = 4/5, S(2) = 4/5 * 3/4, S(4) = 3/5 * 1/2
    curve = kaplan_meier(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([True, True, False, True, False]))
    assert np.allclose(curve.survive(np.array([0.5, 1.0, 2.5, 4.0, 9.0])), [1.0, 0.8, 0.6, 0.3, 0.3])
    draws = curve.sample(np.random.default_rng(0), 20000)
    assert np.isinf(draws).mean() == pytest.approx(0.3, abs=0.02)  # the mass never seen closing


def test_a_window_where_no_deal_ever_closed_expects_no_new_business_rather_than_failing(imported):
    # the first day of the world's history: deals opened, none closed, so no cycle time to draw from
    catalog, settings = imported
    assert np.isinf(kaplan_meier(np.array([3.0, 9.0]), np.array([False, False])).sample(
        np.random.default_rng(0), 50)).all()
    with catalog.session() as session:
        first = session.scalar(select(func.min(Deal.created_at))).date()
    result = run_sandbox(catalog, settings, Scenario(move_share=0.5, from_line="order_hub", to_line="field_service"),
                         as_of=first, draws=DRAWS)
    assert result["baseline"]["new_business_margin"] == {"mean": 0.0, "low": 0.0, "high": 0.0}
    assert all(np.isfinite(v) for figures in result["baseline"].values() for v in figures.values())


def test_unknown_line_is_refused_with_the_known_ones(imported):
    catalog, settings = imported
    with pytest.raises(SandboxError, match="known: field_service, insight_analytics"):
        run_sandbox(catalog, settings, Scenario(from_line="order_hub", to_line="nope"), as_of=AS_OF, draws=DRAWS)


def test_moving_reps_to_a_richer_line_raises_margin_and_nothing_else(imported):
    catalog, settings = imported
    # field_service has the lowest gross margin (0.48), insight_analytics the highest (0.74)
    result = run_sandbox(catalog, settings, Scenario(move_share=0.5, from_line="field_service",
                                                     to_line="insight_analytics", rule="lowest_margin"),
                         as_of=AS_OF, draws=DRAWS)
    moved = [m["rep_id"] for m in result["plan"]["moved"]]
    assert moved and all(result["plan"]["lines"]["scenario"][r] == "insight_analytics" for r in moved)
    change = result["difference"]
    assert change["gross_margin"]["mean"] > 0 and change["gross_margin"]["low"] >= 0
    assert change["churn"] == {"mean": 0.0, "low": 0.0, "high": 0.0}  # renewals do not depend on who sells what
    for figures in (result["baseline"], result["scenario"]):
        for name in ("gross_margin", "churn", "productivity"):
            assert figures[name]["low"] <= figures[name]["mean"] <= figures[name]["high"]


def test_no_change_means_no_difference_and_a_hire_adds_a_seller(imported):
    catalog, settings = imported
    still = run_sandbox(catalog, settings, Scenario(move_share=0, from_line="order_hub", to_line="field_service"),
                        as_of=AS_OF, draws=DRAWS)
    assert still["difference"]["gross_margin"] == {"mean": 0.0, "low": 0.0, "high": 0.0}
    hired = run_sandbox(catalog, settings, Scenario(move_share=0, from_line="order_hub", to_line="field_service",
                                                    hire=2), as_of=AS_OF, draws=DRAWS)
    lines = hired["plan"]["sellers_per_line"]
    assert lines["scenario"]["field_service"] == lines["baseline"].get("field_service", 0) + 2
    assert hired["difference"]["new_business_margin"]["mean"] > 0


def test_manager_scope_fits_only_the_team(imported, world):
    catalog, settings = imported
    team = sorted(world[1]["management"]["gaming"]["team_months"])[0]
    result = run_sandbox(catalog, settings, Scenario(move_share=1.0, from_line="order_hub", to_line="field_service"),
                         as_of=AS_OF, team=team, draws=DRAWS)
    sellers = {rep for rep, facts in world[1]["reps"].items() if facts["team_id"] == team and facts["role"] == "rep"}
    assert set(result["plan"]["lines"]["baseline"]) == sellers and result["fitted"]["sellers"] == len(sellers)


def test_counterfactual_moves_exactly_the_moved_reps_margin(world):
    out, truth = world
    spec = world_spec(truth["spec"])
    records = build_records(spec, Taxonomy.default(), out / "unused", None)
    sellers = sorted(r.rep_id for r in records.reps if r.role == "rep")
    base = {rep: "field_service" for rep in sellers}
    moved = sellers[:3]
    before = forward_quarter(spec, records, Plan(base), draw=1, horizon_days=90)
    after = forward_quarter(spec, records, Plan(base | dict.fromkeys(moved, "insight_analytics")), draw=1,
                            horizon_days=90)
    again = forward_quarter(spec, records, Plan(base), draw=1, horizon_days=90)
    assert again == before  # same world, same draw: the same quarter
    for rep in sellers:
        ratio = 0.74 / 0.48 if rep in moved else 1.0
        assert after["per_rep_new_margin"][rep] == pytest.approx(before["per_rep_new_margin"][rep] * ratio)
    assert after["churn"] == before["churn"] and after["renewal_margin"] == before["renewal_margin"]
    with pytest.raises(ValueError, match="not sellers"):
        forward_quarter(spec, records, Plan({"REP-999": "order_hub"}), draw=1, horizon_days=90)


def test_evaluation_reports_error_and_coverage(imported, world):
    catalog, settings = imported
    report = evaluate_sandbox(world[0], catalog, settings, scenarios=3, draws=DRAWS)
    assert report["scenarios"] == 3 and len(report["rows"]) == 3
    assert 0.0 <= report["margin_change"]["coverage"] <= 1.0
    assert report["real_material"] is None
    for row in report["rows"]:
        margin = row["gross_margin"]
        assert margin["error"] == pytest.approx(margin["predicted"]["mean"] - margin["true_change"])


@pytest.fixture(scope="module")
def served(imported):
    import httpx

    from talktrack.serving.app import create_app
    from talktrack.serving.keys import create_key
    from tests.serving_support import LiveServer

    catalog, settings = imported
    keys = {"director": create_key(catalog, "director", name="director")[0],
            "manager": create_key(catalog, "manager", team="TEAM-01", name="manager")[0],
            "rep": create_key(catalog, "rep", rep="REP-005", name="rep")[0]}
    with LiveServer(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=120) as http:
        yield http, keys


def test_api_director_moves_anyone_a_manager_only_their_team(world, served):
    from tests.serving_support import assert_error, bearer

    http, keys = served
    body = {"move_share": 1.0, "from_line": "order_hub", "to_line": "field_service", "as_of": AS_OF.isoformat(),
            "draws": 100}
    everyone = http.post("/v1/management/sandbox", json=body, headers=bearer(keys["director"]))
    assert everyone.status_code == 200, everyone.text
    team_of = {rep: facts["team_id"] for rep, facts in world[1]["reps"].items()}
    own = http.post("/v1/management/sandbox", json=body, headers=bearer(keys["manager"]))
    assert own.status_code == 200 and own.json()["team"] == "TEAM-01"
    assert {team_of[r] for r in own.json()["plan"]["lines"]["baseline"]} == {"TEAM-01"}
    assert len(everyone.json()["plan"]["lines"]["baseline"]) > len(own.json()["plan"]["lines"]["baseline"])
    assert_error(http.post("/v1/management/sandbox", json=body | {"team": "TEAM-02"},
                           headers=bearer(keys["manager"])), 403)
    assert_error(http.post("/v1/management/sandbox", json=body, headers=bearer(keys["rep"])), 403)
    assert_error(http.post("/v1/management/sandbox", json=body | {"to_line": "nope"},
                           headers=bearer(keys["director"])), 422)
    assert_error(http.post("/v1/management/sandbox", json=body | {"draws": 10**6},
                           headers=bearer(keys["director"])), 422)
