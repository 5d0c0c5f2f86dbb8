"""The catalog: migrations build the schema the code declares, rows round-trip, writes are atomic."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import Base, Call, Customer, Deal, Rep, Speaker, StageEvent, Team, Utterance
from talktrack.core.catalog.store import head_revision


def _team_rep_customer_deal(session):
    team = Team(external_id="T1", name="East")
    rep = Rep(external_id="R1", name="Dana", team=team)
    customer = Customer(external_id="C1", name="Northwind", employees=120, sentiment=0.2)
    deal = Deal(
        external_id="D1", customer=customer, rep=rep, created_at=datetime(2026, 1, 5), stage="negotiation"
    )
    session.add_all([team, rep, customer, deal])
    return deal


def test_migrations_reach_head_and_match_the_declared_schema(catalog):
    assert catalog.current_revision() == head_revision()
    with catalog.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"schema.py and the Alembic revisions disagree: {diff}"


def test_reopening_a_catalog_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    first = open_catalog(url)
    with first.session() as session:
        _team_rep_customer_deal(session)
    first.dispose()
    second = open_catalog(url)
    with second.session() as session:
        assert session.scalar(select(Deal.external_id)) == "D1"
    assert second.current_revision() == head_revision()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(catalog):
    if catalog.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with catalog.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_call_with_speakers_and_utterances_round_trips(catalog):
    with catalog.session() as session:
        deal = _team_rep_customer_deal(session)
        deal.stage_events.append(StageEvent(stage="lead", entered_at=datetime(2026, 1, 5)))
        call = Call(external_id="K1", deal=None, started_at=datetime(2026, 1, 9), language="zh", status="imported")
        rep_voice = Speaker(label="SPEAKER_00", role="rep", role_confidence=0.9)
        call.speakers.append(rep_voice)
        call.utterances.append(
            Utterance(seq=0, speaker=rep_voice, speaker_label="SPEAKER_00", role="rep", start_s=0.0, end_s=2.5,
                      text="您好，我是销售顾问小王。", language="zh", words=[{"word": "您好", "start": 0.0, "end": 0.4}])
        )
        session.add(call)
    with catalog.session() as session:
        stored = session.scalar(select(Call).where(Call.external_id == "K1"))
        assert [u.text for u in stored.utterances] == ["您好，我是销售顾问小王。"]
        assert stored.utterances[0].speaker.role == "rep"
        assert stored.utterances[0].words[0]["word"] == "您好"
        assert session.scalar(select(StageEvent.stage)) == "lead"


def test_a_failed_unit_of_work_leaves_nothing_behind(catalog):
    with pytest.raises(RuntimeError), catalog.session() as session:
        _team_rep_customer_deal(session)
        session.flush()
        raise RuntimeError("crash mid-write")
    with catalog.session() as session:
        assert session.scalar(select(Deal)) is None
        assert session.scalar(select(Team)) is None


def test_constraints_guard_the_data(catalog):
    with pytest.raises(IntegrityError), catalog.session() as session:
        session.add_all([Team(external_id="T1", name="a"), Team(external_id="T1", name="b")])
    with pytest.raises(IntegrityError), catalog.session() as session:
        session.add(Rep(external_id="R9", name="orphan", team_id=12345))
