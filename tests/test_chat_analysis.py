"""Chats and e-mails through the call analysis (issue 19 item 2), on a real SQLite catalog: a generated
world's WeCom, CSV and e-mail exports imported, read into utterances, moments detected by the workspace's
detector, the utterance index built; then search by channel (pipeline, CLI and the live route), key-question
coverage of a deal counting chat messages, and an objection raised only in chats reaching mining."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import (
    Call,
    ChatConversation,
    ChatMessage,
    ChatMoment,
    ChatUtterance,
    Deal,
    Utterance,
)
from talktrack.core.workspace import Workspace
from talktrack.pipelines.semantic.chat_text import message_utterances
from tests.chat_world import imported_chat_world
from tests.serving_support import bearer

WORLD = {"seed": 5, "reps": 6, "customers": 24, "deals": 40, "calls": 0, "audio": 0}
CALL_ID = "CALL-CHATS-1"
CALL_LINES = [("rep", "Thanks for joining, shall we go through the rollout plan?"),
              ("customer", "Sure, our IT team wants to see the migration steps first.")]


@pytest.fixture(scope="module")
def world(tmp_path_factory, settings):
    """(workspace root, settings, chat truth, analysis summary) with CRM + chats imported, analysed, indexed."""
    from talktrack.pipelines.semantic.chat_text import analyse_chats
    from talktrack.pipelines.semantic.index import build_utterance_index
    from talktrack.pipelines.semantic.moments import load_detector

    root = tmp_path_factory.mktemp("chat-analysis")
    settings, workspace, catalog = imported_chat_world(root, settings, WORLD, chat_seed=7)
    _add_call(catalog)
    summary = analyse_chats(catalog, load_detector(settings, workspace))
    build_utterance_index(catalog, settings, workspace)
    catalog.dispose()
    truth = json.loads((root / "chats" / "chat_truth.json").read_text(encoding="utf-8"))
    return root / "ws", settings, truth, summary


def _add_call(catalog) -> None:
    """One transcribed call, so that a search has both channels to choose from."""
    with catalog.session() as session:
        deal = session.scalars(select(Deal).order_by(Deal.id)).first()
        call = Call(external_id=CALL_ID, deal_id=deal.id, rep_id=deal.rep_id, customer_id=deal.customer_id,
                    started_at=deal.created_at + timedelta(days=1), duration_s=20.0, stage=deal.stage,
                    status="imported")
        session.add(call)
        session.flush()
        for seq, (role, text) in enumerate(CALL_LINES):
            session.add(Utterance(call_id=call.id, seq=seq, speaker_label=role, role=role, start_s=seq * 5.0,
                                  end_s=seq * 5.0 + 4, text=text))


def _catalog(root):
    return open_catalog(Workspace.at(root).catalog_url)


def test_a_message_becomes_utterances():
    assert message_utterances("> Earlier: is it on sale?\n价格有点高，能再便宜点吗？", "chat", "text") == [
        ("chat", "价格有点高，能再便宜点吗？")]
    assert message_utterances("Can we do Friday?", "chat", "voice") == [("voice_note", "Can we do Friday?")]
    quoted = "Sounds good, send the contract.\n\nOn Mon, 3 May 2027 Ann Lee wrote:\n> What about pricing?"
    assert message_utterances(quoted, "email", "email") == [("email", "Sounds good, send the contract.")]
    long_mail = "Hi Ann, thanks for the call. " + "Our budget is fixed this year and the quote is above it. " * 8
    parts = message_utterances(long_mail, "email", "email")
    assert len(parts) == 9 and parts[0] == ("email", "Hi Ann, thanks for the call.")
    # mail lines without a full stop stay apart: joined, they read as one sentence that no moment fits
    assert message_utterances("Hi Ann,\n\nbudget is about 390k\n\nZenith quoted less", "email", "email") == [
        ("email", "Hi Ann,"), ("email", "budget is about 390k"), ("email", "Zenith quoted less")]
    assert message_utterances("   ", "chat", "file") == [] and message_utterances(None, "email", "email") == []


def test_every_message_with_words_is_read_once_with_its_sender_role(world):
    root, _, _, summary = world
    catalog = _catalog(root)
    with catalog.session() as session:
        messages = session.execute(select(ChatMessage.id, ChatMessage.role, ChatMessage.text)).all()
        utterances = session.execute(select(ChatUtterance.message_id, ChatUtterance.role)).all()
        moments = session.scalar(select(func.count()).select_from(ChatMoment))
    catalog.dispose()
    worded = {mid: role for mid, role, text in messages if text and text.strip()}
    assert {mid for mid, _ in utterances} <= set(worded) and len({mid for mid, _ in utterances}) >= 0.95 * len(worded)
    assert all(role == worded[mid] for mid, role in utterances)
    assert summary.utterances == len(utterances) and summary.moments == moments > 0


def test_a_second_run_does_nothing_and_a_new_message_redoes_its_thread(world):
    from talktrack.pipelines.semantic.chat_text import analyse_chats
    from talktrack.pipelines.semantic.moments import load_detector

    root, settings, _, _ = world
    detector = load_detector(settings, Workspace.at(root))
    catalog = _catalog(root)
    assert analyse_chats(catalog, detector).conversations_pending == 0
    with catalog.session() as session:
        conv = session.scalars(select(ChatConversation).order_by(ChatConversation.id)).first()
        conv.message_count += 1   # what the importer does when a re-import adds a message to the thread
    again = analyse_chats(catalog, detector)
    catalog.dispose()
    assert again.conversations_pending == 1 and again.utterances > 0


def _customer_chat_line(root) -> tuple[str, str]:
    """(text, conversation id) of a long customer chat message."""
    catalog = _catalog(root)
    with catalog.session() as session:
        text, conv = session.execute(
            select(ChatUtterance.text, ChatConversation.external_id)
            .join(ChatConversation, ChatConversation.id == ChatUtterance.conversation_id)
            .where(ChatUtterance.channel == "chat", ChatUtterance.role == "customer")
            .order_by(func.length(ChatUtterance.text).desc(), ChatUtterance.id)).first()
    catalog.dispose()
    return text, conv


def test_search_by_channel_finds_the_chat_message_and_the_call_filter_excludes_it(world):
    from talktrack.pipelines.semantic.index import UtteranceIndex

    root, settings, _, _ = world
    text, conv = _customer_chat_line(root)
    catalog = _catalog(root)
    index = UtteranceIndex(catalog, settings, Workspace.at(root))
    chat = index.search(text, 5, channel="chat")
    anywhere = index.search(text, 5)
    calls = index.search(text, 5, channel="call")
    mails = index.search(text, 5, channel="email")
    catalog.dispose()
    assert chat[0].text == text and chat[0].channel == "chat" and chat[0].call_id is None
    assert any(h.conversation_id == conv for h in chat if h.text == text) and chat[0].message_id and chat[0].sent_at
    assert anywhere[0].text == text
    assert [h.call_id for h in calls] == [CALL_ID] * len(CALL_LINES) and {h.channel for h in calls} == {"call"}
    assert mails and {h.channel for h in mails} == {"email"}
    with pytest.raises(ValueError, match="channel"):
        UtteranceIndex(_catalog(root), settings, Workspace.at(root)).search(text, 5, channel="fax")


def test_the_search_command_filters_by_channel(world):
    from talktrack.cli.main import app

    root, _, _, _ = world
    text, _ = _customer_chat_line(root)
    result = CliRunner().invoke(app, ["-w", str(root), "search", text, "--channel", "chat", "-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)["hits"]
    assert hits[0]["text"] == text and {h["channel"] for h in hits} == {"chat"}
    calls = CliRunner().invoke(app, ["-w", str(root), "search", text, "--channel", "call", "--json"])
    assert {h["channel"] for h in json.loads(calls.output)["hits"]} == {"call"}


def test_the_search_route_takes_a_channel(world):
    from talktrack.serving.app import create_app
    from talktrack.serving.keys import create_key
    from tests.serving_support import LiveServer, assert_error

    root, settings, _, _ = world
    text, _ = _customer_chat_line(root)
    catalog = _catalog(root)
    key = create_key(catalog, "admin")[0]
    catalog.dispose()
    with LiveServer(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=300) as http:
        chat = http.get("/v1/search", params={"q": text, "k": 3, "channel": "chat"}, headers=bearer(key))
        calls = http.get("/v1/search", params={"q": text, "k": 3, "channel": "call"}, headers=bearer(key))
        bad = http.get("/v1/search", params={"q": text, "channel": "fax"}, headers=bearer(key))
    assert chat.status_code == 200, chat.text
    body = chat.json()
    assert body["filters"]["channel"] == "chat" and body["hits"][0]["text"] == text
    assert {h["channel"] for h in body["hits"]} == {"chat"}
    assert {h["channel"] for h in calls.json()["hits"]} == {"call"}
    assert_error(bad, 422)


def test_deal_coverage_counts_a_key_question_covered_in_chats(world):
    """Every deal whose chats the truth says asked a key question of the conversation's stage: the deal's
    coverage names a chat or e-mail as where it was covered, and says how much was searched. Measured on
    this 40-deal world: the checker finds 0.84 of those (deal, question) pairs covered in a chat (26 of 31); the
    bound leaves room for another seed and fails when chats stop counting (0 without them). The first
    six such deals are checked (each deal's check embeds its conversations anew)."""
    from talktrack.pipelines.semantic.sop import deal_key_questions

    root, settings, truth, _ = world
    asked = {(c["deal_id"], kq["key"], c["stage"]) for c in truth["conversations"] if c["deal_id"]
             for kq in c["key_questions"]}
    deals = sorted({deal for deal, _, _ in asked})[:6]
    asked = {item for item in asked if item[0] in deals}
    catalog = _catalog(root)
    covered, reports = 0, {}
    for deal, key, stage in sorted(asked):
        report = reports.setdefault(deal, deal_key_questions(catalog, settings, Workspace.at(root), deal))
        rows = [row for s in report["stages"] if s["stage"] == stage for row in s["key_questions"]
                if row["key_question"] == key]
        covered += bool(rows and rows[0]["covered"] and rows[0]["channel"] in ("chat", "email"))
    with catalog.session() as session:
        counts = dict(session.execute(select(ChatConversation.channel, func.sum(ChatConversation.message_count))
                                      .join(Deal, Deal.id == ChatConversation.deal_id)
                                      .where(Deal.external_id == sorted(asked)[0][0])
                                      .group_by(ChatConversation.channel)).all())
        counts["call"] = session.scalar(select(func.count()).select_from(Call).join(Deal, Deal.id == Call.deal_id)
                                        .where(Deal.external_id == sorted(asked)[0][0]))
    catalog.dispose()
    first = reports[sorted(asked)[0][0]]
    print(f"key questions asked in chats and covered there: {covered}/{len(asked)}")
    assert covered >= 0.5 * len(asked), (covered, len(asked))
    assert first["searched"]["chat_messages"] == counts.get("chat", 0)
    assert first["searched"]["emails"] == counts.get("email", 0) and first["searched"]["calls"] == counts["call"]
    assert first["searched"]["text"].startswith("in ") and "message" in first["searched"]["text"] + "e-mail"


PRICE = "Honestly the price is well above what we budgeted for this year."
WON_ANSWER = "I hear you. We can split it into twelve monthly installments so it fits this year's budget."
LOST_ANSWER = "Ok, noted. I will get back to you."


def test_an_objection_raised_only_in_chats_reaches_the_mined_talk_tracks(world):
    """The world has no call about price at all: one chat per closed deal where the customer objects to the
    price and the rep of most won deals offers installments, of most lost ones does not (a perfect split
    leaves the rep-adjusted effect undefined). Mining reads chat episodes as call episodes, so the track is
    found (measured: support 15 deals, win rate 0.73 vs 0.17, z 2.3), and its exemplars point at the chats."""
    from talktrack.pipelines.mining import mine_talk_tracks
    from talktrack.pipelines.mining.mine import options_from_settings
    from talktrack.pipelines.semantic.chat_text import analyse_chats
    from talktrack.pipelines.semantic.moments import load_detector

    root, settings, _, _ = world
    catalog = _catalog(root)
    closed = _plant_price_chats(catalog)
    with catalog.session() as session:
        conversations = set(session.scalars(select(ChatConversation.external_id)))
    analyse_chats(catalog, load_detector(settings, Workspace.at(root)))
    report = mine_talk_tracks(catalog, settings, Workspace.at(root), save=False,
                              options=options_from_settings(settings, min_support_deals=4))
    catalog.dispose()
    price = next(t for t in report["objection_types"] if t["objection_type"] == "price")
    print({"closed deals planted": closed, "price episodes": price["episodes"],
           "tracks": [t["moves"] for t in price["tracks"]]})
    track = next(t for t in price["tracks"] if "offer_installments" in t["moves"])
    assert track["exemplars"] and {e["channel"] for e in track["exemplars"]} == {"chat"}
    assert {e["call_id"] for e in track["exemplars"]} <= conversations


def _plant_price_chats(catalog) -> int:
    with catalog.session() as session:
        deals = session.scalars(select(Deal).where(Deal.status.in_(("won", "lost"))).order_by(Deal.id)).all()
        seen = {"won": 0, "lost": 0}
        for deal in deals:
            installments = (deal.status == "won") != (seen[deal.status] % 4 == 3)
            seen[deal.status] += 1
            at = deal.created_at + timedelta(days=2)
            conv = ChatConversation(external_id=f"PLANT-{deal.external_id}", channel="chat",
                                    thread_key=f"plant:{deal.external_id}", deal_id=deal.id,
                                    customer_id=deal.customer_id, rep_id=deal.rep_id, stage=deal.stage,
                                    started_at=at, ended_at=at + timedelta(minutes=5), message_count=2)
            session.add(conv)
            session.flush()
            answer = WON_ANSWER if installments else LOST_ANSWER
            for n, (role, text) in enumerate((("customer", PRICE), ("rep", answer))):
                session.add(ChatMessage(external_id=f"plant-{deal.external_id}-{n}", channel="chat", msgtype="text",
                                        conversation_id=conv.id, thread_key=conv.thread_key, deal_id=deal.id,
                                        customer_id=deal.customer_id, rep_id=deal.rep_id, role=role,
                                        sender=role, sent_at=at + timedelta(minutes=n), stage=deal.stage, text=text,
                                        source="test"))
    return len(deals)
