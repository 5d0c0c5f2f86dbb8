"""The web workbench in a real browser: Debian's Chromium driven by Playwright against a real
uvicorn server over the shared served world (``world_workspace``), with ``install_web`` applied.

Each test signs in with a real key of one role and does what that user does: a coach approves a
talk track (and the API then says approved), a coach jumps a call's playback from its transcript,
a rep completes a three-turn typed drill, a manager reads the team dashboard; a rep is refused
another rep's call or drill and the manager's dashboard. Screenshots of each page at desktop and phone widths go to
docs/screenshots/. Any console error in the browser fails the test, except a refusal the test
itself expects (the 403 a rep gets is the point of that test).

Shared rows stay as they were: the reviewed track is put back in its status afterwards, and the
call viewer plays a copy of one call that these tests add with a recording.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile

from tests.serving_support import LiveServer, bearer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


# -- our own rows on top of the shared world --------------------------------------------------------
RESTORE = {"proposed": "reopen", "approved": "approve", "rejected": "reject", "edited": "edit"}


@pytest.fixture
def reopened_track(web, keys):
    """The shared world's first track, reopened for this test and put back in its status after it
    (the review trail keeps both steps, as it should)."""
    coach = bearer(keys["coach"])
    track = httpx.get(f"{web.url}/v1/tracks", headers=coach).json()["tracks"][0]
    httpx.post(f"{web.url}/v1/tracks/{track['id']}/review", headers=coach,
               json={"action": "reopen", "note": "reopened by the web tests"}).raise_for_status()
    yield track
    body = {"action": RESTORE[track["status"]], "note": "restored by the web tests", "script": track["script"]}
    httpx.post(f"{web.url}/v1/tracks/{track['id']}/review", headers=coach, json=body).raise_for_status()


@pytest.fixture(scope="module")
def call_with_audio(world_workspace, keys) -> dict:
    """A copy of one of the rep's calls (transcript and moments) with a recording of its length:
    a soft tone, enough for the browser to play and seek. Returns its id and utterances."""
    from sqlalchemy import select

    from talktrack.core.catalog.schema import Call, Moment, Rep, Utterance

    settings, workspace, catalog = world_workspace
    with catalog.session() as session:
        source = session.scalars(select(Call).join(Rep, Call.rep_id == Rep.id).join(Moment, Moment.call_id == Call.id)
                                 .where(Rep.external_id == keys["rep_id"]).order_by(Call.id).limit(1)).one()
        utterances = session.scalars(select(Utterance).where(Utterance.call_id == source.id).order_by(Utterance.seq)).all()
        duration = max(u.end_s for u in utterances) + 1.0
        audio = workspace.root / "audio" / f"web-test-{source.external_id}.wav"
        audio.parent.mkdir(parents=True, exist_ok=True)
        rate = 8000
        clock = np.arange(int(duration * rate)) / rate
        soundfile.write(audio, 0.05 * np.sin(2 * math.pi * 220 * clock), rate, subtype="PCM_16")
        copy = Call(**_columns(source, external_id=f"{source.external_id}-WEB", audio_path=str(audio),
                               content_hash=None, duration_s=duration))
        session.add(copy)
        session.flush()
        new_ids = {}
        for u in utterances:
            row = Utterance(**_columns(u, call_id=copy.id))
            session.add(row)
            session.flush()
            new_ids[u.id] = row.id
        for m in session.scalars(select(Moment).where(Moment.call_id == source.id)).all():
            session.add(Moment(**_columns(m, call_id=copy.id, utterance_id=new_ids[m.utterance_id])))
        lines = [{"seq": u.seq, "start_s": u.start_s, "text": u.text} for u in utterances]
    return {"call_id": f"{source.external_id}-WEB", "utterances": lines, "duration_s": duration}


def _columns(row, **changes) -> dict:
    values = {c.key: getattr(row, c.key) for c in row.__mapper__.column_attrs if c.key != "id"}
    return values | changes


# -- the server and the browser ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def web(world_workspace):
    """A live server of ``create_app(settings)`` with the pages installed."""
    from talktrack.serving.app import create_app
    from talktrack.serving.web import install_web

    settings, _, _ = world_workspace
    app = create_app(settings)
    install_web(app)
    with LiveServer(app) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (`make system-deps`) to run the page tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Console:
    """Collects the browser's console errors and uncaught exceptions; ``expect`` allows one kind."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.expected: list[re.Pattern] = []
        page.on("console", lambda message: message.type == "error"
                and self.errors.append(f"{message.text} {message.location.get('url', '')}"))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def expect(self, pattern: str) -> None:
        self.expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.expected)]


@pytest.fixture
def page(browser, web):
    context = browser.new_context(base_url=web.url, viewport=DESKTOP, locale="en-US")
    tab = context.new_page()
    tab.console = Console(tab)
    yield tab
    context.close()
    assert tab.console.unexpected() == [], "console errors in the browser"


def sign_in(page, key: str, landing: str) -> None:
    page.goto("/")
    page.fill("#key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{landing}")


def timed_goto(page, path: str, ready: str) -> float:
    """Seconds from navigation to ``ready`` (a selector of loaded data) being visible."""
    started = time.perf_counter()
    page.goto(path)
    page.wait_for_selector(ready)
    return time.perf_counter() - started


def screenshots(page, name: str) -> None:
    """``docs/screenshots/<name>-desktop.png`` and ``-phone.png`` of the page as it is now."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(100)
    page.screenshot(path=SCREENSHOTS / f"{name}-phone.png", full_page=True)
    page.set_viewport_size(DESKTOP)


# -- the tests --------------------------------------------------------------------------------------
def test_coach_approves_a_track_and_the_api_shows_it_approved(page, web, keys, reopened_track):
    sign_in(page, keys["coach"], "/app/tracks")
    page.wait_for_selector("#nav a[data-nav=tracks]:not([hidden])")
    track = reopened_track
    seconds = timed_goto(page, f"/app/tracks?track={track['id']}", "#track-detail .exemplar")
    print(f"\ntracks page: {seconds:.2f} s")  # a figure, not a bound: page speed lives in `make bench` (rule 6)
    assert page.locator(f"#track-list li[data-track-id='{track['id']}']").is_visible()
    assert page.locator("#track-detail .track-stats").inner_text().count("%") >= 2  # win rates shown
    screenshots(page, "tracks")

    page.fill("#review-note", "clear and short; use in onboarding")
    page.click("button[data-action=approve]")
    page.wait_for_selector("#track-detail h2 .badge[data-status=approved]")
    assert "clear and short" in page.locator(".trail").inner_text()

    shown = httpx.get(f"{web.url}/v1/tracks/{track['id']}", headers=bearer(keys["coach"])).json()
    assert shown["status"] == "approved" and shown["reviewed_by"] == "coach-tester"
    assert shown["trail"][-1]["note"] == "clear and short; use in onboarding"


def test_a_rep_reads_tracks_filters_them_and_cannot_review(page, web, keys, world_workspace):
    settings, _, _ = world_workspace
    tracks = httpx.get(f"{web.url}/v1/tracks", headers=bearer(keys["rep"])).json()["tracks"]
    without = next(o.key for o in settings.objection_types if o.key not in {t["objection_type"] for t in tracks})
    sign_in(page, keys["rep"], "/app/drill")
    page.goto("/app/tracks")
    page.wait_for_selector("#track-list li")
    assert page.locator("#track-list li").count() == len(tracks)
    page.select_option("#f-type", without)
    page.wait_for_selector("#track-list p.muted")
    assert page.locator("#track-list li").count() == 0
    page.select_option("#f-type", tracks[0]["objection_type"])
    page.wait_for_selector("#track-list li")
    page.click("#track-list li")
    page.wait_for_selector("#track-detail .exemplar")
    assert page.locator("#track-detail .review").count() == 0  # a rep reads tracks, never reviews them


def test_call_viewer_jumps_playback_to_a_clicked_line(page, keys, call_with_audio):
    sign_in(page, keys["coach"], "/app/tracks")
    call = call_with_audio
    seconds = timed_goto(page, f"/app/calls/{call['call_id']}", "#transcript .line")
    print(f"\ncall page: {seconds:.2f} s")  # a figure, not a bound: page speed lives in `make bench` (rule 6)
    # a function, not an expression: Playwright evals an expression in the page, which the CSP forbids
    page.wait_for_function("() => document.getElementById('call-audio')?.readyState >= 1")
    assert page.locator("#timeline rect.turn.rep").count() > 0 and page.locator("#timeline rect.turn.customer").count() > 0
    line = call["utterances"][len(call["utterances"]) // 2]
    page.click(f"#transcript .line[data-seq='{line['seq']}']")
    page.wait_for_function(
        "start => Math.abs(document.getElementById('call-audio').currentTime - start) < 0.5", arg=line["start_s"])
    assert page.locator(f"#transcript .line[data-seq='{line['seq']}']").get_attribute("class").split().count("current") == 1
    page.evaluate("document.getElementById('call-audio').pause()")
    page.wait_for_selector("#sop h3")  # the SOP check fills in after the transcript
    assert page.locator("#moments li").count() > 0
    screenshots(page, "call")


def test_a_rep_may_not_open_the_call_of_another_rep(page, keys, world_workspace):
    from sqlalchemy import select

    from talktrack.core.catalog.schema import Call, Rep

    _, _, catalog = world_workspace
    with catalog.session() as session:
        other = session.scalar(select(Call.external_id).join(Rep, Call.rep_id == Rep.id)
                               .where(Rep.external_id != keys["rep_id"]).limit(1))
    page.console.expect(r"status of 403")
    sign_in(page, keys["rep"], "/app/drill")
    page.goto(f"/app/calls/{other}")
    alert = page.wait_for_selector(".alert[data-status='403']")
    assert "Not allowed for your role" in alert.inner_text()
    assert page.locator("#transcript .line").count() == 0


def test_sign_in_page_in_chinese(browser, web):
    context = browser.new_context(base_url=web.url, viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    console = Console(page)
    page.goto("/")
    assert page.locator("h1").inner_text() == "登录"
    page.screenshot(path=SCREENSHOTS / "signin-zh-phone.png")
    context.close()
    assert console.unexpected() == []


# -- drills -----------------------------------------------------------------------------------------
SCENARIO = {"objection_type": "price", "persona": "skeptical", "language": "en"}
ANSWERS = [
    "I understand the budget concern. We can split the payment into installments over the year.",
    "Let me confirm your timeline first: when do you need this live? Then we can phase the rollout.",
    "Customers like you recovered the cost within six months; I can share the numbers from a similar team.",
]


@pytest.fixture(scope="module")
def warm_drills(web, keys) -> str:
    """The service's drill bank built and models loaded (the first drill does that, many seconds), so the
    page timings measure the page; returns that first drill's id (the rep's, ended)."""
    rep = bearer(keys["rep"])
    drill = httpx.post(f"{web.url}/v1/drills", headers=rep, json=SCENARIO, timeout=300).json()
    httpx.post(f"{web.url}/v1/drills/{drill['drill_id']}/end", headers=rep).raise_for_status()
    return drill["drill_id"]


def test_a_rep_completes_a_three_turn_typed_drill_and_sees_scores(page, web, keys, warm_drills):
    sign_in(page, keys["rep"], "/app/drill")
    page.wait_for_selector("#nav a[data-nav=drill]:not([hidden])")
    assert page.locator("#nav a[data-nav=dashboard]").is_hidden()  # a rep's nav has no team page
    seconds = timed_goto(page, "/app/drill", f"#history li[data-drill-id='{warm_drills}']")
    print(f"\ndrill page: {seconds:.2f} s")  # a figure, not a bound: page speed lives in `make bench` (rule 6)
    assert page.locator("#d-rep-box").is_hidden()  # a rep drills as itself
    for field, value in SCENARIO.items():
        page.select_option(f"#scenario [name={field}]", value)
    page.click("#d-start")
    page.wait_for_selector("#chat .bubble.customer")
    drill_id = re.search(r"id=([0-9a-f]+)", page.url).group(1)

    for seq, answer in enumerate(ANSWERS, start=1):
        page.fill("#answer", answer)
        page.click("#send")
        result = page.wait_for_selector(f".turn-result[data-seq='{seq}']", timeout=30_000)
        score = float(result.query_selector(".score").inner_text())
        assert 0 <= score <= 100
        assert "%" in result.query_selector(".breakdown").inner_text()  # closeness shown
    assert page.locator("#chat .bubble.customer").count() == 1 + len(ANSWERS)  # the customer answered each turn
    page.click(".turn-result[data-seq='3'] details summary")
    shown_answers = page.locator(".turn-result[data-seq='3'] .exemplar .say").all_inner_texts()
    screenshots(page, "drill")

    page.click("#end")
    page.wait_for_selector(".summary")
    stored = httpx.get(f"{web.url}/v1/drills/{drill_id}", headers=bearer(keys["rep"])).json()
    assert stored["status"] == "ended" and [t["rep_text"] for t in stored["turns"]] == ANSWERS
    closest = stored["turns"][2]["answers"]  # the (up to) three closest real top-seller answers
    assert 1 <= len(closest) <= 3 and [a["text"] in shown for a, shown in zip(closest, shown_answers, strict=True)]
    shown = [float(x) for x in page.locator(".summary tr").nth(3).locator("td").inner_text().split(" · ")]
    assert all(abs(x - t["score"]) <= 0.5 for x, t in zip(shown, stored["turns"], strict=True))
    assert page.locator("#answer").count() == 0  # an ended drill takes no more answers
    page.wait_for_selector(f"#history li[data-drill-id='{drill_id}']")


def test_a_rep_answers_through_the_microphone_and_the_spoken_answer_is_scored(browser, web, keys, warm_drills,
                                                                               tmp_path):
    """Chromium's fake microphone plays a spoken answer (espeak-ng) into the page's recorder; the
    recording goes up as the turn's audio and comes back transcribed and scored."""
    import shutil
    import subprocess

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    wav = tmp_path / "answer.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), ANSWERS[0]], check=True)
    fake_mic = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={wav}%noloop"]
    with_mic = browser.browser_type.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + fake_mic)
    try:
        context = with_mic.new_context(base_url=web.url, viewport=DESKTOP, locale="en-US", permissions=["microphone"])
        page = context.new_page()
        console = Console(page)
        sign_in(page, keys["rep"], "/app/drill")
        for field, value in SCENARIO.items():
            page.select_option(f"#scenario [name={field}]", value)
        page.click("#d-start")
        page.wait_for_selector("#chat .bubble.customer")
        drill_id = re.search(r"id=([0-9a-f]+)", page.url).group(1)
        page.click("#record")
        page.wait_for_timeout(soundfile.info(wav).duration * 1000 + 800)
        with page.expect_response(lambda r: r.url.endswith(f"/v1/drills/{drill_id}/turns"), timeout=60_000) as sent:
            page.click("#record")
        turn = sent.value.json()
        assert turn["input"] == "audio" and "budget" in turn["rep_text"].lower(), turn["rep_text"]
        assert "offer_installments" in turn["breakdown"]["moves_detected"]
        result = page.wait_for_selector(".turn-result[data-seq='1']")
        assert float(result.query_selector(".score").inner_text()) == pytest.approx(turn["score"], abs=0.5)
        context.close()
        assert console.unexpected() == []
    finally:
        with_mic.close()


def test_a_rep_cannot_open_another_reps_drill(page, web, keys, warm_drills):
    other = bearer(keys["other_rep"])
    drill = httpx.post(f"{web.url}/v1/drills", headers=other, json=SCENARIO, timeout=60).json()
    httpx.post(f"{web.url}/v1/drills/{drill['drill_id']}/turns", headers=other,
               json={"text": ANSWERS[0]}, timeout=60).raise_for_status()
    page.console.expect(r"status of 403")
    sign_in(page, keys["rep"], "/app/drill")
    page.goto(f"/app/drill?id={drill['drill_id']}")
    alert = page.wait_for_selector("#drill .alert[data-status='403']")
    assert "Not allowed for your role" in alert.inner_text()
    assert page.locator("#chat").count() == 0 and page.locator(".turn-result").count() == 0
    page.wait_for_selector("#history li")
    assert page.locator(f"#history li[data-drill-id='{drill['drill_id']}']").count() == 0


# -- team dashboard ---------------------------------------------------------------------------------
def test_the_dashboard_draws_the_team_heatmap_and_radars_for_a_manager(page, web, keys, world_workspace):
    settings, _, _ = world_workspace
    view = httpx.get(f"{web.url}/v1/capability/teams/{keys['team_id']}/heatmap", headers=bearer(keys["manager"])).json()
    sign_in(page, keys["manager"], "/app/dashboard")  # a manager starts the day here
    page.wait_for_selector("#nav a[data-nav=dashboard]:not([hidden])")
    assert page.locator("#nav a[data-nav=drill]").is_hidden()  # a manager reads drills, does not take them
    # the first visit warms the service (deal features, the evidence index: many seconds); the budget is
    # for a visit after that, as a manager's day has it
    page.wait_for_selector("#fake-list, #fake .alert", state="attached", timeout=180_000)

    started = time.perf_counter()
    page.goto("/app/dashboard")
    for ready in ("#heatmap svg rect.cell", "#deal-table tr[data-deal-id]", "#alerts table, #alerts p",
                  "#recommendations li, #recommendations p"):
        page.wait_for_selector(ready)
    page.wait_for_function("n => document.querySelectorAll('#radars svg').length === n", arg=len(view["reps"]))
    seconds = time.perf_counter() - started
    print(f"\ndashboard (heatmap, radars, deals, alerts): {seconds:.2f} s")  # a figure, not a bound (rule 6)

    dimensions = len(settings.capability_dimensions)
    assert dimensions == 12 and page.locator("#heatmap rect.cell").count() == len(view["reps"]) * dimensions
    assert page.locator("#heatmap rect.cell.flagged").count() == len(view["flagged"])
    for flag in view["flagged"]:
        cell = page.locator(f"#heatmap rect.cell[data-rep='{flag['rep']}'][data-dimension='{flag['dimension']}']")
        assert flag["reason"] in cell.locator("title").text_content()
    assert page.locator("#radars svg polygon.rep-area").count() == len(view["reps"])
    assert labels_outside_their_chart(page) == []
    ranked = [float(p.inner_text().rstrip("%")) for p in page.locator("#deal-table td:nth-child(2) b").all()]
    assert ranked == sorted(ranked, reverse=True) and ranked  # deals ranked by win probability
    manager = bearer(keys["manager"])
    open_deals = httpx.get(f"{web.url}/v1/deals", headers=manager, params={"status": "open", "limit": 500}).json()
    shown = page.locator("#deal-table tr[data-deal-id]").evaluate_all("rows => rows.map((r) => r.dataset.dealId)")
    assert sorted(shown) == sorted(d["deal_id"] for d in open_deals["deals"])  # the team's open deals, all

    page.wait_for_selector("#funnel .bar-row")
    funnel = httpx.get(f"{web.url}/v1/crm/funnel", headers=manager).json()
    reached = [int(b.inner_text()) for b in page.locator("#funnel .bar-row b").all()]
    assert reached == [row["reached"] for row in funnel["stages"]] and reached[0] > 0  # the API's funnel
    assert page.locator("#funnel .bar-row").first.get_attribute("data-stage") == settings.stages[0].key
    page.wait_for_selector("#fake-list, #fake .alert", state="attached", timeout=60_000)  # the lazy part
    screenshots(page, "dashboard")
    page.set_viewport_size(PHONE)
    assert labels_outside_their_chart(page) == []
    assert page_overflow_px(page) == 0  # the wide deal table scrolls inside its card on a phone
    page.set_viewport_size(DESKTOP)


def page_overflow_px(page) -> int:
    """How far the page is wider than the viewport (a sideways-scrolling page on a phone)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def labels_outside_their_chart(page) -> list[str]:
    """The chart labels (heatmap columns and rows, radar axes) whose box sticks out of their SVG, so
    would be clipped; screen boxes, so a slanted label counts with its slant."""
    return page.locator("#heatmap svg, #radars svg").evaluate_all("""svgs => svgs.flatMap((svg) => {
        const frame = svg.getBoundingClientRect();
        return [...svg.querySelectorAll("text")].filter((text) => {
          const box = text.getBoundingClientRect();
          return box.left < frame.left - 1 || box.top < frame.top - 1 || box.right > frame.right + 1
            || box.bottom > frame.bottom + 1;
        }).map((text) => text.textContent);
    })""")


def test_the_dashboard_refuses_a_rep(page, keys):
    page.console.expect(r"status of 403")
    sign_in(page, keys["rep"], "/app/drill")
    assert page.locator("#nav a[data-nav=dashboard]").is_hidden()
    page.goto("/app/dashboard")
    alert = page.wait_for_selector(".alert[data-status='403']")
    assert "Not allowed for your role" in alert.inner_text()
    assert page.locator("#heatmap svg, #deal-table, #radars svg").count() == 0
