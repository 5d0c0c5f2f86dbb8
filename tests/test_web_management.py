"""The Management page in a real browser (Debian's Chromium through Playwright), over the shared served
world, with the browser, server and helpers of tests/test_web.py.

A manager reads their team's process health (the funnel, key actions done in time, the efficiency
factors: each figure as the API gives it) and follows a metric through the lineage graph; a director
sees every team; a rep is refused. Screenshots at desktop and phone width go to
docs/screenshots/management-*.png. Any console error in the browser fails a test (the page fixture).
"""

from __future__ import annotations

import httpx
import pytest

from tests.serving_support import bearer
from tests.test_web import DESKTOP, PHONE, browser, page, page_overflow_px, screenshots, sign_in, web  # noqa: F401

FIRST_VISIT_MS = 300_000  # the first visit runs the SOP check over the team's diagnosis calls (models load once)


@pytest.fixture(scope="module")
def director_key(world_workspace):
    from talktrack.serving.keys import ROLES, create_key

    if "director" not in ROLES:
        pytest.skip("no director role in this deployment")
    _, _, catalog = world_workspace
    return create_key(catalog, "director", name="director-web-tester")[0]


@pytest.fixture(scope="module")
def as_of(semantic_world) -> str:
    """The world's last day. Other tests post stage events dated today into the shared served catalog,
    and the page's default window ends at the catalog's latest event: pinned, the months are the world's."""
    import csv

    with open(semantic_world / "stage_events.csv", encoding="utf-8") as rows:
        return max(row["entered_at"] for row in csv.DictReader(rows))[:10]


def api(web, key: str, path: str, **params) -> dict:
    response = httpx.get(f"{web.url}{path}", headers=bearer(key), params=params, timeout=600)
    response.raise_for_status()
    return response.json()


def wait_for_health(page) -> None:
    for ready in ("#key-action-table tr[data-action]", "#efficiency-table tr[data-month]", "#ph-funnel .bar-row",
                  "#lineage svg g.node"):
        page.wait_for_selector(ready, timeout=FIRST_VISIT_MS)


def test_a_manager_reads_process_health_and_follows_the_lineage(page, web, keys, world_workspace, as_of):
    settings, _, _ = world_workspace
    manager = keys["manager"]
    report = api(web, manager, "/v1/management/process-health", months=3, as_of=as_of)   # also warms the SOP checker
    assert {r["team"] for r in report["efficiency"]} == {keys["team_id"]}   # pinned to the manager's team
    refused = httpx.get(f"{web.url}/v1/management/process-health", headers=bearer(manager), params={"team": "TEAM-99"})
    assert refused.status_code == 403

    sign_in(page, manager, "/app/dashboard")
    page.wait_for_selector("#nav a[data-nav=management]:not([hidden])")
    page.click("#nav a[data-nav=management]")
    page.wait_for_url("**/app/management")
    page.goto(f"/app/management?as_of={as_of}")
    wait_for_health(page)
    assert page.locator("#revenue[data-section=revenue]").count() == 1   # the place kept for revenue

    # the funnel: per stage, the deals of the window that reached it, summed over its months
    reached = [int(b.inner_text()) for b in page.locator("#ph-funnel .bar-row b").all()]
    assert reached == [sum(f["stages"][k]["reached"] for f in report["funnel"]) for k in range(len(settings.stages))]
    assert reached[0] > 0
    # key actions: one row per action, each month's rate as the API computed it
    assert page.locator("#key-action-table tr[data-action]").count() == len({r["action"] for r in report["key_actions"]})
    for r in report["key_actions"]:
        cell = page.locator(f"#key-action-table tr[data-action='{r['action']}'] td[data-month='{r['month']}']")
        shown = cell.get_attribute("data-rate")
        assert (float(shown) if shown else None) == r["rate"]
    # efficiency: each team-month with its factors; the product shown is the API's
    assert page.locator("#efficiency-table tr[data-month]").count() == len(report["efficiency"]) == 3
    computed = [r for r in report["efficiency"] if r["efficiency"] is not None]
    assert computed, "no month with all three factors"
    for r in computed:
        row = page.locator(f"#efficiency-table tr[data-month='{r['month']}']")
        assert row.locator("td.efficiency b").inner_text() == f"{r['efficiency']:.4f}"

    # lineage: every node and edge of the API's graph drawn; a click lights what feeds the metric
    graph = api(web, manager, "/v1/management/lineage")
    assert page.locator("#lineage g.node").count() == len(graph["nodes"])
    assert page.locator("#lineage path.edge").count() == len(graph["edges"])
    page.locator("#lineage g.node[data-node='team_efficiency']").click()
    chains = api(web, manager, "/v1/management/lineage", node="team_efficiency")["chains"]
    page.wait_for_function("n => document.querySelectorAll('#chains li').length === n", arg=len(chains))
    lit = set(page.locator("#lineage g.node.lit").evaluate_all("nodes => nodes.map((n) => n.dataset.node)"))
    assert {"touches_per_hour", "diagnosis_accuracy", "solution_match", "utterances", "reps.team_id"} <= lit
    assert "deal_scorer" not in lit

    screenshots(page, "management")
    page.set_viewport_size(PHONE)
    assert page_overflow_px(page) == 0   # the wide graph and tables scroll inside their cards
    page.set_viewport_size(DESKTOP)


def test_a_director_sees_every_team(page, web, director_key, as_of):
    report = api(web, director_key, "/v1/management/process-health", months=3, as_of=as_of)
    teams = {r["team"] for r in report["efficiency"]}
    assert len(teams) >= 2
    sign_in(page, director_key, "/app/management")   # a director starts the day here
    page.goto(f"/app/management?as_of={as_of}")
    wait_for_health(page)
    shown = set(page.locator("#efficiency-table tr[data-month]").evaluate_all("rows => rows.map((r) => r.dataset.team)"))
    assert shown == teams


def test_a_rep_is_refused_process_health(page, keys):
    page.console.expect(r"status of 403")
    sign_in(page, keys["rep"], "/app/drill")
    assert page.locator("#nav a[data-nav=management]").is_hidden()
    page.goto("/app/management")
    alert = page.wait_for_selector("#health-body .alert[data-status='403']")
    assert "Not allowed for your role" in alert.inner_text()
    assert page.locator("#efficiency-table, #key-action-table").count() == 0
