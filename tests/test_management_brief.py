"""The manager's daily brief on a generated world imported into a real SQLite catalog: the checks
against the world's planted truth (brief_truth.json), the surprise answers clustered by the bundled
multilingual embedder, the Markdown export, the CLI, and the API through a real server (a manager sees
their team, a director every team, a rep answers the question but reads no brief)."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest
from typer.testing import CliRunner

from talktrack.core.catalog import open_catalog
from talktrack.core.workspace import Workspace
from talktrack.evaluation.management_brief import evaluate_brief, evaluate_real_surprises
from talktrack.evaluation.world import WorldSpec, generate_world
from talktrack.pipelines.crm_import import import_directory
from talktrack.pipelines.management import brief as daily
from talktrack.pipelines.management import surprises
from talktrack.pipelines.management.brief_export import brief_markdown
from talktrack.pipelines.semantic.moments import moment_embedder
from tests.serving_support import assert_error, bearer

AS_OF = date(2026, 12, 7)
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("brief-world")
    generate_world(WorldSpec(seed=21, reps=12, customers=40, deals=60, calls=10, audio=0, as_of=AS_OF), out)
    return out, json.loads((out / "brief_truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def imported(tmp_path_factory, world, settings):
    root = tmp_path_factory.mktemp("brief-ws")
    settings = settings.model_copy(update={"workspace": root})
    catalog = open_catalog(Workspace.at(root).ensure().catalog_url)
    import_directory(catalog, settings, world[0])
    yield settings, catalog
    catalog.dispose()


@pytest.fixture(scope="module")
def graded(world, imported):
    """The world's answers posted and every team's brief graded (also leaves the answers in the catalog)."""
    settings, catalog = imported
    return evaluate_brief(world[0], catalog, settings, moment_embedder(settings, None))


def test_the_checks_agree_with_the_planted_truth(world, graded):
    assert graded["lead_pool"]["exact"], graded["lead_pool"]
    assert graded["breakpoints"]["exact"] and graded["breakpoints"]["deals"] > 0, graded["breakpoints"]
    # measured: this world 1 of 2 planted topics found, no false signal; four 30-rep worlds (seeds 11, 31, 41, 51)
    # 12 of 20 found, 12 of 13 signals right
    found = graded["surprises"]
    assert found["planted"] >= 2 and found["recall"] >= 0.5 and found["precision"] >= 0.5, found


def test_a_brief_flags_what_breaks_its_limits(world, imported, graded):
    settings, catalog = imported
    team = sorted(world[1]["lead_pool"])[0]
    expected = world[1]["lead_pool"][team]
    brief = daily.daily_brief(catalog, settings, team=team, as_of=AS_OF, estimates=None,
                              embedder=moment_embedder(settings, None))
    pool = brief["lead_pool"]
    assert (pool["pool"], pool["new"], pool["invalid"]) == (expected["pool"], expected["new"], expected["invalid"])
    assert pool["new_ok"] == (expected["new"] / expected["pool"] >= 0.35)
    assert brief["checks"]["breakpoints"] == (not world[1]["breakpoints"][team])
    assert brief["capability"]["available"] is False and brief["checks"]["capability"] is None
    strict = settings.model_copy(update={"management": settings.management.model_copy(update={
        "brief": settings.management.brief.model_copy(update={"min_new_share": 0.0, "max_invalid_share": 1.0})})})
    relaxed = daily.lead_pool(catalog, strict, team, AS_OF)
    assert relaxed["new_ok"] and relaxed["invalid_ok"]
    text = brief_markdown(brief)
    assert text.startswith("# Daily brief: ") and "Lead pool" in text and "Stages over their timers" in text
    assert "which customer surprised you today" in text.lower()


def test_capability_shortfalls_are_two_months_below_the_team_mean(imported):
    import pandas as pd

    settings, catalog = imported
    reps = [r for r in daily.coaching.team_reps(catalog, "TEAM-01")][:3]
    rows = []
    for month, low in (("2026-10", 1.0), ("2026-11", 1.0), ("2026-12", 2.0)):
        for i, rep in enumerate(reps):
            for dim in settings.capability_keys:
                value = 3.0 if i else (low if dim == "questioning" else 3.0)
                rows.append({"rep": rep, "period": month, "dimension": dim, "estimate": value})
    frame = pd.DataFrame(rows)
    found = daily.capability_shortfalls(catalog, settings, frame, "TEAM-01", AS_OF)
    assert [(s["rep"], s["dimension"]) for s in found["shortfalls"]] == [(reps[0], "questioning")]
    early = daily.capability_shortfalls(catalog, settings, frame[frame["period"] < "2026-11"], "TEAM-01", AS_OF)
    assert early["shortfalls"] == []   # one month below is not two months running


def test_an_answer_is_checked_before_it_is_kept(imported):
    settings, catalog = imported
    for kwargs, message in (({"rep": "REP-001", "text": "  "}, "empty"), ({"rep": "REP-999", "text": "x"}, "unknown rep"),
                            ({"rep": "REP-001", "text": "x", "channel": "fax"}, "channel"),
                            ({"rep": "REP-001", "text": "x", "customer": "CUST-9999"}, "unknown customer")):
        with pytest.raises(surprises.AnswerError, match=message):
            surprises.record_answer(catalog, settings, actor="test", **kwargs)


def test_names_do_not_make_answers_alike():
    assert surprises.without_names(["Acme Ltd loved it", "博远公司说太贵"], ["Acme Ltd", "博远公司"]) == \
        ["the customer loved it", "客户说太贵"]


def test_real_answers_test_split(settings):
    """Hand-written answers (real_phrasing/surprise_answers.yaml), thresholds chosen on dev. Measured on
    test: 1 of 2 planted new topics found, precision 1.0 (dev: 3 of 3, precision 1.0)."""
    result = evaluate_real_surprises(settings, moment_embedder(settings, None), "test")
    print(result)
    assert result["planted"] == 2 and result["found"] >= 1 and result["precision"] == 1.0


def test_cli_prints_markdown_and_writes_one_file_per_team(world, imported, graded, tmp_path):
    from talktrack.cli.main import app

    settings, _ = imported
    runner = CliRunner()
    base = ["-w", str(settings.workspace), "management", "brief", "--as-of", AS_OF.isoformat()]
    shown = runner.invoke(app, [*base, "--team", "TEAM-01", "--markdown"])
    assert shown.exit_code == 0, shown.output
    assert "# Daily brief:" in shown.output and "(TEAM-01)" in shown.output
    written = runner.invoke(app, [*base, "--out", str(tmp_path)])
    assert written.exit_code == 0, written.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"BRIEF-{t}-{AS_OF}.md" for t in sorted(world[1]["lead_pool"])]
    unknown = runner.invoke(app, [*base, "--manager", "NOBODY"])
    assert unknown.exit_code != 0 and "NOBODY" in unknown.output


@pytest.fixture(scope="module")
def served(imported, graded):
    from talktrack.serving.app import create_app
    from talktrack.serving.keys import create_key
    from tests.serving_support import LiveServer

    settings, catalog = imported
    keys = {"director": create_key(catalog, "director", name="director")[0],
            "manager": create_key(catalog, "manager", team="TEAM-01", name="manager")[0],
            "rep": create_key(catalog, "rep", rep=_seller(catalog, "TEAM-01"), name="rep")[0]}
    with LiveServer(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=300) as http:
        yield http, keys


def _seller(catalog, team: str) -> str:
    from sqlalchemy import select

    from talktrack.core.catalog.schema import Rep, Team

    with catalog.session() as session:
        return session.scalar(select(Rep.external_id).join(Team, Team.id == Rep.team_id)
                              .where(Team.external_id == team, Rep.role == "rep").order_by(Rep.external_id))


def test_api_role_scoped_brief_and_answers(world, served, imported):
    http, keys = served
    day = {"as_of": AS_OF.isoformat()}
    own = http.get("/v1/management/brief", params=day, headers=bearer(keys["manager"]))
    assert own.status_code == 200, own.text
    assert [b["team"] for b in own.json()["briefs"]] == ["TEAM-01"]
    assert own.json()["briefs"][0]["lead_pool"]["pool"] == world[1]["lead_pool"]["TEAM-01"]["pool"]
    every = http.get("/v1/management/brief", params=day, headers=bearer(keys["director"])).json()
    assert sorted(b["team"] for b in every["briefs"]) == sorted(world[1]["lead_pool"])
    text = http.get("/v1/management/brief", params={**day, "format": "markdown"}, headers=bearer(keys["manager"]))
    assert text.headers["content-type"].startswith("text/markdown") and "(TEAM-01)" in text.text
    assert_error(http.get("/v1/management/brief", params={"team": "TEAM-02"}, headers=bearer(keys["manager"])), 403)
    assert_error(http.get("/v1/management/brief", headers=bearer(keys["rep"])), 403)
    assert_error(http.get("/v1/management/brief", params={"manager": "NOBODY"}, headers=bearer(keys["director"])), 404)

    answer = {"text": "A customer asked whether we can host everything on their own premises", "channel": "workbench",
              "answered_on": AS_OF.isoformat()}
    posted = http.post("/v1/management/brief/answers", json=answer, headers=bearer(keys["rep"]))
    assert posted.status_code == 201, posted.text
    assert posted.json()["channel"] == "workbench" and posted.json()["rep"]
    other = _seller(imported[1], "TEAM-02")
    assert_error(http.post("/v1/management/brief/answers", json={**answer, "rep_id": other},
                           headers=bearer(keys["manager"])), 403)
    assert_error(http.post("/v1/management/brief/answers", json={"channel": "api"}, headers=bearer(keys["rep"])), 422)
    assert_error(http.post("/v1/management/brief/answers", json={"voice_note_job_id": "JOB-NONE"},
                           headers=bearer(keys["rep"])), 422)
    after = http.get("/v1/management/brief", params=day, headers=bearer(keys["manager"])).json()["briefs"][0]
    assert after["surprises"]["answers"] == own.json()["briefs"][0]["surprises"]["answers"] + 1
