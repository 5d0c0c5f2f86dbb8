"""Mentoring in a real browser (Debian's Chromium through Playwright) over the shared served world, with the
browser, server and helpers of tests/test_web.py and the people of tests/test_serving_mentoring.py.

A senior rep opens one of their calls, starts a session with a teammate, clicks transcript lines and marks a
key point at each (the API then holds them at those lines' times), and sends the session on; the mentee's
manager finds it on the Management page, is stopped from rejecting without a note, confirms it, and the
ledger shows the mentor's points as the API computes them. Screenshots at desktop and phone width go to
docs/screenshots/mentoring-call-*.png and management-mentoring-*.png; no sideways scroll on a phone.
"""

from __future__ import annotations

import httpx
import pytest

from tests.serving_support import bearer
from tests.test_serving_mentoring import MONTH, people  # noqa: F401
from tests.test_web import PHONE, browser, page, page_overflow_px, screenshots, sign_in, web  # noqa: F401

READY_MS = 180_000
pytestmark = pytest.mark.timeout(1800)  # the first test builds the shared served world (10+ min at load 20)


def api(web, key: str, path: str, **params) -> dict:
    response = httpx.get(f"{web.url}{path}", headers=bearer(key), params=params, timeout=600)
    response.raise_for_status()
    return response.json()


def test_a_mentor_marks_key_points_and_the_mentees_manager_confirms_them(page, web, people, world_workspace):
    rules = world_workspace[0].management.mentoring
    sign_in(page, people["mentor_key"], "/app/drill")
    page.goto(f"/app/calls/{people['call']}")
    page.wait_for_selector("#mentoring[data-ready='1']", timeout=READY_MS)
    page.wait_for_selector("#transcript .line")
    assert page.locator("#mentoring h2").inner_text() == "Mentoring"
    page.click("#ment-start button[type=submit]")   # no mentee yet: refused on the page, nothing sent
    assert page.locator("#ment-start .status").inner_text() == "Name the rep you mentor."
    page.fill("#ment-start input[name=mentee]", people["mentee"])
    page.click("#ment-start button[type=submit]")
    page.wait_for_function("() => /Session \\d+ started/.test(document.getElementById('ment-status').textContent)")
    session_id = page.locator("#ment-status").inner_text().split()[1]
    page.wait_for_selector(f"article.mentoring-session[data-session-id='{session_id}'][data-status=open]")

    lines = page.locator("#transcript .line")
    starts = []
    for k in range(rules.min_annotations):
        line = lines.nth(k * 2)
        line.click()
        starts.append(float(line.get_attribute("data-start")))
        form = page.locator(f"article[data-session-id='{session_id}'] form.annotate")
        form.locator("textarea").fill(f"Key point {k + 1}: hear how the question is framed")
        form.locator("button[type=submit]").click()
        page.wait_for_function("([id, n]) => document.querySelectorAll(`article[data-session-id='${id}'] .key-points li`)"
                               ".length === n", arg=[session_id, k + 1])
    held = api(web, people["mentor_key"], f"/v1/mentoring/sessions/{session_id}")
    assert [a["at_s"] for a in held["annotations"]] == pytest.approx(starts, abs=0.06)
    page.locator(f"article[data-session-id='{session_id}'] button.submit-session").click()
    page.wait_for_selector(f"article[data-session-id='{session_id}'][data-status=submitted]")
    page.locator("#mentoring").scroll_into_view_if_needed()
    screenshots(page, "mentoring-call")

    manager = page   # the same tab, signed in again with the mentee's manager's key
    sign_in(manager, people["manager_key"], "/app/dashboard")
    manager.goto("/app/management")
    manager.wait_for_selector("#mentoring[data-ready='1']", timeout=READY_MS)
    card = manager.locator(f"#mentor-awaiting article[data-session-id='{session_id}']")
    assert card.locator(".key-points li").count() == rules.min_annotations
    card.locator("button.reject").click()
    assert card.locator(".status").inner_text() == "Write why the session is rejected."
    card.locator("button.confirm").click()
    manager.wait_for_function("id => !document.querySelector(`#mentor-awaiting article[data-session-id='${id}']`)",
                              arg=session_id)
    assert f"Session {session_id} confirmed." in manager.locator("#mentor-status").inner_text()
    confirmed = api(web, people["manager_key"], f"/v1/mentoring/sessions/{session_id}")
    assert confirmed["status"] == "confirmed" and confirmed["reviewed_by"] == "manager:mentoring-manager"

    book = api(web, people["manager_key"], "/v1/mentoring/ledger", month=MONTH)
    mine = next(r for r in book["reps"] if r["rep_id"] == people["mentor"])
    row = manager.locator(f"#mentor-ledger tr[data-rep='{people['mentor']}']")
    assert row.locator("td[data-column=net]").inner_text() == str(mine["net"])
    assert row.locator("td[data-column=sessions]").inner_text() == str(mine["sessions"])
    manager.locator("#mentoring").scroll_into_view_if_needed()
    screenshots(manager, "management-mentoring")
    manager.set_viewport_size(PHONE)
    assert page_overflow_px(manager) == 0
