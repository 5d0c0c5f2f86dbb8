"""Mentoring points: the session rules, the capped ledger with reversals and its audit trail, and the HR
export (CSV, and a webhook POST retried against a real local HTTP server that fails its first tries)."""

from __future__ import annotations

import csv
import json
import threading
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from talktrack.core.catalog.schema import Call, Rep, Team
from talktrack.core.catalog.schema.mentoring import MentoringEvent, MentoringPoints
from talktrack.core.clock import utcnow
from talktrack.core.config.mentoring import MentoringSettings
from talktrack.pipelines.management import mentoring as m
from talktrack.pipelines.management.mentoring_export import (
    create_export, deliver_export, export_payload, list_exports, retry_exports, write_csv,
)
from talktrack.pipelines.webhooks import backoff_waits

TODAY = utcnow().date()
MONTH = m.month_of(TODAY)


def with_rules(settings, **rules):
    mentoring = settings.management.mentoring.model_copy(update=rules)
    return settings.model_copy(update={"management": settings.management.model_copy(update={"mentoring": mentoring})})


@pytest.fixture
def team_catalog(catalog):
    """Two teams: SENIOR (5 years) and JUNIOR (3 months) in TEAM-A, OTHER in TEAM-B; a call of each team."""
    with catalog.session() as s:
        a, b = Team(external_id="TEAM-A", name="A"), Team(external_id="TEAM-B", name="B")
        s.add_all([a, b])
        s.flush()
        reps = {
            "SENIOR": Rep(external_id="SENIOR", name="Wang Lei", team_id=a.id, hired_at=TODAY - timedelta(days=5 * 365)),
            "SENIOR2": Rep(external_id="SENIOR2", name="Ann Lee", team_id=a.id, hired_at=TODAY - timedelta(days=4 * 365)),
            "JUNIOR": Rep(external_id="JUNIOR", name="Li Na", team_id=a.id, hired_at=TODAY - timedelta(days=90)),
            "NODATE": Rep(external_id="NODATE", name="Bo", team_id=a.id),
            "OTHER": Rep(external_id="OTHER", name="Zoe", team_id=b.id, hired_at=TODAY - timedelta(days=3000)),
        }
        s.add_all(reps.values())
        s.flush()
        s.add_all([Call(external_id="CALL-A", rep_id=reps["JUNIOR"].id, duration_s=120.0, status="done"),
                   Call(external_id="CALL-B", rep_id=reps["OTHER"].id, duration_s=60.0, status="done")])
        s.commit()
    return catalog


def confirmed_session(catalog, settings, mentor="SENIOR", mentee="JUNIOR", call="CALL-A") -> dict:
    made = m.create_session(catalog, settings, call_id=call, mentor_id=mentor, mentee_id=mentee, actor=f"rep:{mentor}")
    for at_s in (5.0, 40.0, 90.0)[: settings.management.mentoring.min_annotations]:
        m.add_annotation(catalog, settings, made["id"], at_s=at_s, note=f"listen at {at_s:g}s", actor=f"rep:{mentor}")
    m.submit_session(catalog, settings, made["id"], actor=f"rep:{mentor}")
    return m.review_session(catalog, settings, made["id"], decision="confirm", note="", actor="manager:TEAM-A")


def test_the_rules_refuse_self_mentoring_juniors_other_teams_calls_and_too_few_key_points(team_catalog, settings):
    cases = {"self_mentoring": ("SENIOR", "SENIOR", "CALL-A"), "not_senior": ("JUNIOR", "SENIOR", "CALL-A"),
             "call_not_of_team": ("SENIOR", "JUNIOR", "CALL-B")}
    for code, (mentor, mentee, call) in cases.items():
        with pytest.raises(m.MentoringError) as refused:
            m.create_session(team_catalog, settings, call_id=call, mentor_id=mentor, mentee_id=mentee, actor="t")
        assert refused.value.code == code, refused.value
    with pytest.raises(m.MentoringError, match="no hiring date"):
        m.create_session(team_catalog, settings, call_id="CALL-A", mentor_id="NODATE", mentee_id="JUNIOR", actor="t")
    with pytest.raises(m.MentoringNotFound):
        m.create_session(team_catalog, settings, call_id="CALL-X", mentor_id="SENIOR", mentee_id="JUNIOR", actor="t")
    # the team rule is a setting: off, another team's call may be replayed
    anywhere = with_rules(settings, call_of_mentor_team=False)
    assert m.create_session(team_catalog, anywhere, call_id="CALL-B", mentor_id="SENIOR", mentee_id="JUNIOR",
                            actor="t")["status"] == "open"

    made = m.create_session(team_catalog, settings, call_id="CALL-A", mentor_id="SENIOR", mentee_id="JUNIOR", actor="t")
    with pytest.raises(m.MentoringError, match="outside the call"):
        m.add_annotation(team_catalog, settings, made["id"], at_s=121.0, note="after the end", actor="t")
    with pytest.raises(m.MentoringError, match="needs a note"):
        m.add_annotation(team_catalog, settings, made["id"], at_s=3.0, note="  ", actor="t")
    m.add_annotation(team_catalog, settings, made["id"], at_s=30.0, note="asks who signs", actor="t")
    with pytest.raises(m.MentoringError) as refused:
        m.submit_session(team_catalog, settings, made["id"], actor="t")
    assert refused.value.code == "too_few_annotations"
    with pytest.raises(m.MentoringError, match="only a submitted session"):
        m.review_session(team_catalog, settings, made["id"], decision="confirm", note="", actor="t")


def test_tenure_counts_whole_months():
    assert m.tenure_months(date(2024, 3, 15), date(2026, 3, 14)) == 23
    assert m.tenure_months(date(2024, 3, 15), date(2026, 3, 15)) == 24
    with pytest.raises(ValueError, match="monthly_cap"):
        MentoringSettings(points_per_session=50, monthly_cap=40)


def test_points_are_earned_only_on_confirmation_capped_per_month_and_reversed_by_a_new_entry(team_catalog, settings):
    rules = with_rules(settings, points_per_session=15, monthly_cap=40)
    rejected = m.create_session(team_catalog, rules, call_id="CALL-A", mentor_id="SENIOR", mentee_id="JUNIOR",
                                actor="rep:SENIOR")
    for at_s in (1.0, 2.0, 3.0):
        m.add_annotation(team_catalog, rules, rejected["id"], at_s=at_s, note="key point", actor="rep:SENIOR")
    m.submit_session(team_catalog, rules, rejected["id"], actor="rep:SENIOR")
    with pytest.raises(m.MentoringError, match="needs a note"):
        m.review_session(team_catalog, rules, rejected["id"], decision="reject", note="", actor="manager:TEAM-A")
    done = m.review_session(team_catalog, rules, rejected["id"], decision="reject", note="replayed only 2 minutes",
                            actor="manager:TEAM-A")
    assert (done["status"], done["points"]) == ("rejected", 0)

    earned = [confirmed_session(team_catalog, rules)["points"] for _ in range(4)]
    assert earned == [15, 15, 10, 0]  # the cap of 40 cuts the third, the fourth is recorded with 0 points
    assert confirmed_session(team_catalog, rules, mentor="SENIOR2")["points"] == 15  # the cap is per mentor

    book = m.ledger(team_catalog, month=MONTH, team="TEAM-A")
    first = book["entries"][0]
    reversal = m.reverse_entry(team_catalog, rules, first["id"], note="the call was the mentor's own demo", actor="admin")
    assert (reversal["points"], reversal["reverses"], reversal["kind"]) == (-15, first["id"], "reversal")
    with pytest.raises(m.MentoringError, match="already reversed"):
        m.reverse_entry(team_catalog, rules, first["id"], note="again", actor="admin")
    with pytest.raises(m.MentoringError, match="itself a reversal"):
        m.reverse_entry(team_catalog, rules, reversal["id"], note="undo the undo", actor="admin")

    totals = {r["rep_id"]: r for r in m.ledger(team_catalog, month=MONTH)["reps"]}
    assert totals["SENIOR"] | {} == {"rep_id": "SENIOR", "rep_name": "Wang Lei", "team": "TEAM-A", "earned": 40,
                                     "reversed": -15, "net": 25, "sessions": 4}
    assert totals["SENIOR2"]["net"] == 15
    assert m.ledger(team_catalog, team="TEAM-B")["entries"] == []

    # append-only: the ledger and the trail refuse deletes
    with team_catalog.session() as s:
        s.delete(s.get(MentoringPoints, first["id"]))
        with pytest.raises(PermissionError, match="append-only"):
            s.flush()
    trail = m.get_session(team_catalog, first["session_id"])["events"]
    assert [e["action"] for e in trail] == ["created", "annotated", "annotated", "annotated", "submitted", "confirmed",
                                            "earned", "reversed"]
    assert {e["actor"] for e in trail} == {"rep:SENIOR", "manager:TEAM-A", "admin"}
    assert trail[-1]["detail"]["note"] == "the call was the mentor's own demo"


class FlakyHook(BaseHTTPRequestHandler):
    """A receiver that answers 503 to its first ``fail`` requests, then 200; it keeps what it got."""

    fail = 2
    received: list = []

    def do_POST(self):  # noqa: N802 (the http.server name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((self.headers["Idempotency-Key"], body))
        failing = len(type(self).received) <= type(self).fail
        self.send_response(400 if self.path.endswith("/bad") else 503 if failing else 200)
        self.end_headers()
        self.wfile.write(b"busy" if failing else b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    FlakyHook.received, FlakyHook.fail = [], 2
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyHook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hr/points", FlakyHook
    server.shutdown()
    server.server_close()


def test_the_monthly_export_is_a_csv_and_a_webhook_post_retried_with_backoff(team_catalog, settings, hook, tmp_path):
    url, receiver = hook
    confirmed_session(team_catalog, settings)
    confirmed_session(team_catalog, settings, mentor="SENIOR2")
    waits: list[float] = []

    # two tries are not enough against a receiver failing twice: recorded as failed, retried later
    two = with_rules(settings, webhook=settings.management.mentoring.webhook.model_copy(
        update={"attempts": 2, "backoff_s": 0.5, "max_backoff_s": 4.0}))
    export = create_export(team_catalog, two, MONTH, actor="cli:hr", url=url)
    assert export["status"] == "pending" and export["export_id"].startswith(f"MX-{MONTH}-")
    failed = deliver_export(team_catalog, two, export["export_id"], actor="cli:hr", sleep=waits.append)
    assert (failed["status"], failed["attempts"]) == ("failed", 2) and "503" in failed["last_error"]
    assert waits == [0.5]

    four = with_rules(two, webhook=two.management.mentoring.webhook.model_copy(update={"attempts": 4}))
    [delivered] = retry_exports(team_catalog, four, actor="cli:hr", sleep=waits.append)
    assert (delivered["status"], delivered["attempts"], delivered["last_error"]) == ("delivered", 3, None)
    assert len(receiver.received) == 3 and {key for key, _ in receiver.received} == {export["export_id"]}
    body = receiver.received[-1][1]
    assert {(r["rep_id"], r["net"]) for r in body["rows"]} == {("SENIOR", 10), ("SENIOR2", 10)}

    # the same month again is the same export: nothing is sent twice
    again = create_export(team_catalog, four, MONTH, actor="cli:hr", url=url)
    assert again["export_id"] == export["export_id"] and again["status"] == "delivered"
    assert retry_exports(team_catalog, four, actor="cli:hr", sleep=waits.append) == []
    assert len(receiver.received) == 3
    # a reversal changes the month's rows, so its next export is a new one
    entry = m.ledger(team_catalog, month=MONTH)["entries"][0]
    m.reverse_entry(team_catalog, four, entry["id"], note="duplicate session", actor="admin")
    assert export_payload(team_catalog, four, MONTH)["export_id"] != export["export_id"]
    assert [e["status"] for e in list_exports(team_catalog, MONTH)] == ["delivered"]

    path = write_csv(export["payload"], tmp_path / "hr.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert [(r["rep_id"], r["rep_name"], r["sessions"], r["net"]) for r in rows] == [
        ("SENIOR", "Wang Lei", "1", "10"), ("SENIOR2", "Ann Lee", "1", "10")]
    with team_catalog.session() as s:
        actions = s.execute(select(MentoringEvent.action).where(MentoringEvent.export_id == export["export_id"])
                            .order_by(MentoringEvent.id)).scalars().all()
    assert actions == ["exported", "delivery_failed", "delivered"]


def test_a_refusal_that_retrying_cannot_fix_is_given_up_at_once(team_catalog, settings, hook):
    url, receiver = hook
    receiver.fail = 0
    assert backoff_waits(5, 1.0, 3.0) == [1.0, 2.0, 3.0, 3.0]
    bad = create_export(team_catalog, settings, MONTH, actor="cli:hr", url=url + "/bad")
    refused = deliver_export(team_catalog, settings, bad["export_id"], actor="cli:hr", sleep=lambda s: None)
    assert (refused["status"], refused["attempts"]) == ("failed", 1) and "400" in refused["last_error"]
    # an unreachable port: every try fails with a connection error
    dead = create_export(team_catalog, settings, "2020-01", actor="cli:hr", url="http://127.0.0.1:9/hook")
    out = deliver_export(team_catalog, settings, dead["export_id"], actor="cli:hr", sleep=lambda s: None)
    assert out["status"] == "failed" and out["attempts"] == settings.management.mentoring.webhook.attempts
    assert "Connect" in out["last_error"]
    assert len(receiver.received) == 1
