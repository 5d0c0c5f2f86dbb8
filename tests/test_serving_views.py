"""The management views of the service against a real uvicorn server over the served world:
capability radar and heatmap, SOP checks and key questions, evidence verification, CRM stage
events and stage-timer alerts.

Expectations come from the world's own rows (estimates, evidence texts, stage events), so the
tests hold for whatever the generator made. Rows written here (stage events) go on a deal picked
at test time from the catalog's current state, so test order does not matter.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from talktrack.core.catalog.schema import Call, Customer, Deal, EvidenceDocument, Rep, StageEvent, Team
from tests.serving_support import LiveServer, assert_error, bearer

pytestmark = pytest.mark.timeout(300)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=120) as http:
        yield http


def _png_size(content: bytes) -> tuple[int, int]:
    from PIL import Image

    assert content.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(content)) as image:
        image.load()
        return image.size


# -- capability ------------------------------------------------------------------------------------
def test_a_reps_radar_has_twelve_dimensions_and_draws_as_png(client, keys, world_workspace):
    settings, _, _ = world_workspace
    own = client.get(f"/v1/capability/reps/{keys['rep_id']}/radar", headers=bearer(keys["rep"]))
    assert own.status_code == 200, own.text
    radar = own.json()
    assert radar["rep"] == keys["rep_id"] and radar["team"] == keys["team_id"]
    assert [d["dimension"] for d in radar["dimensions"]] == list(settings.capability_keys)
    assert all(1.0 <= d["estimate"] <= 5.0 and d["team_mean"] > 0 for d in radar["dimensions"])

    picture = client.get(f"/v1/capability/reps/{keys['rep_id']}/radar", params={"format": "png"},
                         headers=bearer(keys["rep"]))
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    width, height = _png_size(picture.content)
    assert width >= 300 and height >= 300


def test_a_rep_sees_only_own_radar_and_a_manager_only_their_team(client, keys):
    rep, other = keys["rep_id"], keys["other_rep_id"]
    assert_error(client.get(f"/v1/capability/reps/{other}/radar", headers=bearer(keys["rep"])), 403)
    assert_error(client.get(f"/v1/capability/reps/{rep}/recommendations", headers=bearer(keys["other_rep"])), 403)
    assert_error(client.get(f"/v1/capability/teams/{keys['team_id']}/heatmap", headers=bearer(keys["rep"])), 403)
    assert client.get(f"/v1/capability/reps/{rep}/radar", headers=bearer(keys["manager"])).status_code == 200
    assert_error(client.get(f"/v1/capability/reps/{other}/radar", headers=bearer(keys["manager"])), 403)
    other_team = client.get(f"/v1/capability/reps/{other}/radar", headers=bearer(keys["coach"])).json()["team"]
    assert_error(client.get(f"/v1/capability/teams/{other_team}/heatmap", headers=bearer(keys["manager"])), 403)
    assert client.get(f"/v1/capability/teams/{other_team}/heatmap", headers=bearer(keys["ml"])).status_code == 200
    assert_error(client.get("/v1/capability/reps/REP-NOPE/radar", headers=bearer(keys["coach"])), 404)
    assert_error(client.get(f"/v1/capability/reps/{rep}/radar", params={"month": "2025-13"},
                            headers=bearer(keys["coach"])), 422)
    assert_error(client.get(f"/v1/capability/reps/{rep}/radar", params={"month": "1999-01"},
                            headers=bearer(keys["coach"])), 404)
    assert_error(client.get(f"/v1/capability/reps/{rep}/radar", headers=bearer(keys["crm"])), 403)


def _team_ids(world_workspace) -> list[str]:
    _, _, catalog = world_workspace
    with catalog.session() as session:
        return list(session.scalars(select(Team.external_id).order_by(Team.external_id)))


def test_heatmap_flags_agree_with_the_recommendations(client, keys, world_workspace):
    coach = bearer(keys["coach"])
    maps = {team: client.get(f"/v1/capability/teams/{team}/heatmap", headers=coach).json()
            for team in _team_ids(world_workspace)}
    team, heat = max(maps.items(), key=lambda item: sum(map(sum, item[1]["flags"])))
    flagged = {(heat["reps"][i], heat["dimensions"][j])
               for i, row in enumerate(heat["flags"]) for j, flag in enumerate(row) if flag}
    assert flagged, "the world has reps at least 30% below their team mean somewhere"
    for rep, dimension in flagged:
        gap = heat["gaps"][heat["reps"].index(rep)][heat["dimensions"].index(dimension)]
        reason = next(f["reason"] for f in heat["flagged"] if (f["rep"], f["dimension"]) == (rep, dimension))
        assert gap <= -0.3 or "months running" in reason

    items = client.get(f"/v1/capability/teams/{team}/recommendations", headers=coach).json()["recommendations"]
    assert {(item["rep"], item["dimension"]) for item in items} == flagged
    assert all(item["course"]["title"] and item["coach_session"] for item in items)
    assert all(item["rep"] not in item["top_sellers"] for item in items)
    some_rep = sorted(flagged)[0][0]
    mine = client.get(f"/v1/capability/reps/{some_rep}/recommendations", headers=coach).json()["recommendations"]
    assert {item["dimension"] for item in mine} == {d for r, d in flagged if r == some_rep}

    picture = client.get(f"/v1/capability/teams/{team}/heatmap", params={"format": "png"}, headers=coach)
    assert picture.headers["content-type"] == "image/png" and min(_png_size(picture.content)) > 100


# -- SOP and key questions ---------------------------------------------------------------------------
QUALIFICATION_CALL = """Rep: Thanks for making time today. Let me quickly run through the agenda for today.
Customer: Sure, go ahead.
Rep: Roughly how much have you set aside for this project this year?
Customer: We have around forty thousand in the budget.
Rep: That helps. Tell me about your warehouse team.
Customer: We have twelve people on two shifts."""


def test_sop_check_of_a_posted_transcript_names_covered_and_missing_steps(client, keys):
    rep = bearer(keys["rep"])
    checked = client.post("/v1/sop/check", json={"text": QUALIFICATION_CALL, "stage": "qualification"}, headers=rep)
    assert checked.status_code == 200, checked.text
    result = checked.json()
    covered = {s["step"] for s in result["steps"] if s["covered"]}
    missing = {s["step"] for s in result["steps"] if not s["covered"]}
    assert {"set_agenda", "budget"} <= covered
    assert {"timeline", "decision_maker", "confirm_next_step"} <= missing
    assert "budget" in result["covered_key_questions"] and "timeline" in result["missing_key_questions"]
    budget = next(s for s in result["steps"] if s["step"] == "budget")
    assert "set aside" in budget["match"]["snippet"]
    assert all(s["suggestion"]["text"] for s in result["steps"] if not s["covered"])

    as_turns = [{"role": "rep" if line.startswith("Rep") else "customer", "text": line.split(": ", 1)[1]}
                for line in QUALIFICATION_CALL.splitlines()]
    again = client.post("/v1/sop/check", json={"utterances": as_turns, "stage": "qualification"}, headers=rep)
    assert {s["step"] for s in again.json()["steps"] if s["covered"]} == covered


@pytest.mark.parametrize("body", [
    {"text": "Rep: hello"},
    {"text": "Rep: hello", "utterances": [{"role": "rep", "text": "hello"}], "stage": "lead"},
    {"text": "Rep: hello", "stage": "closing_dinner"},
    {"text": "Customer: we only talked", "stage": "lead"},
    {"text": "Rep: hello", "stage": "lead", "sop": ["no_such_sop"]},
    {"utterances": [{"role": "boss", "text": "hi"}], "stage": "lead"},
])
def test_a_bad_sop_request_is_a_422(client, keys, body):
    assert_error(client.post("/v1/sop/check", json=body, headers=bearer(keys["coach"])), 422)


def _deal_with_calls(catalog, team_condition, rep: str | None = None) -> str:
    query = (select(Deal.external_id).join(Rep, Deal.rep_id == Rep.id).join(Team, Rep.team_id == Team.id)
             .join(Call, Call.deal_id == Deal.id).where(team_condition, Call.stage.is_not(None))
             .order_by(Deal.external_id).limit(1))
    if rep is not None:
        query = query.where(Rep.external_id == rep)
    with catalog.session() as session:
        return session.scalars(query).one()


def test_key_questions_of_a_deal_cover_each_stage_it_had_calls_in(client, keys, world_workspace):
    settings, _, catalog = world_workspace
    deal = _deal_with_calls(catalog, Team.external_id == keys["team_id"], rep=keys["rep_id"])
    answer = client.get(f"/v1/deals/{deal}/key-questions", headers=bearer(keys["rep"]))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    with catalog.session() as session:
        stages = set(session.scalars(select(Call.stage).join(Deal, Call.deal_id == Deal.id)
                                     .where(Deal.external_id == deal, Call.stage.is_not(None))))
    assert {s["stage"] for s in report["stages"]} == stages
    questions = {s.key: s.key_questions for s in settings.stages}
    for stage in report["stages"]:
        assert sorted(stage["covered"] + stage["never_covered"]) == sorted(questions[stage["stage"]])
        for row in stage["key_questions"]:
            assert row["call_id"] in report["calls"] if row["covered"] else "suggestion" in row
    assert report["never_covered"] == [{"stage": s["stage"], "key_question": q}
                                       for s in report["stages"] for q in s["never_covered"]]
    other = _deal_with_calls(catalog, Team.external_id != keys["team_id"])
    assert_error(client.get(f"/v1/deals/{other}/key-questions", headers=bearer(keys["rep"])), 403)
    assert_error(client.get(f"/v1/deals/{other}/key-questions", headers=bearer(keys["manager"])), 403)
    assert_error(client.get("/v1/deals/DEAL-NOPE/key-questions", headers=bearer(keys["coach"])), 404)


# -- evidence ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def notes(world_workspace, semantic_truth):
    """A genuine note of the world (its deal, id and text) and the same note copied onto another
    customer's deal with the customer's name swapped."""
    _, _, catalog = world_workspace
    source = next(eid for eid, t in sorted(semantic_truth["evidence"].items())
                  if t["authenticity"] == "authentic" and t["kind"] == "meeting_notes")
    source_deal = semantic_truth["evidence"][source]["deal_id"]
    with catalog.session() as session:
        text = session.scalar(select(EvidenceDocument.text).where(EvidenceDocument.external_id == source))
        names = dict(session.execute(select(Deal.external_id, Customer.name).join(Customer)).all())
    target = next(d for d, name in sorted(names.items())
                  if name != names[source_deal] and semantic_truth["deals"][d]["calls"])
    return {"id": source, "deal": source_deal, "text": text, "copy_deal": target,
            "copy": text.replace(names[source_deal], names[target])}


def test_a_copied_note_is_flagged_and_the_genuine_one_is_not(client, keys, notes):
    crm = bearer(keys["crm"])
    genuine = client.post("/v1/evidence/verify", json={"deal_id": notes["deal"], "text": notes["text"],
                                                       "evidence_id": notes["id"]}, headers=crm)
    assert genuine.status_code == 200, genuine.text
    assert genuine.json()["verdict"] == "authentic"
    assert any(r["code"] == "specific_facts" for r in genuine.json()["reasons"])

    copied = client.post("/v1/evidence/verify", json={"deal_id": notes["copy_deal"], "text": notes["copy"]},
                         headers=crm).json()
    assert copied["verdict"] in ("fabricated", "suspicious") and copied["copy_of"] == notes["id"]
    assert next(r for r in copied["reasons"] if r["code"] == "near_copy")["passages"][0]["ref"] == notes["id"]

    assert_error(client.post("/v1/evidence/verify", json={"deal_id": notes["deal"], "text": "x", "kind": "gossip"},
                             headers=crm), 422)
    assert_error(client.post("/v1/evidence/verify", json={"deal_id": "DEAL-NOPE", "text": "x"}, headers=crm), 404)


def test_an_uploaded_txt_is_verified_and_an_exe_is_refused(client, keys, notes):
    crm = bearer(keys["crm"])
    upload = client.post("/v1/evidence/verify-file", data={"deal_id": notes["copy_deal"]},
                         files={"file": ("notes.txt", notes["copy"].encode("utf-8"), "text/plain")}, headers=crm)
    assert upload.status_code == 200, upload.text
    assert upload.json()["copy_of"] == notes["id"] and upload.json()["verdict"] != "authentic"
    refused = client.post("/v1/evidence/verify-file", data={"deal_id": notes["deal"]},
                          files={"file": ("notes.exe", b"MZ\x90\x00", "application/octet-stream")}, headers=crm)
    assert ".exe" in assert_error(refused, 415)["message"]
    empty = client.post("/v1/evidence/verify-file", data={"deal_id": notes["deal"]},
                        files={"file": ("notes.txt", b"", "text/plain")}, headers=crm)
    assert "empty" in assert_error(empty, 422)["message"]


def test_an_upload_over_the_limit_is_a_413(world_workspace, keys, tmp_path):
    """A document has its own limit (serving.max_document_mb), far below the audio uploads' one."""
    from talktrack.serving.app import create_app

    settings, _, _ = world_workspace
    small = settings.model_copy(update={"serving": settings.serving.model_copy(update={"max_document_mb": 0.01})})
    with LiveServer(create_app(small)) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        response = http.post("/v1/evidence/verify-file", data={"deal_id": "DEAL-00001"},
                             files={"file": ("big.txt", b"budget " * 3000, "text/plain")},
                             headers=bearer(keys["crm"]))
    assert "max_document_mb" in assert_error(response, 413)["message"]


def test_a_deal_evidence_report_lists_each_document(client, keys, notes, world_workspace):
    _, _, catalog = world_workspace
    with catalog.session() as session:
        documents = set(session.scalars(select(EvidenceDocument.external_id).join(Deal)
                                        .where(Deal.external_id == notes["deal"])))
    report = client.get(f"/v1/deals/{notes['deal']}/evidence", headers=bearer(keys["coach"])).json()
    assert {item["evidence_id"] for item in report["items"]} == documents
    assert sum(report["counts"].values()) == len(documents)
    assert next(i for i in report["items"] if i["evidence_id"] == notes["id"])["verdict"] == "authentic"


def test_evidence_imported_while_serving_is_checked_without_a_restart(client, keys, notes, world_workspace):
    """The verifier is kept between requests; a document the CRM imports afterwards is still seen."""
    _, _, catalog = world_workspace
    coach = bearer(keys["coach"])
    before = client.get(f"/v1/deals/{notes['copy_deal']}/evidence", headers=coach).json()
    with catalog.session() as session:
        deal_pk = session.scalar(select(Deal.id).where(Deal.external_id == notes["copy_deal"]))
        session.add(EvidenceDocument(external_id="EV-IMPORTED-LATE", deal_id=deal_pk, kind="meeting_notes",
                                     submitted_at=datetime(2025, 12, 30, 10, 0), text=notes["copy"]))
    try:
        after = client.get(f"/v1/deals/{notes['copy_deal']}/evidence", headers=coach).json()
    finally:
        with catalog.session() as session:
            session.delete(session.scalar(select(EvidenceDocument).where(EvidenceDocument.external_id
                                                                         == "EV-IMPORTED-LATE")))
    late = next(item for item in after["items"] if item["evidence_id"] == "EV-IMPORTED-LATE")
    assert late["copy_of"] == notes["id"] and late["verdict"] != "authentic"
    assert len(after["items"]) == len(before["items"]) + 1
    gone = client.get(f"/v1/deals/{notes['copy_deal']}/evidence", headers=coach).json()
    assert {item["evidence_id"] for item in gone["items"]} == {item["evidence_id"] for item in before["items"]}


# -- CRM stage events and alerts ---------------------------------------------------------------------
def _latest_open_deal(catalog) -> tuple[str, str, datetime]:
    """An open deal (the last by id) with its current stage and when it was entered."""
    with catalog.session() as session:
        deal_pk, deal_id = session.execute(select(Deal.id, Deal.external_id).where(Deal.status == "open")
                                           .order_by(Deal.id.desc()).limit(1)).one()
        stage, entered = session.execute(select(StageEvent.stage, StageEvent.entered_at)
                                         .where(StageEvent.deal_id == deal_pk)
                                         .order_by(StageEvent.entered_at.desc()).limit(1)).one()
    return deal_id, stage, entered


def test_posting_a_stage_moves_the_deal_and_shows_in_its_history(client, keys, world_workspace):
    settings, _, catalog = world_workspace
    deal, stage, entered = _latest_open_deal(catalog)
    keys_in_order = list(settings.stage_keys)
    new_stage = keys_in_order[(keys_in_order.index(stage) + 1) % (len(keys_in_order) - 1)]
    when = (entered + timedelta(days=2)).isoformat()
    crm = bearer(keys["crm"])
    posted = client.post(f"/v1/crm/deals/{deal}/stage-events", json={"stage": new_stage, "entered_at": when},
                         headers=crm)
    assert posted.status_code == 200, posted.text
    history = posted.json()
    assert history["created"] and history["stage"] == new_stage
    assert history["history"][-2]["stage"] == stage and history["history"][-2]["days"] == 2.0
    assert history["history"][-1] | {"days": None, "over_threshold": None, "days_over": None} == {
        "stage": new_stage, "entered_at": when, "left_at": None, "days": None,
        "threshold_days": dict((s.key, s.threshold_days) for s in settings.stages)[new_stage],
        "over_threshold": None, "days_over": None}
    with catalog.session() as session:
        assert session.scalar(select(Deal.stage).where(Deal.external_id == deal)) == new_stage

    again = client.post(f"/v1/crm/deals/{deal}/stage-events", json={"stage": new_stage, "entered_at": when},
                        headers=crm).json()
    assert not again["created"] and len(again["history"]) == len(history["history"])
    earlier = (entered + timedelta(days=1)).isoformat()
    assert_error(client.post(f"/v1/crm/deals/{deal}/stage-events", json={"stage": stage, "entered_at": earlier},
                             headers=crm), 409)
    assert_error(client.post(f"/v1/crm/deals/{deal}/stage-events", json={"stage": "celebration"}, headers=crm), 422)
    assert_error(client.post(f"/v1/crm/deals/{deal}/stage-events", json={"stage": new_stage},
                             headers=bearer(keys["rep"])), 403)

    shown = client.get(f"/v1/crm/deals/{deal}/stages", params={"as_of": (entered + timedelta(days=5)).isoformat()},
                       headers=bearer(keys["coach"])).json()
    assert shown["current"]["stage"] == new_stage and shown["current"]["days_in_stage"] == 3.0
    stays = [span["days"] for span in shown["history"] if span["stage"] == new_stage]
    assert shown["days_per_stage"][new_stage] == pytest.approx(sum(stays)) and stays[-1] == 3.0


def _expected_alerts(catalog, settings, as_of: datetime) -> tuple[dict[str, float], set[str]]:
    """deal -> days over its stage's threshold, from the rows: deals open at ``as_of`` whose last
    stage event by then is older than the stage's threshold."""
    limits = {s.key: s.threshold_days for s in settings.stages}
    with catalog.session() as session:
        deals = session.execute(select(Deal.id, Deal.external_id, Deal.status, Deal.closed_at)
                                .where(Deal.created_at <= as_of)).all()
        events = session.execute(select(StageEvent.deal_id, StageEvent.stage, StageEvent.entered_at)
                                 .where(StageEvent.entered_at <= as_of).order_by(StageEvent.entered_at)).all()
    last = {deal_pk: (stage, entered) for deal_pk, stage, entered in events}
    expected, within = {}, set()
    for pk, deal_id, status, closed_at in deals:
        if pk not in last or not (status == "open" or closed_at > as_of):
            continue
        stage, entered = last[pk]
        days = (as_of - entered).total_seconds() / 86400
        if days > limits[stage]:
            expected[deal_id] = days - limits[stage]
        else:
            within.add(deal_id)
    return expected, within


def test_alerts_list_deals_past_their_stage_threshold_as_of_a_date(client, keys, world_workspace):
    settings, _, catalog = world_workspace
    with catalog.session() as session:  # the median stage change: mid-world, deals in every state
        times = list(session.scalars(select(StageEvent.entered_at).order_by(StageEvent.entered_at)))
    as_of = times[len(times) // 2]
    expected, within = _expected_alerts(catalog, settings, as_of)
    assert expected and within, "the chosen date has deals both past and within their thresholds"

    answer = client.get("/v1/crm/alerts", params={"as_of": as_of.isoformat()}, headers=bearer(keys["crm"]))
    assert answer.status_code == 200, answer.text
    alerts = answer.json()["alerts"]
    assert {a["deal_id"] for a in alerts} == set(expected)
    assert not within & {a["deal_id"] for a in alerts}
    for alert in alerts:
        assert alert["days_over"] == pytest.approx(expected[alert["deal_id"]], abs=0.01)
        assert alert["days_in_stage"] > alert["threshold_days"] and alert["manager"] and alert["rep"]

    mine = client.get("/v1/crm/alerts", params={"as_of": as_of.isoformat()}, headers=bearer(keys["manager"]))
    assert {a["team"] for a in mine.json()["alerts"]} <= {keys["team_id"]}
    assert {a["deal_id"] for a in mine.json()["alerts"]} == {a["deal_id"] for a in alerts
                                                           if a["team"] == keys["team_id"]}
    other_team = next(t for t in _team_ids(world_workspace) if t != keys["team_id"])
    assert_error(client.get("/v1/crm/alerts", params={"team": other_team}, headers=bearer(keys["manager"])), 403)
    assert_error(client.get("/v1/crm/alerts", headers=bearer(keys["rep"])), 403)
    assert_error(client.get("/v1/crm/alerts", params={"as_of": "yesterday"}, headers=bearer(keys["coach"])), 422)
