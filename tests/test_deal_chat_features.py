"""Chats and e-mails in the deal scorer's features: both paths (the batch table and the never-scored
rows) give every deal of a world with chats the same chat columns, nothing sent at or after a deal's
cut-off counts, the reads use indexes, and a world without chats has unknown chat columns and scores
exactly as the scorer did before they existed."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import ChatMessage, Deal
from talktrack.models.features.chat import BASE_COLUMNS, chat_columns
from talktrack.models.features.deal import build_deal_table
from talktrack.models.features.deal_rows import deal_feature_rows
from tests.chat_world import imported_chat_world

WORLD = {"seed": 5, "reps": 6, "customers": 24, "deals": 60, "calls": 60, "audio": 0}


@pytest.fixture(scope="module")
def chat_world(tmp_path_factory, settings):
    """(settings, catalog path) of a world with calls, chats and e-mails, the chats analysed."""
    from talktrack.pipelines.semantic.chat_text import analyse_chats
    from talktrack.pipelines.semantic.moments import load_detector

    root = tmp_path_factory.mktemp("deal-chat-features")
    settings, workspace, catalog = imported_chat_world(root, settings, WORLD, chat_seed=7)
    analyse_chats(catalog, load_detector(settings, workspace))
    catalog.dispose()
    return settings, workspace.root / "catalog.db"


@pytest.fixture
def catalog(chat_world, tmp_path):
    """A private copy of the chat world's catalog (SQLite backup API: the WAL's pages come along)."""
    _, source_path = chat_world
    path = tmp_path / "catalog.db"
    source, target = sqlite3.connect(source_path), sqlite3.connect(path)
    source.backup(target)
    source.close(), target.close()
    catalog = open_catalog(f"sqlite:///{path}")
    yield catalog
    catalog.dispose()


def test_both_paths_give_every_deal_the_same_chat_features(chat_world, catalog):
    settings, _ = chat_world
    columns = list(chat_columns(settings.objection_keys))
    full = build_deal_table(catalog, settings)
    assert full.available["chats"] and full.available["calls"]
    chats = full.features[columns]
    print(f"\nchat world: {len(chats)} deals, {int((chats['chat__messages'] + chats['chat__emails']).gt(0).sum())} "
          f"with messages before the cut-off; column means:\n{chats.mean().round(3).to_string()}")
    assert chats["chat__messages"].gt(0).sum() > len(chats) // 3 and chats["chat__emails"].gt(0).any()
    assert chats.filter(like="chat__objections__").sum().sum() > 0
    assert chats["chat__customer_share"].dropna().between(0, 1).all()
    assert chats["chat__reply_latency_h"].dropna().ge(0).all() and chats["chat__days_since_customer"].dropna().ge(0).all()

    rows = deal_feature_rows(catalog, settings, list(full.features.index))
    for deal_id, row in rows.items():
        assert [row[c] for c in columns] == pytest.approx(list(full.features.loc[deal_id, columns]), nan_ok=True,
                                                          rel=0, abs=0)  # one definition: bit for bit
        want = full.features.loc[deal_id, list(row)].to_numpy(float)
        np.testing.assert_allclose(np.array(list(row.values())), want, rtol=1e-15, atol=0, equal_nan=True)
    deals = list(full.features.index)
    for start in range(0, len(deals), 25):   # the service's batch path: a few deals at a time
        part = build_deal_table(catalog, settings, deal_ids=deals[start:start + 25]).features
        pd.testing.assert_frame_equal(part[columns], full.features.loc[part.index, columns], check_exact=True)

    # the counts against the catalog, read another way
    with catalog.session() as session:
        pks = dict(session.execute(select(Deal.external_id, Deal.id)).tuples().all())
        for deal_id in deals[:20]:
            cutoff = full.meta.loc[deal_id, "cutoff"].to_pydatetime()
            counted = session.scalar(select(func.count()).select_from(ChatMessage).where(
                ChatMessage.deal_id == pks[deal_id], ChatMessage.channel == "chat", ChatMessage.sent_at < cutoff))
            assert full.features.loc[deal_id, "chat__messages"] == counted


def _closed_deal_with_chats(catalog) -> tuple[str, int, object]:
    with catalog.session() as session:
        return session.execute(
            select(Deal.external_id, Deal.id, Deal.closed_at).join(ChatMessage, ChatMessage.deal_id == Deal.id)
            .where(Deal.closed_at.is_not(None), ChatMessage.role == "customer", ChatMessage.sent_at < Deal.closed_at)
            .order_by(Deal.id).limit(1)).one()


def _message(deal_pk: int, sent_at, external_id: str) -> ChatMessage:
    return ChatMessage(external_id=external_id, channel="chat", msgtype="text", thread_key="test", deal_id=deal_pk,
                       role="customer", sender="test", sent_at=sent_at, text="Any news on the quote?", source="test")


def test_nothing_at_or_after_the_cutoff_counts(chat_world, catalog):
    settings, _ = chat_world
    deal_id, deal_pk, closed_at = _closed_deal_with_chats(catalog)

    def both():
        batch = build_deal_table(catalog, settings).features.loc[deal_id, list(BASE_COLUMNS)]
        row = deal_feature_rows(catalog, settings, [deal_id])[deal_id]
        assert [row[c] for c in BASE_COLUMNS] == pytest.approx(list(batch), nan_ok=True, rel=0, abs=0)
        return batch

    before = both()
    with catalog.session() as session:
        session.add_all([_message(deal_pk, closed_at, "late-1"), _message(deal_pk, closed_at + timedelta(days=3),
                                                                           "late-2")])
    pd.testing.assert_series_equal(both(), before)
    with catalog.session() as session:   # one a day before the close: it counts, and is the latest
        session.add(_message(deal_pk, closed_at - timedelta(days=1), "early-1"))
    after = both()
    assert after["chat__messages"] == before["chat__messages"] + 1
    assert after["chat__days_since_customer"] == pytest.approx(1.0)


def test_the_chat_reads_of_a_never_scored_deal_use_indexes(chat_world, catalog):
    from talktrack.core.catalog.plans import captured_statements, full_scans

    settings, _ = chat_world
    deal_id = _closed_deal_with_chats(catalog)[0]
    deal_feature_rows(catalog, settings, [deal_id])   # call rows built once first
    with captured_statements(catalog.engine) as statements:
        deal_feature_rows(catalog, settings, [deal_id])
    chat_reads = [s for s in statements if "chat_messages" in s.sql and "LIMIT" not in s.sql.upper()]
    assert len(chat_reads) == 2
    scans = full_scans(catalog.engine, chat_reads, {"chat_messages", "chat_utterances", "chat_moments"})
    assert not scans, "\n".join(f"{s.detail}  <-  {s.sql[:300]}" for s in scans)


def test_the_numpy_scorer_scores_chat_features_as_the_estimator_does(chat_world, catalog):
    """A logistic scorer fitted with the chat columns in use: the service's numpy view of it gives the
    never-scored rows the estimator's probabilities on the batch table."""
    from talktrack.models.customer_scorer import CustomerScorer
    from talktrack.models.scorer_vector import VectorScorer

    settings, _ = chat_world
    table = build_deal_table(catalog, settings)
    closed = table.meta["label"].notna().to_numpy()
    names = list(table.features.columns)
    scorer = CustomerScorer("logistic", calibration="sigmoid", cv=2, random_state=0).fit(
        table.features.to_numpy(float)[closed], table.meta["label"].to_numpy()[closed])
    assert scorer.usable_[[names.index(c) for c in chat_columns(settings.objection_keys)]].all()
    rows = deal_feature_rows(catalog, settings, list(table.features.index))
    X = np.array([[rows[d].get(name, 0.0) for name in names] for d in table.features.index])
    np.testing.assert_allclose(VectorScorer.of(scorer).proba(X),
                               scorer.predict_proba(table.features.to_numpy(float))[:, 1], rtol=0, atol=1e-9)


def test_a_world_without_chats_has_unknown_chat_columns_and_scores_as_before(semantic_workspace):
    from talktrack.training.customer_fit import scorer_for

    settings, _, catalog = semantic_workspace
    columns = list(chat_columns(settings.objection_keys))
    table = build_deal_table(catalog, settings)
    assert not table.available["chats"] and table.features[columns].isna().all(axis=None)
    some = list(table.features.index[:5])
    assert all(np.isnan(row[c]) for row in deal_feature_rows(catalog, settings, some).values() for c in columns)

    closed = table.meta["label"].notna().to_numpy()
    y = table.meta["label"].to_numpy()[closed]
    with_chats = scorer_for(settings, "logistic").fit(table.features.to_numpy(float)[closed], y)
    without = scorer_for(settings, "logistic").fit(table.features.drop(columns=columns).to_numpy(float)[closed], y)
    p_with = with_chats.predict_proba(table.features.to_numpy(float))[:, 1]
    p_without = without.predict_proba(table.features.drop(columns=columns).to_numpy(float))[:, 1]
    assert np.array_equal(p_with, p_without)   # the all-unknown chat columns are left out of the fit


def test_lineage_shows_chats_feeding_the_scorer():
    from talktrack.pipelines.management.lineage import lineage_graph

    graph = lineage_graph()
    assert ["chat_messages", "chat__reply_latency_h", "deal_scorer", "deal_win_probability"] in \
        graph.chains("chat_messages")
    assert {"chat_moments", "chat_messages", "deals.closed_at"} <= graph.upstream("chat__objections__price")
    assert "chat_moments" not in graph.upstream("chat__messages")


@pytest.mark.parametrize("signal", [True, False])
def test_training_keeps_the_chat_columns_only_when_they_earn_their_place(settings, signal):
    """On rolling folds: chat columns that carry the outcome are kept; pure noise is left out (as the
    generator's chats are: see ``talktrack eval chat-features``)."""
    from talktrack.training.customer import earned_columns

    rng = np.random.default_rng(0)
    n = 1200
    base, hidden = rng.normal(size=n), rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(base + 2 * hidden)))).astype(float)
    noise = rng.normal(size=(n, 6))
    features = pd.DataFrame({"base": base, "chat__messages": hidden if signal else noise[:, 0]}
                            | {f"chat__objections__{i}": noise[:, i] for i in range(1, 6)})
    month = np.repeat(np.arange(6), n // 6)
    folds = [(month < last, month == last) for last in range(2, 6)]
    columns, record = earned_columns(settings, features, y, folds)
    assert record["group__chats"] == ("kept" if signal else "left out")
    assert columns == (list(features.columns) if signal else ["base"])
