"""The Management page's trust sections in a real browser (Debian's Chromium through Playwright), over the
shared served world, with the browser, server and helpers of tests/test_web.py.

The anomaly breaker's rules are run on the served world (seed 5 plants two months of visit padding): a
director reads every open case with its evidence as the API gives it and closes one with a note, which the
API then shows closed with the note and the director as closer; a manager sees a Close form only on their own
team's cases. The credibility section ranks the managers and shows every team's month and checks as the API
computes them, draws one trend line per team and downloads the same report as a PDF. Screenshots at
desktop and phone width go to docs/screenshots/management-trust-*.png; no sideways scroll on a phone.
"""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from tests.serving_support import bearer
from tests.test_web import DESKTOP, PHONE, browser, page, page_overflow_px, screenshots, sign_in, web  # noqa: F401
from tests.test_web_management import as_of, director_key  # noqa: F401

READY_MS = 180_000
pytestmark = pytest.mark.timeout(1800)  # the first test builds the shared served world (10+ min at load 20)


def api(web, key: str, path: str, **params) -> dict:
    response = httpx.get(f"{web.url}{path}", headers=bearer(key), params=params, timeout=600)
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="module")
def cases(world_workspace, semantic_truth):
    """The anomaly rules run on the served world as of its last day (cases open once; a rerun opens none)."""
    from talktrack.pipelines.management import anomalies

    settings, _, catalog = world_workspace
    last_day = date.fromisoformat(semantic_truth["world_end"]) - timedelta(days=1)
    anomalies.run_rules(catalog, settings, as_of=last_day, actor="web-test")
    return anomalies.list_cases(catalog, settings, status="open", with_events=False)


def month_before(day: str) -> str:
    index = int(day[:4]) * 12 + int(day[5:7]) - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def open_cases(page, web, key: str, home: str) -> list[dict]:
    """Sign in, open the Management page, wait for the anomaly section; the API's open cases, all drawn."""
    listing = api(web, key, "/v1/management/anomalies", status="open")["cases"]
    sign_in(page, key, home)
    page.goto("/app/management")
    page.wait_for_selector("#anomalies[data-ready='1']", timeout=READY_MS)
    assert page.locator("#anom-cases article.case").count() == len(listing)
    return listing


def test_a_director_reads_open_cases_with_evidence_and_closes_one(page, web, director_key, cases, semantic_truth):
    planted = semantic_truth["management"]["gaming"]["planted"]
    assert cases and {(p["team_id"], p["month"]) for p in planted} <= {(c["key"], c["month"]) for c in cases}
    listing = open_cases(page, web, director_key, "/app/management")   # a director's home page
    for case in listing:
        card = page.locator(f"#anom-cases article.case[data-case-id='{case['id']}']")
        for metric, values in case["evidence"]["metrics"].items():
            row = card.locator(f"tr[data-metric='{metric}'] td")
            assert row.nth(1).inner_text() == str(values["previous_month"]) and row.nth(2).inner_text() == str(values["month"])
        assert card.locator("details.behind").count() == len(case["evidence"]["behind"])
        assert card.locator("form.close-case button[type=submit]").count() == 1   # a director closes any case

    target = listing[0]
    card = page.locator(f"#anom-cases article.case[data-case-id='{target['id']}']")
    card.locator("button[type=submit]").click()   # no note yet: refused on the page, nothing sent
    assert card.locator(".status").inner_text() == "Write what was checked first."
    card.locator("textarea[name=note]").fill("Compared visits with calls and calendars: padded, freeze stands.")
    card.locator("select[name=outcome]").select_option("confirmed")
    card.locator("button[type=submit]").click()
    page.wait_for_function("n => document.querySelectorAll('#anom-cases article.case').length === n", arg=len(listing) - 1)
    assert f"Case {target['id']} closed: freeze confirmed." in page.locator("#anom-status").inner_text()
    closed = {c["id"]: c for c in api(web, director_key, "/v1/management/anomalies", status="closed")["cases"]}
    assert closed[target["id"]]["note"].startswith("Compared visits") and closed[target["id"]]["closed_by"].startswith("director:")
    assert [e["action"] for e in closed[target["id"]]["events"]] == ["opened", "closed"]


def test_a_manager_may_close_only_their_own_teams_cases(page, web, keys, cases):
    listing = open_cases(page, web, keys["manager"], "/app/dashboard")   # a manager's home page
    for case in listing:
        card = page.locator(f"#anom-cases article.case[data-case-id='{case['id']}']")
        own = case["scope"] == "team" and case["key"] == keys["team_id"]
        assert card.locator("form.close-case").count() == int(own)


def test_credibility_ranks_managers_and_shows_each_teams_month(page, web, director_key, as_of):
    month = month_before(as_of)
    report = api(web, director_key, "/v1/management/credibility", month=month)
    assert len(report["teams"]) >= 2
    sign_in(page, director_key, "/app/management")
    page.goto(f"/app/management?as_of={as_of}")
    page.wait_for_selector("#credibility[data-ready='1']", timeout=READY_MS)
    assert month in page.locator("#cred-window").inner_text()
    shown = page.locator("#cred-ranking tbody tr").evaluate_all("rows => rows.map((r) => r.dataset.team)")
    assert shown == [r["team"] for r in report["ranking"]]
    for r in report["ranking"]:
        row = page.locator(f"#cred-ranking tr[data-team='{r['team']}']")
        assert float(row.get_attribute("data-quality")) == r["quality"]
        checks = next(t for t in report["teams"] if t["team"] == r["team"])["window"]["checks"]
        for name, c in checks.items():
            assert f"{c['passed']}/{c['checked']}" in row.locator(f"td[data-check='{name}']").inner_text()
    assert page.locator("#cred-trend polyline").count() == len(report["teams"])
    for team in report["teams"]:
        fields = next(m for m in team["months"] if m["month"] == month)["fields"]
        details = page.locator(f"details.cred-team[data-team='{team['team']}']")
        details.locator("summary").click()
        assert details.locator("tr[data-field]").count() == len(fields)
        for f in fields:
            share = details.locator(f"tr[data-field='{f['field']}'] td.share").inner_text()
            assert share == ("–" if f["hand_share"] is None else f"{int(f['hand_share'] * 100 + 0.5)}%")
    with page.expect_download() as download:
        page.click("#cred-pdf")
    path = download.value.path()
    assert download.value.suggested_filename == f"credibility-{month}.pdf" and open(path, "rb").read(4) == b"%PDF"

    page.locator("#anomalies").scroll_into_view_if_needed()
    screenshots(page, "management-trust")
    page.set_viewport_size(PHONE)
    assert page_overflow_px(page) == 0   # tables and the trend scroll inside their cards
    page.set_viewport_size(DESKTOP)
