"""The Management page's decision sandbox in a real browser (Debian's Chromium through Playwright), over the
shared served world, with the browser, server and helpers of tests/test_web.py.

A director runs the default scenario (20 % of the first product line's reps to the second) and then one of
their own from the form; each figure's change is the API's answer to the same scenario (the draws are
seeded, so the same request gives the same numbers), drawn as baseline and scenario intervals. A manager's
answer is their team's; a rep is refused. Screenshots at desktop and phone width go to
docs/screenshots/management-sandbox-*.png. Any console error fails a test (the page fixture).
"""

from __future__ import annotations

import httpx
import pytest

from tests.serving_support import bearer
from tests.test_web import DESKTOP, PHONE, browser, page, page_overflow_px, screenshots, sign_in, web  # noqa: F401
from tests.test_web_management import api, as_of, director_key  # noqa: F401

READY = "#sandbox[data-ready='1']"
FIGURES = ("gross_margin", "churn", "productivity")


def simulate(web, key: str, **body) -> dict:
    response = httpx.post(f"{web.url}/v1/management/sandbox", json=body, headers=bearer(key), timeout=600)
    response.raise_for_status()
    return response.json()


def lines_of(web, key: str, as_of: str) -> list[str]:
    revenue = api(web, key, "/v1/management/revenue", as_of=as_of)
    return sorted({row["key"] for row in revenue["healthy_value"]["product_line"]})


def shown_changes(page) -> dict[str, float]:
    return {row.get_attribute("data-figure"): float(row.get_attribute("data-change"))
            for row in page.locator("#sbx-result .sandbox-row").all()}


def test_a_director_runs_the_default_and_their_own_scenario(page, web, director_key, as_of):  # noqa: F811
    lines = lines_of(web, director_key, as_of)
    assert len(lines) >= 2
    sign_in(page, director_key, "/app/management")
    page.goto(f"/app/management?as_of={as_of}")
    page.wait_for_selector(READY, timeout=180_000)
    assert "sbx." not in page.locator("#sandbox").inner_text()   # every label translated, none a raw key
    default = simulate(web, director_key, move_share=0.2, from_line=lines[0], to_line=lines[1], as_of=as_of)
    assert shown_changes(page) == pytest.approx({f: default["difference"][f]["mean"] for f in FIGURES})
    for figure in FIGURES:   # two intervals per figure, each the API's
        bars = page.locator(f".sandbox-row[data-figure='{figure}'] g.interval")
        assert bars.count() == 2
        assert float(bars.nth(1).get_attribute("data-high")) == pytest.approx(default["scenario"][figure]["high"])

    page.fill("#sbx-share", "100")
    page.select_option("#sbx-from", lines[-1])
    page.select_option("#sbx-to", lines[0])
    page.select_option("#sbx-rule", "lowest_margin")
    page.fill("#sbx-hire", "1")
    page.click("#sbx-run")
    page.wait_for_selector(READY, timeout=180_000)
    own = simulate(web, director_key, move_share=1.0, from_line=lines[-1], to_line=lines[0], rule="lowest_margin",
                   hire=1, as_of=as_of)
    page.wait_for_function("(x) => document.querySelector(\"#sbx-result .sandbox-row\")?.dataset.change == String(x)",
                           arg=own["difference"]["gross_margin"]["mean"], timeout=60_000)
    assert shown_changes(page) == pytest.approx({f: own["difference"][f]["mean"] for f in FIGURES})
    assert all(m["name"] in page.locator("#sbx-moved").inner_text() for m in own["plan"]["moved"])

    page.locator("#sandbox").scroll_into_view_if_needed()
    screenshots(page, "management-sandbox")
    page.set_viewport_size(PHONE)
    assert page_overflow_px(page) == 0   # the charts scroll inside their cards
    page.set_viewport_size(DESKTOP)


def test_a_manager_simulates_their_own_team(page, web, keys, as_of):  # noqa: F811
    manager, team = keys["manager"], keys["team_id"]
    lines = lines_of(web, manager, as_of)
    if len(lines) < 2:
        pytest.skip(f"team {team} has contracts in fewer than two product lines")
    answer = simulate(web, manager, move_share=0.2, from_line=lines[0], to_line=lines[1], as_of=as_of)
    assert answer["team"] == team
    sign_in(page, manager, "/app/dashboard")
    page.goto(f"/app/management?as_of={as_of}")
    page.wait_for_selector(READY, timeout=180_000)
    assert shown_changes(page) == pytest.approx({f: answer["difference"][f]["mean"] for f in FIGURES})


def test_a_rep_is_refused_the_sandbox(page, keys):
    page.console.expect(r"status of 403")
    sign_in(page, keys["rep"], "/app/drill")
    page.goto("/app/management")
    alert = page.wait_for_selector("#sbx-body .alert[data-status='403']")
    assert "Not allowed for your role" in alert.inner_text()
    assert page.locator("#sbx-form").count() == 0
