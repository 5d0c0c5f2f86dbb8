"""``/v1/mentoring`` on the served world: a senior rep's session from start to earned points, who may do
each step (the mentor annotates, the mentee's manager reviews, another team's manager may not), what each
role reads, and a reversal; the CLI's ledger and CSV export over the same catalog."""

from __future__ import annotations

import csv
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from talktrack.core.catalog.schema import Call, Rep, Team
from talktrack.core.clock import utcnow
from talktrack.pipelines.management.mentoring import month_of
from talktrack.serving.keys import create_key
from tests.serving_support import assert_error, bearer

MONTH = month_of(utcnow())
pytestmark = pytest.mark.timeout(1800)  # the first test may build the shared served world (10+ min at load 20)


@pytest.fixture(scope="module")
def people(world_workspace):
    """A senior rep with calls, a teammate to mentor, a junior teammate, and keys for them, the team's
    manager, another team's manager and a director."""
    settings, _, catalog = world_workspace
    need = settings.management.mentoring.senior.min_tenure_months
    today = utcnow().date()
    with catalog.session() as s:
        rows = s.execute(select(Rep.external_id, Rep.hired_at, Rep.role, Team.external_id)
                         .join(Team, Team.id == Rep.team_id).order_by(Rep.external_id)).all()
        with_calls = set(s.scalars(select(Rep.external_id).join(Call, Call.rep_id == Rep.id)))
        senior_day = today - timedelta(days=31 * need + 31)
        mentor, team = next((r, t) for r, hired, role, t in rows
                            if role == "rep" and hired and hired <= senior_day and r in with_calls)
        mentee = next(r for r, _, role, t in rows if t == team and r != mentor and role == "rep")
        junior = next((r for r, hired, role, t in rows if t == team and role == "rep" and hired
                       and hired > today - timedelta(days=28 * need)), None)
        other_team = next(t for *_, t in rows if t != team)
        call = s.scalar(select(Call.external_id).join(Rep, Rep.id == Call.rep_id)
                        .where(Rep.external_id == mentor, Call.duration_s > 30).order_by(Call.id).limit(1))
    key = lambda role, **scope: create_key(catalog, role, name=f"mentoring-{role}", **scope)[0]  # noqa: E731
    return {"mentor": mentor, "mentee": mentee, "junior": junior, "team": team, "call": call,
            "mentor_key": key("rep", rep=mentor), "mentee_key": key("rep", rep=mentee),
            "junior_key": key("rep", rep=junior) if junior else None, "manager_key": key("manager", team=team),
            "other_manager_key": key("manager", team=other_team), "director_key": key("director")}


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def start(http, people, key="mentor_key") -> httpx.Response:
    return http.post("/v1/mentoring/sessions", headers=bearer(people[key]),
                     json={"call_id": people["call"], "mentee_id": people["mentee"]})


def test_a_session_earns_points_only_once_the_mentees_manager_confirms_it(http, people, world_workspace):
    settings = world_workspace[0]
    rules = settings.management.mentoring
    made = start(http, people)
    assert made.status_code == 201, made.text
    session = made.json()
    assert (session["status"], session["mentor"]["rep_id"], session["mentee"]["rep_id"]) == (
        "open", people["mentor"], people["mentee"])
    path = f"/v1/mentoring/sessions/{session['id']}"

    # only the mentor annotates; the manager cannot confirm before the session is submitted
    assert_error(http.post(f"{path}/annotations", headers=bearer(people["mentee_key"]),
                           json={"at_s": 1.0, "note": "mine"}), 403)
    assert_error(http.post(f"{path}/submit", headers=bearer(people["mentor_key"])), 409)
    for at_s in range(rules.min_annotations):
        added = http.post(f"{path}/annotations", headers=bearer(people["mentor_key"]),
                          json={"at_s": 2.0 + 5 * at_s, "note": f"听这里：客户在第 {at_s + 1} 处提到预算"})
        assert added.status_code == 201, added.text
    assert_error(http.post(f"{path}/annotations", headers=bearer(people["mentor_key"]),
                           json={"at_s": 10_000.0, "note": "after the call ended"}), 422)
    assert_error(http.post(f"{path}/review", headers=bearer(people["manager_key"]), json={"decision": "confirm"}), 409)
    submitted = http.post(f"{path}/submit", headers=bearer(people["mentor_key"]))
    assert submitted.json()["status"] == "submitted", submitted.text

    # another team's manager may not review; the mentee's manager may not reject without a note
    assert_error(http.post(f"{path}/review", headers=bearer(people["other_manager_key"]),
                           json={"decision": "confirm"}), 403)
    assert_error(http.post(f"{path}/review", headers=bearer(people["manager_key"]), json={"decision": "reject"}), 422)
    assert http.get("/v1/mentoring/sessions?status=submitted", headers=bearer(people["manager_key"])).json()[
        "sessions"][0]["id"] == session["id"]
    confirmed = http.post(f"{path}/review", headers=bearer(people["manager_key"]), json={"decision": "confirm"})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["points"] == min(rules.points_per_session, rules.monthly_cap)

    trail = http.get(path, headers=bearer(people["director_key"])).json()["events"]
    assert [e["action"] for e in trail] == (["created"] + ["annotated"] * rules.min_annotations
                                            + ["submitted", "confirmed", "earned"])
    assert trail[-1]["actor"] == "manager:mentoring-manager"

    ledger = http.get(f"/v1/mentoring/ledger?month={MONTH}", headers=bearer(people["mentor_key"])).json()
    assert {e["rep_id"] for e in ledger["entries"]} == {people["mentor"]}
    entry = next(e for e in ledger["entries"] if e["session_id"] == session["id"])
    assert_error(http.post(f"/v1/mentoring/ledger/{entry['id']}/reverse", headers=bearer(people["other_manager_key"]),
                           json={"note": "not mine to undo"}), 403)
    reversed_ = http.post(f"/v1/mentoring/ledger/{entry['id']}/reverse", headers=bearer(people["manager_key"]),
                          json={"note": "the mentee was on leave that day"})
    assert reversed_.status_code == 201 and reversed_.json()["points"] == -entry["points"], reversed_.text
    assert_error(http.post(f"/v1/mentoring/ledger/{entry['id']}/reverse", headers=bearer(people["manager_key"]),
                           json={"note": "twice"}), 409)


def test_each_role_reads_only_the_sessions_and_ledger_in_its_reach(http, people):
    made = start(http, people).json()
    path = f"/v1/mentoring/sessions/{made['id']}"
    for key in ("mentor_key", "mentee_key", "manager_key", "director_key"):
        assert http.get(path, headers=bearer(people[key])).status_code == 200, key
    assert_error(http.get(path, headers=bearer(people["other_manager_key"])), 403)
    if people["junior_key"]:
        assert_error(http.get(path, headers=bearer(people["junior_key"])), 403)
        # a junior rep may not mentor
        refused = http.post("/v1/mentoring/sessions", headers=bearer(people["junior_key"]),
                            json={"call_id": people["call"], "mentee_id": people["mentee"]})
        assert refused.status_code in (403, 422), refused.text
    assert_error(http.post("/v1/mentoring/sessions", headers=bearer(people["mentor_key"]),
                           json={"call_id": people["call"], "mentee_id": people["mentor"]}), 422)
    mine = http.get("/v1/mentoring/sessions", headers=bearer(people["mentee_key"])).json()["sessions"]
    assert mine and all(people["mentee"] in (s["mentor"]["rep_id"], s["mentee"]["rep_id"]) for s in mine)
    assert_error(http.get(f"/v1/mentoring/ledger?rep={people['mentor']}", headers=bearer(people["mentee_key"])), 403)
    assert_error(http.get(f"/v1/mentoring/ledger?team={people['team']}", headers=bearer(people["other_manager_key"])),
                 403)
    everything = http.get("/v1/mentoring/ledger", headers=bearer(people["director_key"]))
    assert everything.status_code == 200


def test_the_cli_prints_the_ledger_and_writes_the_hr_csv(world_workspace, people, tmp_path):
    from talktrack.cli.main import app

    _, workspace, _ = world_workspace
    out = tmp_path / "hr.csv"
    base = ["-w", str(workspace.root), "mentoring"]
    result = CliRunner().invoke(app, [*base, "export", "--month", MONTH, "--csv", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert people["mentor"] in {r["rep_id"] for r in rows}
    result = CliRunner().invoke(app, [*base, "ledger", "--month", MONTH, "--team", people["team"]],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0 and people["mentor"] in result.output, result.output
