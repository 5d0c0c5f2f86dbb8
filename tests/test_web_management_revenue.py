"""The Management page's revenue section in a real browser (Debian's Chromium through Playwright), over
the shared served world, with the browser, server and helpers of tests/test_web.py.

A director reads healthy contract value per team (with the exclusions), renewal vs new business with
the concentration flags per region, and new-customer LTV/CAC per lead source, team and region: each
figure as the API gives it. A manager sees their own team only. Screenshots at desktop and phone width
go to docs/screenshots/management-revenue-*.png. Any console error fails a test (the page fixture).
"""

from __future__ import annotations

from tests.test_web import DESKTOP, PHONE, browser, page, page_overflow_px, screenshots, sign_in, web  # noqa: F401
from tests.test_web_management import api, as_of, director_key  # noqa: F401

READY = "#revenue[data-ready='1']"


def money(value: float) -> str:
    return f"{round(value):,}"


def test_a_director_reads_healthy_value_concentration_and_ltv_cac(page, web, director_key, as_of):  # noqa: F811
    revenue = api(web, director_key, "/v1/management/revenue", as_of=as_of)
    ltv = api(web, director_key, "/v1/management/ltv-cac", as_of=as_of)
    sign_in(page, director_key, "/app/management")
    page.goto(f"/app/management?as_of={as_of}")
    page.wait_for_selector(READY, timeout=120_000)
    assert "rev." not in page.locator("#revenue").inner_text()   # every label translated, none a raw key

    # healthy value: per team, the trailing year's healthy and excluded value as the API's monthly rows sum
    first = revenue["windows"]["current"][0][:7]
    teams: dict[str, list[float]] = {}
    for row in revenue["healthy_value"]["team"]:
        if row["month"] >= first:
            cell = teams.setdefault(row["key"], [0.0, 0.0])
            cell[0] += row["healthy_value"]
            cell[1] += row["excluded_value"]
    assert len(teams) >= 2
    for team, (healthy, excluded) in teams.items():
        row = page.locator(f"#healthy-table tr[data-team='{team}']")
        assert row.locator("td.healthy b").inner_text() == money(healthy)
        assert row.locator("td.excluded").inner_text().startswith(money(excluded))
    reasons = page.locator("#excluded-reasons").inner_text()
    for entry in revenue["excluded"]["by_reason"].values():
        assert f"{entry['count']} ({money(entry['value'])})" in reasons

    # renewal vs new and concentration: one row per region, its flags the API's
    for region in revenue["concentration"]["region"]:
        row = page.locator(f"#split-table tr[data-region='{region['key']}']")
        assert row.get_attribute("data-flags") == " ".join(region["flags"])
        assert row.locator("td.flags .badge").count() == len(region["flags"])

    # LTV/CAC: every source, team and region with the API's ratio, and the total
    for group in ("source", "team", "region"):
        shown = {r.get_attribute("data-key"): r.get_attribute("data-ratio")
                 for r in page.locator(f"#ltv-{group} tr[data-group='{group}']").all()}
        expected = {r["key"]: r["ltv_cac"] for r in ltv["by"][group]} | (
            {"all": ltv["total"]["ltv_cac"]} if group == "source" else {})
        assert {k: float(v) if v else None for k, v in shown.items()} == expected
    assert ltv["total"]["acquisitions"] > 0
    assert "(all regions)" in page.locator("#renewal-model").inner_text()

    page.locator("#revenue").scroll_into_view_if_needed()
    screenshots(page, "management-revenue")
    page.set_viewport_size(PHONE)
    assert page_overflow_px(page) == 0   # the wide tables scroll inside their cards
    page.set_viewport_size(DESKTOP)


def test_a_manager_sees_only_their_team(page, web, keys, as_of):  # noqa: F811
    manager, team = keys["manager"], keys["team_id"]
    ltv = api(web, manager, "/v1/management/ltv-cac", as_of=as_of)
    assert [r["key"] for r in ltv["by"]["team"]] == [team]
    sign_in(page, manager, "/app/dashboard")
    page.goto(f"/app/management?as_of={as_of}")
    page.wait_for_selector(READY, timeout=120_000)
    assert page.locator("#ltv-team tr[data-group='team']").evaluate_all("rows => rows.map((r) => r.dataset.key)") == [team]
    shown = page.locator("#healthy-table tr[data-team]").evaluate_all("rows => rows.map((r) => r.dataset.team)")
    assert shown in ([team], [])   # a team without a contract in the trailing year shows none


def test_a_rep_is_refused_the_revenue_section(page, keys):
    page.console.expect(r"status of 403")
    sign_in(page, keys["rep"], "/app/drill")
    page.goto("/app/management")
    alert = page.wait_for_selector("#rev-body .alert[data-status='403']")
    assert "Not allowed for your role" in alert.inner_text()
    assert page.locator("#ltv-source").count() == 0
