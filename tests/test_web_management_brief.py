"""The Management page's daily-brief section in a real browser (Debian's Chromium through Playwright),
over the shared served world, with the browser, server and helpers of tests/test_web.py and the fixtures
of tests/test_web_management.py.

A manager reads their team's brief as the API gives it (the three checks, the overdue deals, the
week's answers and a market signal planted through the API), records a rep's answer through the form
and opens the Markdown export; a director sees every team. Screenshots at desktop and phone width go to
docs/screenshots/management-brief-*.png. Any console error fails a test (the page fixture).
"""

from __future__ import annotations

import httpx
import pytest

from tests.serving_support import bearer
from tests.test_web import DESKTOP, PHONE, browser, page, page_overflow_px, screenshots, sign_in, web  # noqa: F401
from tests.test_web_management import api, as_of, director_key  # noqa: F401

BRIEF_MS = 300_000  # the first brief loads the multilingual embedder and embeds the known examples
# the brief section's elements sticking out of a phone's width (for the failure message)
WIDE = """() => [...document.querySelectorAll('#brief *')].filter((e) => e.getBoundingClientRect().right >
  document.documentElement.clientWidth + 1).slice(0, 8).map((e) => `${e.tagName}.${e.className}`)"""
NEWS = ("A buyer asked whether we can keep all their records on servers inside their own building",
        "They want everything hosted on their own premises, no public cloud at all",
        "客户要求系统全部部署在他们自己的机房里，不能上公有云")


def team_reps(world_workspace, team: str) -> list[str]:
    from sqlalchemy import select

    from talktrack.core.catalog.schema import Rep, Team

    _, _, catalog = world_workspace
    with catalog.session() as session:
        return list(session.scalars(select(Rep.external_id).join(Team, Team.id == Rep.team_id)
                                    .where(Team.external_id == team).order_by(Rep.external_id)))


@pytest.fixture(scope="module")
def planted(web, keys, world_workspace, as_of):
    """Three answers about on-premises hosting from two reps of the manager's team, dated the page's day."""
    reps = team_reps(world_workspace, keys["team_id"])[:2]
    for i, text in enumerate(NEWS):
        response = httpx.post(f"{web.url}/v1/management/brief/answers", headers=bearer(keys["manager"]), timeout=60,
                              json={"rep_id": reps[i % 2], "text": text, "answered_on": as_of})
        assert response.status_code == 201, response.text
    return reps


def test_a_manager_reads_the_brief_and_records_an_answer(page, web, keys, as_of, planted):
    manager = keys["manager"]
    brief = api(web, manager, "/v1/management/brief", as_of=as_of)["briefs"][0]
    assert brief["team"] == keys["team_id"]
    assert any(set(NEWS) <= {a["text"] for a in s["answers"]} for s in brief["surprises"]["signals"]), brief["surprises"]

    sign_in(page, manager, "/app/dashboard")
    page.goto(f"/app/management?as_of={as_of}")
    page.wait_for_selector("#brief[data-ready='1']", timeout=BRIEF_MS)
    raw = page.eval_on_selector_all("[data-i18n]", "nodes => nodes.filter(n => n.textContent.trim() === n.dataset.i18n)"
                                    ".map(n => n.dataset.i18n)")
    assert raw == [], f"headings showing their string key instead of the text: {raw}"
    card = page.locator(f"#brief article.brief[data-team='{keys['team_id']}']")
    assert card.count() == 1
    for check in ("lead_pool", "breakpoints", "capability"):
        shown = card.locator(f".check[data-check='{check}'] .badge").get_attribute("data-ok")
        expected = brief["checks"][check]
        assert shown == ("null" if expected is None else str(expected).lower())
    pool = brief["lead_pool"]
    assert f"{round(pool['new_share'] * 100)}%" in card.locator(".check[data-check='lead_pool'] p").inner_text()
    assert card.locator(".check[data-check='breakpoints'] tr[data-deal]").count() == min(10, brief["breakpoints"]["count"])
    signals = card.locator(".signals li")
    assert signals.count() == len(brief["surprises"]["signals"]) >= 1

    # a rep's answer through the form (channel workbench) is counted at once
    before = brief["surprises"]["answers"]
    card.locator("form.answer input[name=rep_id]").fill(planted[0])
    card.locator("form.answer textarea").fill("The customer's new CFO asked for monthly invoices instead of yearly")
    card.locator("form.answer button[type=submit]").click()
    page.wait_for_function("n => document.querySelector('#brief .check.question p.muted').textContent.startsWith(String(n))",
                           arg=before + 1, timeout=BRIEF_MS)
    assert api(web, manager, "/v1/management/brief", as_of=as_of)["briefs"][0]["surprises"]["answers"] == before + 1

    page.locator("#brief .export button").click()
    page.wait_for_selector("#brief pre.markdown:not([hidden])")
    assert "# Daily brief:" in page.locator("#brief pre.markdown").inner_text()

    card.scroll_into_view_if_needed()
    screenshots(page, "management-brief")
    page.set_viewport_size(PHONE)
    assert page_overflow_px(page) == 0, page.evaluate(WIDE)
    page.set_viewport_size(DESKTOP)


def test_a_director_sees_every_teams_brief(page, web, director_key, as_of):
    teams = [b["team"] for b in api(web, director_key, "/v1/management/brief", as_of=as_of)["briefs"]]
    assert len(teams) >= 2
    sign_in(page, director_key, "/app/management")
    page.goto(f"/app/management?as_of={as_of}")
    page.wait_for_selector("#brief[data-ready='1']", timeout=BRIEF_MS)
    shown = page.locator("#brief article.brief").evaluate_all("cards => cards.map((c) => c.dataset.team)")
    assert shown == teams
