"""Stage gates on a real SQLite catalog with real evidence files: watermarked proposal PDFs checked by the
evidence verifier, changes accepted verified or unverified or refused, imported history marked, the
manager's list, the CRM route on a live server (enforced and not). Graded on a world's truth by
``talktrack eval gates`` (see the figures in the README)."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import Deal, EvidenceDocument, StageEvent, StageGateCheck
from talktrack.core.config import StageGateSettings
from talktrack.core.workspace import Workspace
from talktrack.evaluation.quotes import seed_deals
from talktrack.pipelines.quotes import issue_quote
from talktrack.pipelines.semantic.evidence import open_verifier
from talktrack.pipelines.stage_gates import (
    GateRefused,
    check_recorded_events,
    gate_checks,
    record_gated_stage_event,
    stages_left,
    verifier_verdicts,
)
from tests.serving_support import assert_error, bearer
from tests.test_quotes import fpdf_proposal

T0 = datetime(2026, 3, 2, 9, 0)


def gated_settings(settings, enforce: bool = False):
    """Only solution presentation owes something here: a proposal (so a watermark decides)."""
    stages = [s.model_copy(update={"required_evidence": [["proposal", "quote"]] if s.key == "solution_presentation"
                                   else []}) for s in settings.stages]
    return settings.model_copy(update={"stages": stages, "stage_gates": StageGateSettings(enforce=enforce)})


@pytest.fixture
def world(tmp_path, settings):
    """Three deals in solution presentation since T0: D0 with its own stamped proposal, D1 with none,
    D2 with D0's proposal handed in as its own."""
    workspace = Workspace.at(tmp_path / "ws").ensure()
    catalog = open_catalog(workspace.catalog_url)
    deals = [d for d, _ in seed_deals(catalog, 4)]
    source = fpdf_proposal(tmp_path / "offer.pdf")
    issue_quote(catalog, deals[0], source, tmp_path / "d0.pdf")
    with catalog.session() as session:
        pks = {d: session.scalar(select(Deal.id).where(Deal.external_id == d)) for d in deals}
        for deal in deals[:3]:
            session.add_all([StageEvent(deal_id=pks[deal], stage="lead", entered_at=T0 - timedelta(days=20)),
                             StageEvent(deal_id=pks[deal], stage="solution_presentation", entered_at=T0)])
        for number, deal in ((0, deals[0]), (2, deals[2])):
            session.add(EvidenceDocument(external_id=f"EV-{number}", deal_id=pks[deal], kind="proposal",
                                         submitted_at=T0 + timedelta(days=1), path=str(tmp_path / "d0.pdf")))
    yield settings.model_copy(update={"workspace": workspace.root}), workspace, catalog, deals
    catalog.dispose()


def test_which_stages_a_change_leaves(settings):
    keys = lambda stages: [s.key for s in stages]  # noqa: E731
    assert keys(stages_left(settings, "qualification", "solution_presentation")) == ["qualification",
                                                                                    "needs_diagnosis"]
    assert stages_left(settings, "negotiation", "qualification") == []  # a move back owes nothing
    assert stages_left(settings, "negotiation", "negotiation", "lost") == []
    assert keys(stages_left(settings, "contract_delivery", "contract_delivery", "won")) == ["contract_delivery"]
    assert stages_left(settings, None, "lead") == []


def test_a_change_is_verified_unverified_or_refused_with_what_is_missing(world):
    settings, workspace, catalog, deals = world
    verdicts = verifier_verdicts(open_verifier(catalog, settings, workspace))
    when = T0 + timedelta(days=5)
    _, created, ok = record_gated_stage_event(catalog, gated_settings(settings), deals[0], "negotiation", when,
                                              verdicts=verdicts)
    assert created and ok.status == "verified" and ok.met[0]["evidence_id"] == "EV-0"
    with pytest.raises(GateRefused, match="leaves solution_presentation for negotiation without verified"):
        record_gated_stage_event(catalog, gated_settings(settings, enforce=True), deals[1], "negotiation",
                                 when - timedelta(days=1), verdicts=verdicts)
    _, _, none = record_gated_stage_event(catalog, gated_settings(settings), deals[1], "negotiation", when,
                                          verdicts=verdicts)
    assert none.status == "unverified" and none.missing[0].stage == "solution_presentation"
    assert "none submitted" in none.missing[0].reason and "proposal or quote" in none.message()
    _, _, copied = record_gated_stage_event(catalog, gated_settings(settings), deals[2], "negotiation", when,
                                            verdicts=verdicts)
    assert copied.status == "unverified" and "EV-2 (proposal) fabricated" in copied.missing[0].reason

    with catalog.session() as session:
        statuses = dict(session.execute(select(StageGateCheck.entered_at, StageGateCheck.status)
                                        .where(StageGateCheck.deal_id == session.scalar(
                                            select(Deal.id).where(Deal.external_id == deals[1])))).all())
        recorded = session.scalars(select(StageEvent.entered_at).join(Deal).where(Deal.external_id == deals[1])).all()
    assert statuses == {when - timedelta(days=1): "refused", when: "unverified"}
    assert when - timedelta(days=1) not in recorded  # the refused change was not written
    # a retry of a change recorded before is not refused by a gate enforced since
    _, again, _ = record_gated_stage_event(catalog, gated_settings(settings, enforce=True), deals[1], "negotiation",
                                           when, verdicts=verdicts)
    assert not again

    assert gate_checks(catalog, status="refused")[0] == 1
    total, listed = gate_checks(catalog)
    assert total == 2 and {c["deal_id"] for c in listed} == {deals[1], deals[2]}
    assert listed[0]["missing"][0]["evidence_kinds"] == ["proposal", "quote"] and listed[0]["rep"] == "EVAL-REP"


def test_imported_history_gets_the_same_check(world):
    settings, workspace, catalog, deals = world
    with catalog.session() as session:  # as the CRM import writes them: rows, no check
        for deal in deals[:3]:
            pk = session.scalar(select(Deal.id).where(Deal.external_id == deal))
            session.add(StageEvent(deal_id=pk, stage="negotiation", entered_at=T0 + timedelta(days=3)))
    verdicts = verifier_verdicts(open_verifier(catalog, settings, workspace))
    results = check_recorded_events(catalog, gated_settings(settings), verdicts)
    gated = {r.deal_id: r.status for r in results if r.to_stage == "negotiation"}
    assert gated == {deals[0]: "verified", deals[1]: "unverified", deals[2]: "unverified"}
    assert len(results) == 9  # every change of the three deals, first stages included (they owe nothing)
    again = check_recorded_events(catalog, gated_settings(settings), verdicts)
    assert {r.deal_id for r in again} == {deals[1], deals[2]}  # only the unverified ones are looked at again
    with catalog.session() as session:
        assert set(session.scalars(select(StageGateCheck.source)).all()) == {"import"}


def test_the_crm_route_answers_with_the_gate_and_409_when_enforced(world):
    from talktrack.serving.app import create_app
    from talktrack.serving.keys import create_key
    from tests.serving_support import LiveServer

    settings, _, catalog, deals = world
    crm = bearer(create_key(catalog, "crm", name="crm-tester")[0])
    manager = bearer(create_key(catalog, "manager", team="EVAL-TEAM", name="manager-tester")[0])
    when = (T0 + timedelta(days=5)).isoformat()
    with LiveServer(create_app(gated_settings(settings))) as live, httpx.Client(base_url=live.url, timeout=120) as http:
        posted = http.post(f"/v1/crm/deals/{deals[1]}/stage-events", json={"stage": "negotiation", "entered_at": when},
                           headers=crm)
        assert posted.status_code == 200, posted.text
        assert posted.json()["created"] and posted.json()["gate"]["status"] == "unverified"
        listed = http.get("/v1/crm/stage-gates", headers=manager).json()
        assert listed["total"] == 1 and listed["checks"][0]["deal_id"] == deals[1] and not listed["enforce"]
        assert_error(http.get("/v1/crm/stage-gates", params={"team": "OTHER"}, headers=manager), 403)
    with LiveServer(create_app(gated_settings(settings, enforce=True))) as live, \
            httpx.Client(base_url=live.url, timeout=120) as http:
        refused = assert_error(http.post(f"/v1/crm/deals/{deals[2]}/stage-events",
                                         json={"stage": "negotiation", "entered_at": when}, headers=crm), 409)
        assert refused["code"] == "stage_gate" and "proposal or quote" in refused["message"]
        accepted = http.post(f"/v1/crm/deals/{deals[0]}/stage-events",
                             json={"stage": "negotiation", "entered_at": when}, headers=crm).json()
        assert accepted["gate"]["status"] == "verified" and accepted["stage"] == "negotiation"


def test_a_required_kind_must_be_an_evidence_kind(settings):
    from talktrack.core.config import Settings

    data = settings.model_dump(by_alias=True)
    data["stages"][1]["required_evidence"] = [["call_summary", "voice_memo"]]
    with pytest.raises(ValueError, match=r"stage 'qualification' requires evidence kinds \['voice_memo'\]"):
        Settings.model_validate(data)
    assert settings.stage("qualification").required_groups() == [("call_summary", "meeting_notes")]


# Measured with `talktrack eval gates` on the test world (seed 5): configured requirements 552/552 caught
# (16/16 with fake documents), 0/81 false refusals; world kinds 236/236 (58/58), 0/397. Unseen world
# seed 11: 826/826 (21/21), 0/131; 348/348 (87/87), 0/609. The bounds are the issue's targets, which
# the measurement clears with room: a verifier change that costs recall or refuses real evidence fails.
@pytest.mark.slow
def test_gates_on_the_worlds_truth(semantic_world, settings, tmp_path):
    from talktrack.evaluation.stage_gates import evaluate_gates

    report = evaluate_gates(semantic_world, settings, tmp_path / "ws")
    for part in (report["configured"], report["world_requirements"]):
        assert part["recall"] >= 0.95 and part["recall_fake_evidence"] >= 0.95, part
        assert part["false_refusal_rate"] <= 0.03, part
    assert report["world_requirements"]["lacking_fake"] >= 40 and report["world_requirements"]["backed"] >= 300
