"""CRM import: good rows go in, each bad row is reported with file, line and reason, re-import is a no-op."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from talktrack.core.catalog.schema import Call, Course, Customer, Deal, Rep, StageEvent, SurveyScore, Utterance
from talktrack.pipelines.crm_import import import_directory

TEAMS = "team_id,name,region,manager_id\nT1,East,Shanghai,R0\n"
REPS = "rep_id,name,email,team_id,role,language,hired_at\nR0,Mia,mia@x.cn,T1,manager,zh,2020-01-01\nR1,Dana,,T1,rep,en,2023-04-01\n"
CUSTOMERS = (
    "customer_id,name,industry,employees,purchase_frequency,open_positions,sentiment,region,language,created_at\n"
    "C1,Northwind,retail,120,4.5,3,0.2,East,en,2025-01-01\n"
    "C2,华东物流,logistics,800,12,20,-0.1,East,zh,2025-02-01\n"
)
DEALS = (
    "deal_id,customer_id,rep_id,title,amount,currency,created_at,stage,status,closed_at,progress_level\n"
    "D1,C1,R1,Pilot,50000,USD,2025-03-01T09:00:00,negotiation,open,,communicated\n"
    "D2,C2,R1,WMS,300000,CNY,2025-03-02,contract_delivery,won,2025-05-01T10:00:00Z,\n"
)
STAGE_EVENTS = "deal_id,stage,entered_at\nD1,lead,2025-03-01\nD1,qualification,2025-03-05\n"
CALLS = "call_id,deal_id,rep_id,customer_id,started_at,duration_s,language,channel,stage\nK1,D1,R1,,2025-03-06T10:00:00,60,en,phone,qualification\n"
SURVEYS = "rep_id,period,dimension,source,score,respondents\nR1,2025-03,questioning,manager,3.5,1\n"


def write_world(directory: Path, **overrides: str | bytes) -> Path:
    files = {
        "teams.csv": TEAMS,
        "reps.csv": REPS,
        "customers.csv": CUSTOMERS,
        "deals.csv": DEALS,
        "stage_events.csv": STAGE_EVENTS,
        "calls.csv": CALLS,
        "surveys.csv": SURVEYS,
        **{name.replace("__", "."): value for name, value in overrides.items()},
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (directory / name).write_bytes(data)
    return directory


def transcript(call_id: str, text: str = "Hi, this is Dana.") -> str:
    return json.dumps({
        "schema": "talktrack.transcript/1",
        "call_id": call_id,
        "language": "en",
        "duration_s": 6.0,
        "speakers": [{"speaker": "SPEAKER_00", "role": "rep", "rep_id": "R1"}, {"speaker": "SPEAKER_01", "role": "customer"}],
        "utterances": [
            {"start": 0.0, "end": 2.0, "speaker": "SPEAKER_00", "role": "rep", "text": text},
            {"start": 2.4, "end": 5.0, "speaker": "SPEAKER_01", "role": "customer", "text": "The budget is tight this year."},
        ],
    })


def counts_of(report) -> dict[str, dict[str, int]]:
    return {c.entity: {k: getattr(c, k) for k in ("read", "inserted", "updated", "unchanged", "rejected")} for c in report.counts}


def test_a_clean_export_imports_and_reimports_as_a_no_op(catalog, settings, tmp_path):
    source = write_world(tmp_path / "crm")
    (source / "transcripts").mkdir()
    (source / "transcripts" / "K1.json").write_text(transcript("K1"))

    first = import_directory(catalog, settings, source)
    assert first.problems == []
    assert counts_of(first)["deals"] == {"read": 2, "inserted": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    assert counts_of(first)["transcripts"]["inserted"] == 1

    second = import_directory(catalog, settings, source)
    assert second.totals()["inserted"] == 0 and second.totals()["updated"] == 0
    assert second.totals()["unchanged"] == first.totals()["inserted"]
    with catalog.session() as session:
        deal = session.scalar(select(Deal).where(Deal.external_id == "D2"))
        assert deal.closed_at.isoformat() == "2025-05-01T10:00:00"  # Z converted to naive UTC
        assert deal.customer.name == "华东物流"
        call = session.scalar(select(Call).where(Call.external_id == "K1"))
        assert call.status == "imported"
        assert call.customer_id == session.scalar(select(Customer.id).where(Customer.external_id == "C1"))  # from D1
        assert [u.role for u in call.utterances] == ["rep", "customer"]
        assert call.speakers[0].rep_id == session.scalar(select(Rep.id).where(Rep.external_id == "R1"))


def test_a_changed_row_and_a_changed_transcript_are_updated_in_place(catalog, settings, tmp_path):
    source = write_world(tmp_path / "crm")
    (source / "transcripts").mkdir()
    (source / "transcripts" / "K1.json").write_text(transcript("K1"))
    import_directory(catalog, settings, source)

    write_world(source, customers__csv=CUSTOMERS.replace("Northwind,retail,120", "Northwind,retail,150"))
    (source / "transcripts" / "K1.json").write_text(transcript("K1", "Hello again, Dana here."))
    report = import_directory(catalog, settings, source)
    assert counts_of(report)["customers"] == {"read": 2, "inserted": 0, "updated": 1, "unchanged": 1, "rejected": 0}
    assert counts_of(report)["transcripts"]["updated"] == 1
    with catalog.session() as session:
        assert session.scalar(select(Customer.employees).where(Customer.external_id == "C1")) == 150
        texts = session.scalars(select(Utterance.text).order_by(Utterance.seq)).all()
        assert texts == ["Hello again, Dana here.", "The budget is tight this year."]


def test_malformed_rows_are_reported_one_by_one_and_good_rows_go_in(catalog, settings, tmp_path):
    customers = (
        CUSTOMERS
        + "C3,Acme,manufacturing,many,1,1,0.1,East,en,2025-01-01\n"  # line 4: wrong type
        + ",Nameless,retail,10,1,1,0.1,East,en,2025-01-01\n"  # line 5: missing id
        + "C1,Northwind again,retail,10,1,1,0.1,East,en,2025-01-01\n"  # line 6: duplicate id
        + "C4,Happy,retail,10,1,1,1.7,East,en,2025-01-01\n"  # line 7: sentiment out of range
        + "C5,Short row\n"  # line 8: wrong number of fields
        + "C6,Fine Co,retail,10,1,1,0.0,East,en,2025-01-01\n"  # line 9: good
    )
    deals = (
        DEALS
        + "D3,C1,R1,x,10,CNY,2025-03-01,closing,open,,\n"  # line 4: unknown stage
        + "D4,C1,R1,x,10,CNY,2025-13-45,lead,open,,\n"  # line 5: bad date
        + "D5,C404,R1,x,10,CNY,2025-03-01,lead,open,,\n"  # line 6: unknown customer
        + "D6,C1,R1,x,10,CNY,2025-03-01,lead,won,,\n"  # line 7: won without closed_at
    )
    reps = REPS.encode() + "R2,李雷,li@x.cn,T1,rep,zh,2021-01-01\n".encode("gb18030")  # line 4: not UTF-8
    source = write_world(tmp_path / "crm", customers__csv=customers, deals__csv=deals, reps__csv=reps)

    report = import_directory(catalog, settings, source)

    problems = {(p.file, p.line): p.reason for p in report.problems}
    assert "employees = 'many'" in problems[("customers.csv", 4)]
    assert "customer_id" in problems[("customers.csv", 5)]
    assert "duplicate customer_id 'C1' (first on line 2)" in problems[("customers.csv", 6)]
    assert "sentiment" in problems[("customers.csv", 7)]
    assert "has 2 fields, the header has 10" in problems[("customers.csv", 8)]
    assert "stage 'closing' is not one of: lead, qualification" in problems[("deals.csv", 4)]
    assert "created_at = '2025-13-45'" in problems[("deals.csv", 5)]
    assert "unknown customer_id 'C404'" in problems[("deals.csv", 6)]
    assert "closed_at is required when status is 'won'" in problems[("deals.csv", 7)]
    assert "not valid utf-8" in problems[("reps.csv", 4)] and "gb18030" in problems[("reps.csv", 4)]
    assert len([p for p in report.problems if p.severity == "error"]) == 10

    with catalog.session() as session:
        assert sorted(session.scalars(select(Customer.external_id))) == ["C1", "C2", "C6"]
        assert session.scalar(select(Customer.name).where(Customer.external_id == "C1")) == "Northwind"
        assert sorted(session.scalars(select(Deal.external_id))) == ["D1", "D2"]
        assert session.scalar(select(func.count()).select_from(StageEvent)) == 2


def test_a_course_url_that_is_not_http_is_a_row_error(catalog, settings, tmp_path):
    """Course URLs become links on the team dashboard, where a javascript: URL would run in a manager's browser."""
    courses = (
        "course_id,title,dimension,language,duration_h,url\n"
        "K1,Asking better questions,questioning,en,2,https://learn.example.com/questions\n"
        "K2,Click me,questioning,en,1,javascript:alert(1)\n"  # line 3
        'K3,Data,questioning,en,1,"data:text/html;base64,PHNjcmlwdD4="\n'  # line 4
        "K4,No link yet,questioning,en,1,\n"
    )
    report = import_directory(catalog, settings, write_world(tmp_path / "crm", courses__csv=courses))
    problems = {(p.file, p.line): p.reason for p in report.problems}
    assert "url = 'javascript:alert(1)': only http(s) URLs" in problems[("courses.csv", 3)]
    assert "only http(s) URLs" in problems[("courses.csv", 4)]
    assert len(problems) == 2
    with catalog.session() as session:
        assert dict(session.execute(select(Course.external_id, Course.url)).all()) == {
            "K1": "https://learn.example.com/questions", "K4": None}


def test_a_gb18030_export_imports_when_its_encoding_is_given(catalog, settings, tmp_path):
    source = write_world(tmp_path / "crm", customers__csv=CUSTOMERS.encode("gb18030"))
    gbk = settings.model_copy(update={"import_": settings.import_.model_copy(update={"encoding": "gb18030"})})
    report = import_directory(catalog, gbk, source)
    assert report.problems == []
    with catalog.session() as session:
        assert session.scalar(select(Customer.name).where(Customer.external_id == "C2")) == "华东物流"


def test_jsonl_files_and_their_bad_lines(catalog, settings, tmp_path):
    lines = [
        json.dumps({"rep_id": "R1", "period": "2025-04", "dimension": "closing", "source": "peer", "score": 4.2}),
        "{not json",
        json.dumps({"rep_id": "R1", "period": "2025-4", "dimension": "closing", "source": "peer", "score": 4}),
        json.dumps({"rep_id": "R1", "period": "2025-04", "dimension": "charm", "source": "peer", "score": 4}),
        json.dumps(["a", "list"]),
    ]
    source = write_world(tmp_path / "crm")
    (source / "surveys.csv").unlink()
    (source / "surveys.jsonl").write_text("\n".join(lines) + "\n")
    report = import_directory(catalog, settings, source)
    problems = {p.line: p.reason for p in report.problems if p.file == "surveys.jsonl"}
    assert sorted(problems) == [2, 3, 4, 5]
    assert "not valid JSON" in problems[2]
    assert "YYYY-MM" in problems[3]
    assert "dimension 'charm' is not one of: questioning" in problems[4]
    assert "must be a JSON object" in problems[5]
    with catalog.session() as session:
        assert session.scalar(select(SurveyScore.score)) == pytest.approx(4.2)


def test_a_file_without_a_required_column_is_skipped_with_the_reason(catalog, settings, tmp_path):
    source = write_world(tmp_path / "crm", deals__csv=DEALS.replace("created_at", "opened_on"))
    report = import_directory(catalog, settings, source)
    assert any(p.file == "deals.csv" and "lacks required column(s) ['created_at']" in p.reason for p in report.problems)
    # the calls that point at missing deals are reported, not half-imported
    assert any(p.file == "calls.csv" and "unknown deal_id 'D1'" in p.reason for p in report.problems)


def test_bad_and_orphan_transcripts_are_reported(catalog, settings, tmp_path):
    source = write_world(tmp_path / "crm")
    (source / "transcripts").mkdir()
    broken = json.loads(transcript("K1"))
    broken["utterances"][0]["speaker"] = "SPEAKER_09"
    (source / "transcripts" / "K1.json").write_text(json.dumps(broken))
    (source / "transcripts" / "K404.json").write_text(transcript("K404"))
    report = import_directory(catalog, settings, source)
    reasons = {p.file: p.reason for p in report.problems}
    assert "not listed under 'speakers'" in reasons["transcripts/K1.json"]
    assert "no call 'K404' in calls" in reasons["transcripts/K404.json"]
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Utterance)) == 0
        assert session.scalar(select(Call.status)) == "pending"


def test_a_file_that_is_mostly_bad_can_be_refused_whole(catalog, settings, tmp_path):
    """import.max_bad_row_share guards against loading the wrong file under the right name."""
    wrong = CUSTOMERS.splitlines()[0] + "\n" + "".join(f"C{i},x,retail,lots,1,1,0,East,en,2025-01-01\n" for i in range(3))
    source = write_world(tmp_path / "crm", customers__csv=wrong + "C9,Good,retail,10,1,1,0,East,en,2025-01-01\n")
    guarded = settings.model_copy(update={"import_": settings.import_.model_copy(update={"max_bad_row_share": 0.5})})
    report = import_directory(catalog, guarded, source)
    assert counts_of(report)["customers"] == {"read": 4, "inserted": 0, "updated": 0, "unchanged": 0, "rejected": 4}
    assert any("file rejected: 3 of 4 rows are bad" in p.reason for p in report.problems)
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0
