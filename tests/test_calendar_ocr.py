"""Calendar screenshots as "appointment booked" evidence, read by the real Tesseract engine.

The world draws the screenshots (Pillow, both languages, noise/blur/JPEG); OCR reads them; the date,
time and customer's name are matched against the deal's calls; a stage gate that requires a calendar
entry is met by a genuine screenshot and not by another customer's. Without the engine these tests
skip with the reason (``make test`` installs it through ``make system-deps``).
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import Call, Customer, Deal, EvidenceDocument, StageEvent
from talktrack.core.workspace import Workspace
from talktrack.evaluation.quotes import seed_deals
from talktrack.evaluation.world.calendar_shots import ShotFields, render_screenshot
from talktrack.evaluation.world.spec import child_rng
from talktrack.models import ocr
from talktrack.models.calendar_text import name_similarity, read_calendar
from talktrack.pipelines.semantic.evidence import open_verifier
from talktrack.pipelines.stage_gates import record_gated_stage_event, verifier_verdicts

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None,
    reason="the tesseract OCR engine is not installed (make system-deps installs tesseract-ocr with eng and chi_sim)")
T0 = datetime(2026, 3, 2, 9, 0)


@pytest.mark.parametrize("text, day, start", [
    ("Hannah Novak (Copperleaf Shipping\nMon 3 February 2025\n11:35 am to 11:50 am", date(2025, 2, 3), time(11, 35)),
    ("Leah Price\nTue, Feb 11, 2025\n17:40 - 17:55", date(2025, 2, 11), time(17, 40)),
    ("2025-02-06 (Thu)\n\n1:40 PM - 1:55 PM", date(2025, 2, 6), time(13, 40)),
    ("会议：苏州海川健康有限公司（朱伟）\n2025年1月16日 〈周四)\n下午4:05至16:20", date(2025, 1, 16), time(16, 5)),
    ("2025/2/17 用一\n下午1:35至13:50", date(2025, 2, 17), time(13, 35)),
    ("2025年3月\n3月4日 周二 上午9：40 - 上午10:10", date(2025, 3, 4), time(9, 40)),  # year in the header
    ("2025.02.06 1.40 PM", date(2025, 2, 6), time(13, 40)),  # a dotted date is not a time
])
def test_dates_and_times_are_read_in_both_languages_and_formats(text, day, start):
    reading = read_calendar(text)
    assert reading.dates[0] == day and reading.times[0] == start


def test_a_misread_letter_still_names_the_customer_but_another_customer_does_not():
    assert name_similarity("Copperleaf Academy", "Meeting - Copperleaf Academy") == 1.0
    assert 0.9 < name_similarity("Copperleaf Academy", "Meeting - Copperleat Academy") < 1.0
    # two generated Chinese customers share most characters: still told apart at the gate's 0.8
    assert name_similarity("武汉青禾工程有限公司", "南京青禾科技有限公司 赵静") < 0.8
    assert name_similarity("Copperleaf Academy", "Copperleaf Shipping") < 0.8


def test_a_missing_engine_or_language_and_a_bad_image_get_clear_errors(monkeypatch, tmp_path):
    import pytesseract

    ocr.require_engine.cache_clear()
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(tmp_path / "no-tesseract"))
    with pytest.raises(ocr.OcrUnavailable, match="apt-get install tesseract-ocr tesseract-ocr-eng"):
        ocr.require_engine(("eng",))
    monkeypatch.undo()
    ocr.require_engine.cache_clear()
    if shutil.which("tesseract"):
        with pytest.raises(ocr.OcrUnavailable, match="no language pack for fra"):
            ocr.require_engine(("fra",))
    (tmp_path / "notes.png").write_bytes(b"meeting notes, not an image")
    with pytest.raises(ocr.OcrInputError, match="notes.png: not a readable image"):
        ocr.load_image(tmp_path / "notes.png")
    with pytest.raises(ocr.OcrInputError, match="no such file"):
        ocr.load_image(tmp_path / "missing.jpg")


@pytest.fixture(scope="module")
def shot_world(tmp_path_factory):
    from talktrack.evaluation.world import WorldSpec, generate_world

    out = tmp_path_factory.mktemp("shot-world")
    generate_world(WorldSpec(seed=2, deals=16, calls=40, audio=0, screenshots=4), out)
    return out


def test_the_world_draws_screenshots_with_truth(shot_world):
    truth = json.loads((shot_world / "truth.json").read_text(encoding="utf-8"))["calendar_screenshots"]
    evidence = {json.loads(line)["evidence_id"]: json.loads(line)
                for line in (shot_world / "evidence.jsonl").read_text(encoding="utf-8").splitlines()}
    assert len(truth) == 4
    for evidence_id, shot in truth.items():
        assert evidence[evidence_id]["kind"] == "calendar" and evidence[evidence_id]["path"] == shot["path"]
        assert (shot_world / shot["path"]).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
        assert set(shot["fields"]) >= {"day", "start", "end", "customer", "contact", "language"}
        assert 35 <= shot["degradation"]["jpeg_quality"] <= 85


@needs_tesseract
def test_ocr_reads_the_worlds_screenshots_and_the_booking_check_catches_forgeries(shot_world, settings):
    """Measured on unseen seed 11 (60 screenshots, bench/results/stage_gates.json): 180/180 fields read,
    every decision right (an earlier draw: 177/180, genuine 59/60; dev seed 3: 168/171 before the reader's
    dev fixes). Here 4 screenshots: at most one field of the 12 may be misread; the booking
    check may miss one genuine screenshot (its name unread: seed 2's bold Chinese title on a dark, noisy image
    comes out as Latin letters), never a forged one."""
    from talktrack.evaluation.calendar_ocr import evaluate_calendar_ocr

    report = evaluate_calendar_ocr(shot_world, settings)
    print(json.dumps(report["fields"]["all"]), json.dumps(report["decisions"]), report["seconds_per_image"])
    assert report["fields"]["all"]["field_accuracy"]["hits"] >= 11
    decisions = report["decisions"]
    assert decisions["genuine"]["hits"] >= 3
    assert decisions["other_customer"]["rate"] == 1.0 and decisions["doctored"]["rate"] == 1.0


@pytest.fixture
def booked(tmp_path, settings):
    """Two customers' deals in qualification since T0; the first had a call at T0 + 1 day, 14:30.
    EV-0: a screenshot of that meeting for its own deal; EV-2: the same image for the other customer's deal."""
    workspace = Workspace.at(tmp_path / "ws").ensure()
    catalog = open_catalog(workspace.catalog_url)
    deals = [d for d, _ in seed_deals(catalog, 4)]
    meeting = datetime.combine(T0.date() + timedelta(days=1), time(14, 30))
    with catalog.session() as session:
        pks = {d: session.scalar(select(Deal.id).where(Deal.external_id == d)) for d in deals}
        customer = session.scalar(select(Customer).join(Deal, Deal.customer_id == Customer.id)
                                  .where(Deal.id == pks[deals[0]]))
        session.add(Call(external_id="CALL-1", deal_id=pks[deals[0]], customer_id=customer.id, started_at=meeting,
                         duration_s=1500, status="done"))
        image, suffix, _ = render_screenshot(ShotFields(meeting.date(), meeting.time(), time(15, 0), customer.name,
                                                        "Sam Shaw", "en", "video"), child_rng(1, 2))
        (tmp_path / f"invite{suffix}").write_bytes(image)
        for number in (0, 2):
            session.add_all([StageEvent(deal_id=pks[deals[number]], stage="lead", entered_at=T0 - timedelta(days=9)),
                             StageEvent(deal_id=pks[deals[number]], stage="qualification", entered_at=T0),
                             EvidenceDocument(external_id=f"EV-{number}", deal_id=pks[deals[number]], kind="calendar",
                                              submitted_at=T0, path=str(tmp_path / f"invite{suffix}"))])
    stages = [s.model_copy(update={"required_evidence": [["calendar"]] if s.key == "qualification" else []})
              for s in settings.stages]
    yield settings.model_copy(update={"workspace": workspace.root, "stages": stages}), workspace, catalog, deals
    catalog.dispose()


@needs_tesseract
def test_a_gate_requiring_a_booked_appointment_takes_the_real_screenshot_not_another_customers(booked):
    settings, workspace, catalog, deals = booked
    verdicts = verifier_verdicts(open_verifier(catalog, settings, workspace))
    when = T0 + timedelta(days=3)
    _, _, own = record_gated_stage_event(catalog, settings, deals[0], "needs_diagnosis", when, verdicts=verdicts)
    assert own.status == "verified" and own.met[0]["evidence_id"] == "EV-0"
    _, _, other = record_gated_stage_event(catalog, settings, deals[2], "needs_diagnosis", when, verdicts=verdicts)
    assert other.status == "unverified" and "EV-2 (calendar) fabricated" in other.missing[0].reason


def test_imported_stage_changes_go_through_the_gate_and_are_listed(shot_world, tmp_path):
    """``talktrack import`` checks the imported changes as the API checks posted ones (history is never
    refused: without verified evidence a change is listed as unverified); ``--no-gates`` skips it."""
    from typer.testing import CliRunner

    from talktrack.cli.main import app

    runner, workspace = CliRunner(), ["--workspace", str(tmp_path / "ws")]
    result = runner.invoke(app, [*workspace, "import", str(shot_world), "--json"])
    assert result.exit_code == 0, result.output
    gates = json.loads(result.output)["gates"]
    listed = json.loads(runner.invoke(app, [*workspace, "gates", "list", "--json", "--limit", "1000"]).output)
    assert gates["checked"] > 0 and 0 < gates["unverified"] < gates["checked"]
    assert listed["total"] == gates["unverified"]
    again = runner.invoke(app, [*workspace, "import", str(shot_world), "--json", "--no-gates"])
    assert json.loads(again.output)["gates"] is None


@needs_tesseract
def test_a_forged_screenshot_keeps_the_deal_below_scheduled_with_the_reason(booked):
    from talktrack.pipelines.semantic.evidence import verify_deal

    settings, workspace, catalog, deals = booked
    own, other = (verify_deal(catalog, settings, workspace, deal) for deal in (deals[0], deals[2]))
    levels = {deal: {level["level"]: level for level in report.levels} for deal, report in zip(deals[::2], (own, other))}
    assert own.backed_progress_level == "scheduled" and levels[deals[0]]["scheduled"]["evidence_id"] == "EV-0"
    assert levels[deals[0]]["communicated"]["status"] == "no_evidence"
    assert other.backed_progress_level is None and other.fake_progress
    assert levels[deals[2]]["scheduled"]["status"] == "not_verified"
    assert "does not show this customer's name" in levels[deals[2]]["scheduled"]["reason"]
    assert [r.code for r in other.items[0].reasons] == ["calendar_other_customer"]


def test_real_calendar_formats_hand_written_are_read_from_their_text(settings):
    """Entries as Google/Outlook/Apple/Teams/Zoom/Feishu/DingTalk/WeCom/Tencent Meeting show them and reps type
    them (real_phrasing/calendar_entries.yaml, 30 items, 17 dev / 13 test). The formats were added on dev
    (17/17); test measured 33/39 fields (0.846): US month-first dates, Chinese numerals (十点, 2点半), '11.18'
    and 'Wed the 10th' are not read. Via OCR of the same lines drawn as screenshots: dev 1.0, test 0.795."""
    from talktrack.evaluation.calendar_ocr import evaluate_real_entries
    from talktrack.evaluation.real_phrasing import load

    items = load("calendar_entries")
    assert len(items) == 30 and 0.5 <= sum(i["split"] == "dev" for i in items) / len(items) <= 0.65
    report = evaluate_real_entries(settings, ocr=False)
    assert report["text_dev"]["all"]["all_three"]["rate"] == 1.0
    assert report["text_test"]["all"]["field_accuracy"]["rate"] >= 0.8


@needs_tesseract
def test_the_api_reads_an_uploaded_calendar_screenshot(server, keys, semantic_world, semantic_truth):
    """POST /v1/evidence/verify-file with kind=calendar and an image: the served world's own screenshot is
    authentic for its deal (the call it shows named) and fabricated for another customer's deal."""
    import httpx

    from tests.serving_support import bearer

    shot = next(iter(semantic_truth["calendar_screenshots"].values()))
    with open(semantic_world / "deals.csv", encoding="utf-8") as handle:
        customer_of = {row["deal_id"]: row["customer_id"] for row in csv.DictReader(handle)}
    other = next(d for d in sorted(customer_of) if customer_of[d] != customer_of[shot["deal_id"]])
    image = (semantic_world / shot["path"]).read_bytes()
    with httpx.Client(base_url=server.url, timeout=180) as http:
        def post(deal_id: str) -> dict:
            answer = http.post("/v1/evidence/verify-file", files={"file": ("invite.jpg", image)},
                               data={"deal_id": deal_id, "kind": "calendar"}, headers=bearer(keys["crm"]))
            assert answer.status_code == 200, answer.text
            return answer.json()

        own, foreign = post(shot["deal_id"]), post(other)
    assert own["verdict"] == "authentic" and own["reasons"][-1]["code"] == "calendar_matches_call"
    assert own["reasons"][-1]["passages"][0]["ref"] == shot["call_id"]
    assert foreign["verdict"] == "fabricated" and foreign["reasons"][-1]["code"] == "calendar_other_customer"
