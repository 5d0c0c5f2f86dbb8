"""Precomputed call feature rows: a deal scored from them has exactly the batch path's features
and score (every deal of a world), a never-scored deal reads rows without rebuilding any, and
the rows follow each kind of input change (a new transcript, moments, the call's stage, talk
tracks, stage events)."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import delete, func, select, update

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.calls import write_transcript
from talktrack.core.catalog.schema import Call, CallFeatureRow, Deal, Moment, StageEvent, TalkTrack, Utterance
from talktrack.core.records import Transcript
from talktrack.models.features import call_rows
from talktrack.models.features.call_rows import refresh_call_rows, stale_call_ids
from talktrack.models.features.deal import build_deal_table


@pytest.fixture(scope="module")
def scored_world(tmp_path_factory, semantic_workspace, semantic_world):
    """A copy of the semantic workspace with what deal features read: moments (from the world's
    truth), mined talk tracks, and a customer scorer trained and promoted."""
    import shutil

    from talktrack.core.workspace import Workspace
    from talktrack.evaluation.semantic.oracle import write_truth_moments
    from talktrack.pipelines.mining import mine_talk_tracks, options_from_settings
    from talktrack.training.customer import train_customer

    settings, source, _ = semantic_workspace
    root = tmp_path_factory.mktemp("call-rows") / "ws"
    shutil.copytree(source.root, root)
    settings = settings.model_copy(update={"workspace": root})
    workspace = Workspace.at(root).ensure()
    catalog = open_catalog(workspace.catalog_url)
    write_truth_moments(semantic_world, catalog)
    mine_talk_tracks(catalog, settings, workspace,
                     options=options_from_settings(settings, min_support_deals=8, confidence=0.8))
    train_customer(catalog, settings, workspace)
    yield settings, workspace, catalog
    catalog.dispose()


@pytest.fixture
def private_catalog(tmp_path, scored_world):
    """A copy of the scored world's catalog (SQLite backup API: the WAL's pages come along)."""
    _, workspace, _ = scored_world
    path = tmp_path / "catalog.db"
    source = sqlite3.connect(workspace.root / "catalog.db")
    target = sqlite3.connect(path)
    source.backup(target)
    source.close(), target.close()
    catalog = open_catalog(f"sqlite:///{path}")
    yield catalog
    catalog.dispose()


def assert_same_as_batch(catalog, settings, deal_ids: list[str]) -> None:
    full = build_deal_table(catalog, settings).features
    one = build_deal_table(catalog, settings, deal_ids=deal_ids).features
    pd.testing.assert_frame_equal(one, full.loc[deal_ids, one.columns], check_exact=True)


def test_every_deal_scored_from_rows_has_the_batch_features_and_score(scored_world):
    from talktrack.serving.routes.scoring import align_to_model
    from talktrack.training import registry
    from talktrack.training.customer import MODEL_NAME

    settings, workspace, catalog = scored_world
    refresh_call_rows(catalog, settings)
    assert stale_call_ids(catalog) == []
    full = build_deal_table(catalog, settings)
    assert full.available["moments"] and full.available["talk_tracks"]  # track uses and zero-fill exercised
    assert full.features["conv__approved_track_uses"].gt(0).any() or full.features["conv__mined_track_uses"].gt(0).any()
    model, _ = registry.load_champion(settings, workspace, MODEL_NAME)
    expected = model.predict(align_to_model(full.features, model)).set_axis(full.features.index)
    before = dict(call_rows.STATS)
    deals = list(full.features.index)
    for start in range(0, len(deals), 25):  # deals the way the service builds them: a few at a time
        chunk = deals[start:start + 25]
        part = build_deal_table(catalog, settings, deal_ids=chunk)
        pd.testing.assert_frame_equal(part.features, full.features.loc[chunk, part.features.columns],
                                      check_exact=True)
        scored = model.predict(align_to_model(part.features, model)).set_axis(part.features.index)
        assert (scored["p_win"] == expected.loc[chunk, "p_win"]).all()
        assert (scored["tier"] == expected.loc[chunk, "tier"]).all()
    # every call's features came from a stored row: none was rebuilt on the read path
    with catalog.session() as session:
        with_utterances = session.scalar(select(func.count(func.distinct(Utterance.call_id))))
    assert call_rows.STATS["built"] == before["built"]
    assert call_rows.STATS["read"] - before["read"] >= with_utterances


def _deal_with_moments(catalog) -> tuple[str, int]:
    """A deal and one of its calls that has objections (so answers and track uses matter)."""
    with catalog.session() as session:
        return session.execute(
            select(Deal.external_id, Call.id).join(Call, Call.deal_id == Deal.id)
            .join(Moment, Moment.call_id == Call.id).where(Moment.kind == "objection").limit(1)).one()


def test_rows_follow_each_kind_of_input_change(private_catalog, settings):
    catalog = private_catalog
    deal, call_pk = _deal_with_moments(catalog)
    refresh_call_rows(catalog, settings)
    assert_same_as_batch(catalog, settings, [deal])

    # a new transcript (CRM import and the speech pipeline write it so): the row is stale, rebuilt
    with catalog.session() as session:
        call = session.get(Call, call_pk)
        kept = [u for u in sorted(call.utterances, key=lambda u: u.seq)][:-3]
        transcript = Transcript(
            language=call.language or "en",
            speakers=[{"speaker": s.label, "role": s.role} for s in call.speakers],
            utterances=[{"start": u.start_s, "end": u.end_s, "speaker": u.speaker_label, "role": u.role,
                         "text": u.text} for u in kept])
        write_transcript(session, call, transcript, status="done")
    assert stale_call_ids(catalog) == [call_pk]
    built = call_rows.STATS["built"]
    assert_same_as_batch(catalog, settings, [deal])
    assert call_rows.STATS["built"] == built + 1 and stale_call_ids(catalog) == []

    # moments replaced by a detector run (label_calls stamps the call's moments_model)
    with catalog.session() as session:
        session.execute(delete(Moment).where(Moment.call_id == call_pk, Moment.kind == "move"))
        session.execute(update(Call).where(Call.id == call_pk).values(moments_model="test-detector"))
    assert stale_call_ids(catalog) == [call_pk]
    assert refresh_call_rows(catalog, settings) == 1  # what the service's row keeper runs
    built = call_rows.STATS["built"]
    assert_same_as_batch(catalog, settings, [deal])
    assert call_rows.STATS["built"] == built  # refreshed ahead: the score read the row

    # the call's stage (key-question coverage is counted against the stage's questions)
    with catalog.session() as session:
        session.execute(update(Call).where(Call.id == call_pk).values(stage="negotiation"))
    assert stale_call_ids(catalog) == [call_pk]
    assert_same_as_batch(catalog, settings, [deal])

    # talk tracks rejected (mining and reviews change them): uses are counted against the tracks
    # at read time, so the rows stay and the deal's uses become unknown, as the batch path says
    before = build_deal_table(catalog, settings, deal_ids=[deal]).features
    assert before[["conv__approved_track_uses", "conv__mined_track_uses"]].notna().all(axis=None)
    with catalog.session() as session:
        session.execute(update(TalkTrack).values(status="rejected"))
    built = call_rows.STATS["built"]
    after = build_deal_table(catalog, settings, deal_ids=[deal]).features
    assert call_rows.STATS["built"] == built
    assert after[["conv__approved_track_uses", "conv__mined_track_uses"]].isna().all(axis=None)
    assert_same_as_batch(catalog, settings, [deal])

    # a stage event: read live, so the deal's stage features move with it
    with catalog.session() as session:
        deal_pk = session.scalar(select(Deal.id).where(Deal.external_id == deal))
        last = session.scalar(select(func.max(StageEvent.entered_at)).where(StageEvent.deal_id == deal_pk))
        session.add(StageEvent(deal_id=deal_pk, stage="negotiation", entered_at=last + timedelta(hours=1)))
    assert_same_as_batch(catalog, settings, [deal])

    # a deleted call takes its row with it
    with catalog.session() as session:
        session.execute(delete(Call).where(Call.id == call_pk))
        assert session.scalar(select(CallFeatureRow.call_id).where(CallFeatureRow.call_id == call_pk)) is None


def test_never_scored_deals_score_from_plain_rows_as_the_batch_path_does(scored_world):
    """The service's path for deals it has never seen (plain-Python rows of
    ``deal_rows``, the champion's numpy view) against the batch table and the pyfunc's predict on
    it: every deal's features, and, through a served ``POST /v1/score``, several never-scored
    deals' scores (1e-9), tiers and reasons, with no call row rebuilt on the way."""
    import httpx
    import numpy as np

    from talktrack.models.features.deal_rows import deal_feature_rows
    from talktrack.serving.app import create_app
    from talktrack.serving.keys import create_key
    from talktrack.serving.routes.scoring import align_to_model
    from talktrack.training import registry
    from talktrack.training.customer import MODEL_NAME
    from tests.serving_support import LiveServer, bearer

    settings, workspace, catalog = scored_world
    refresh_call_rows(catalog, settings)
    full = build_deal_table(catalog, settings).features
    rows = deal_feature_rows(catalog, settings, list(full.index))
    for deal_id, row in rows.items():
        assert full.columns.difference(row).str.startswith("industry__").all()  # only other industries absent
        assert full.loc[deal_id, [c for c in full.columns if c not in row]].eq(0).all()
        want = full.loc[deal_id, list(row)].to_numpy(float)
        # exact but for the survey mean's last bit: pandas' grouped mean adds in an order of its own
        np.testing.assert_allclose(np.array(list(row.values())), want, rtol=1e-15, atol=0, equal_nan=True)
    assert sum(row["calls"] > 0 for row in rows.values()) > len(rows) // 2

    model, version = registry.load_champion(settings, workspace, MODEL_NAME)
    expected = model.predict(align_to_model(full, model)).set_axis(full.index)
    fast = model.unwrap_python_model().fast
    assert fast is not None  # the default scorer is logistic: the numpy view is what serves
    deals = list(full.index[3::9][:15])
    quiet = settings.serving.model_copy(update={"feature_cache_warm_open_deals": False})
    key = create_key(catalog, "crm", name="never-scored")[0]
    before = dict(call_rows.STATS)
    with LiveServer(create_app(settings.model_copy(update={"serving": quiet}))) as live, \
            httpx.Client(base_url=live.url, timeout=60) as http:
        served = [http.post("/v1/score", json={"deal_id": d}, headers=bearer(key)).json() for d in deals]
    assert call_rows.STATS["built"] == before["built"]
    for deal_id, answer in zip(deals, served, strict=True):
        want = expected.loc[deal_id]
        assert answer["model"]["version"] == version
        assert abs(answer["probability"] - want["p_win"]) <= 1e-9 and answer["tier"] == want["tier"]
        assert [r["feature"] for r in answer["reasons"]] == [r["feature"] for r in json.loads(want["reasons"])]
