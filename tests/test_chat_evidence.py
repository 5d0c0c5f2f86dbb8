"""Chats in evidence verification and in the conversations view (issue 19 items 2, 3, 6), on one small generated
world with its chats imported (tests/chat_world.py), specifics planted in some threads with a chat summary of
each plus fakes (talktrack/evaluation/world_chats/summaries.py), and one real voice message (the JFK clip of
../shared/data, AMR-encoded as WeCom sends it) imported, transcribed by Whisper, analysed and indexed."""

from __future__ import annotations

import csv
import json
import subprocess
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import ChatConversation, ChatMessage, ChatMoment, Deal
from talktrack.core.workspace import Workspace
from tests.chat_world import imported_chat_world

WORLD = {"seed": 3, "reps": 6, "customers": 20, "deals": 30, "calls": 0, "audio": 0}
JFK = Path(__file__).resolve().parents[2] / "shared" / "data" / "asr_en" / "whisper_jfk" / "jfk.flac"
VOICE_ID = "voice-jfk-1"


@pytest.fixture(scope="module")
def world(tmp_path_factory, settings):
    """(workspace root, settings, summary truth, voice deal id) with CRM, chats, planted summaries and the voice
    message imported, chats analysed and the utterance index built."""
    from talktrack.evaluation.world_chats.summaries import SUMMARY_TRUTH, generate_chat_summaries
    from talktrack.pipelines.chat_import import import_chats
    from talktrack.pipelines.crm_import import import_directory
    from talktrack.pipelines.semantic.chat_text import analyse_chats
    from talktrack.pipelines.semantic.index import build_utterance_index
    from talktrack.pipelines.semantic.moments import load_detector

    if not JFK.is_file():
        pytest.skip(f"{JFK} is missing (../shared/data)")
    root = tmp_path_factory.mktemp("chat-evidence")
    settings, workspace, catalog = imported_chat_world(root, settings, WORLD, chat_seed=11)
    generate_chat_summaries(root / "world", root / "chats", root / "summaries", seed=5, max_threads=8)
    import_chats(catalog, settings, root / "summaries" / "chats", files_dir=root / "files")
    assert import_directory(catalog, settings, root / "summaries" / "crm").problems == []
    voice_deal = _voice_message(root, catalog, settings)
    analyse_chats(catalog, load_detector(settings, workspace))
    build_utterance_index(catalog, settings, workspace)
    catalog.dispose()
    truth = json.loads((root / "summaries" / SUMMARY_TRUTH).read_text(encoding="utf-8"))
    return root / "ws", settings, truth, voice_deal


def _voice_message(root: Path, catalog, settings) -> str:
    """A real recording sent as a WeCom voice message by an English-speaking contact, an hour after that
    contact's last chat; returns the deal of that chat."""
    from talktrack.evaluation.world_chats.voice import encode_amr
    from talktrack.pipelines.chat_import import import_chats

    truth = json.loads((root / "chats" / "chat_truth.json").read_text(encoding="utf-8"))
    wecom = {row["contact_id"]: row["wecom_id"] for row in _rows(root / "chats" / "contacts.csv")}
    reps = {row["rep_id"]: row["wecom_id"] for row in _rows(root / "chats" / "rep_accounts.csv")}
    thread = max((c for c in truth["conversations"] if c["language"] == "en" and c["format"] == "wecom"
                  and c["deal_id"] and not c["room_id"]), key=lambda c: c["ended_at"])
    pcm = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(JFK), "-ac", "1", "-ar", "8000",
                          "-f", "s16le", "-"], check=True, capture_output=True).stdout
    folder = root / "voice"
    (folder / "media").mkdir(parents=True)
    (folder / "media" / "jfk.amr").write_bytes(encode_amr(np.frombuffer(pcm, dtype="<i2")))
    sent = datetime.fromisoformat(thread["ended_at"]) + timedelta(hours=1)
    line = {"msgid": VOICE_ID, "action": "send", "from": wecom[thread["contact_id"]], "tolist": [reps[thread["rep_id"]]],
            "roomid": "", "msgtime": int((sent - datetime(1970, 1, 1)).total_seconds() * 1000), "msgtype": "voice",
            "voice": {"md5sum": "jfk", "voice_size": 1, "play_length": 11}}
    (folder / "voice.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    report = import_chats(catalog, settings, folder, files_dir=root / "files")
    assert report.problems == [] and report.totals()["imported"] == 1, report.to_dict()
    return thread["deal_id"]


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _catalog(root):
    return open_catalog(Workspace.at(root).catalog_url)


@pytest.fixture(scope="module")
def verdicts(world):
    """Every planted summary checked once: evidence id -> verdict."""
    from talktrack.pipelines.semantic.evidence import check_row, open_verifier

    root, settings, truth, _ = world
    catalog = _catalog(root)
    verifier = open_verifier(catalog, settings, Workspace.at(root))
    out = {e: check_row(verifier, row) for e, row in verifier.rows.items() if e in truth}
    catalog.dispose()
    return out


# --- evidence ---------------------------------------------------------------------------------

def test_a_chat_summary_is_verified_by_the_messages_it_summarises(world, verdicts):
    """Its specifics were typed only in chat (nothing in the CRM, no calls): authentic, the passages name
    the planted messages with the time they were sent. Measured here: 8/8 genuine authentic."""
    root, _, truth, _ = world
    catalog = _catalog(root)
    with catalog.session() as session:
        sent = dict(session.execute(select(ChatMessage.external_id, ChatMessage.sent_at)
                                    .where(ChatMessage.external_id.like("planted-%"))).all())
    catalog.dispose()
    genuine = [e for e, t in truth.items() if t["label"] == "genuine"]
    assert len(genuine) >= 6 and all(verdicts[e].verdict == "authentic" for e in genuine), \
        {e: (verdicts[e].verdict, verdicts[e].unmatched_facts) for e in genuine}
    for evidence_id in genuine:
        passages = [p for m in verdicts[evidence_id].matched_facts for p in m.passages if p.source == "chat"]
        assert {p.ref for p in passages} & set(truth[evidence_id]["planted"]), evidence_id
        assert all(p.at == sent[p.ref] and p.deal == truth[evidence_id]["deal_id"]
                   for p in passages if p.ref in sent)


def test_another_customers_summary_or_invented_figures_are_not_authentic(verdicts, world):
    """Copies are named with their source; specifics invented or taken from another customer's chat are listed
    as never said."""
    _, _, truth, _ = world
    assert {label["label"] for label in truth.values()} == {"genuine", "copy", "invented", "other_chat"}
    for evidence_id, label in truth.items():
        verdict = verdicts[evidence_id]
        if label["label"] == "copy":
            assert verdict.verdict == "fabricated" and verdict.copy_of == label["copy_of"], evidence_id
        elif label["label"] != "genuine":   # invented, or another customer's chat in other words
            assert verdict.verdict != "authentic" and verdict.unmatched_facts, evidence_id


def test_a_verified_chat_summary_backs_communicated_and_a_late_one_says_no_chat(world, settings):
    from talktrack.pipelines.semantic.evidence import verify_deal, verify_evidence

    root, settings, truth, _ = world
    deal = next(t["deal_id"] for t in truth.values() if t["label"] == "genuine")
    catalog = _catalog(root)
    report = verify_deal(catalog, settings, Workspace.at(root), deal)
    communicated = next(level for level in report.levels if level["level"] == "communicated")
    assert communicated["status"] == "backed" and "chat_summary" in communicated["evidence_kinds"]
    text = next(i for i in report.items if i.kind == "chat_summary" and i.verdict == "authentic")
    late = verify_evidence(catalog, settings, Workspace.at(root), deal, text=_text(catalog, text.evidence_id),
                           kind="chat_summary", exclude_evidence_id=text.evidence_id,
                           submitted_at=datetime(2031, 1, 1))
    catalog.dispose()
    reason = next(r for r in late.reasons if r.code == "no_call_nearby")
    assert "no call or chat within" in reason.message and reason.passages[0].source == "chat"


def _text(catalog, evidence_id: str) -> str:
    from talktrack.core.catalog.schema import EvidenceDocument

    with catalog.session() as session:
        return session.scalar(select(EvidenceDocument.text).where(EvidenceDocument.external_id == evidence_id))


def test_a_reader_sees_only_this_deals_chat_passages(verdicts, world):
    _, _, truth, _ = world
    genuine = next(e for e, t in truth.items() if t["label"] == "genuine")
    verdict = verdicts[genuine]
    shown = verdict.redacted(set(), set())
    kept = [p for m in shown.matched_facts for p in m.passages]
    assert kept and all(p.deal == verdict.deal_id for p in kept if p.source == "chat")
    other = replace(verdict, deal_id="DEAL-ELSEWHERE").redacted(set(), set())
    assert not [p for m in other.matched_facts for p in m.passages if p.source == "chat"]
    assert all("deal_id" in p.to_dict() for m in verdict.matched_facts for p in m.passages if p.source == "chat")


def test_the_real_style_set_is_well_formed():
    from talktrack.evaluation.real_phrasing import load

    items = load("chat_summaries")
    ids = {item["id"] for item in items}
    assert {item["label"] for item in items} == {"genuine", "copy", "invented"}
    assert all(item["copy_of"] in ids for item in items if item.get("copy_of"))
    assert 0.3 <= sum(item["split"] == "test" for item in items) / len(items) <= 0.5


# --- conversations ----------------------------------------------------------------------------

def test_conversations_read_the_stored_chat_moments_without_a_detector(world, settings):
    """An analysed thread's objections come from chat_moments: with no detector at all, every stored objection
    of the customer's conversations is found, each passage from a stored moment."""
    from talktrack.pipelines.conversations import TopicModels, topic_in_conversations

    root, settings, _, _ = world
    catalog = _catalog(root)
    with catalog.session() as session:
        deal_id, label = session.execute(
            select(Deal.external_id, ChatMoment.label).join(ChatConversation, ChatConversation.id == ChatMoment.conversation_id)
            .join(Deal, Deal.id == ChatConversation.deal_id).where(ChatMoment.kind == "objection")
            .order_by(ChatMoment.id)).first()
    answer = topic_in_conversations(catalog, settings, deal_id, f"objection:{label}", last=50, models=TopicModels())
    catalog.dispose()
    passages = [p for c in answer["conversations"] for p in c["passages"]]
    assert answer["found_in"] >= 1 and passages
    assert {p["source"] for p in passages} == {"stored_moment"} and all(c["analysed"] for c in answer["conversations"])


def test_a_voice_message_is_transcribed_found_by_channel_and_listed(world):
    from talktrack.pipelines.conversations import TopicModels, topic_in_conversations
    from talktrack.pipelines.semantic.index import UtteranceIndex
    from talktrack.pipelines.semantic.moments import moment_embedder

    root, settings, _, deal = world
    catalog = _catalog(root)
    with catalog.session() as session:
        text, channel = session.execute(select(ChatMessage.text, ChatMessage.msgtype)
                                        .where(ChatMessage.external_id == VOICE_ID)).one()
    assert channel == "voice" and "country" in text.lower(), text
    hits = UtteranceIndex(catalog, settings, Workspace.at(root)).search("ask what you can do for your country", 3,
                                                                        channel="voice_note")
    assert hits and hits[0].message_id == VOICE_ID and {h.channel for h in hits} == {"voice_note"}
    listed = topic_in_conversations(catalog, settings, deal, None, last=1, models=TopicModels())["conversations"][0]
    assert "voice_note" in listed["channels"] and listed["voice_messages"] == 1
    asked = topic_in_conversations(catalog, settings, deal, "text: what you can do for your country", last=1,
                                   models=TopicModels(embedder=moment_embedder(settings, Workspace.at(root))))
    catalog.dispose()
    passage = asked["conversations"][0]["passages"][0]
    assert passage["channel"] == "voice_note" and passage["message_id"] == VOICE_ID and passage["kind"] == "voice"


def test_a_new_chat_message_makes_a_kept_verifiers_facts_stale(world):
    """The service keeps one verifier and drops its cached facts when the catalog's conversations change:
    a chat message imported after it was built must count, as a call does."""
    from talktrack.pipelines.semantic.evidence import catalog_stamp

    root, _, _, _ = world
    catalog = _catalog(root)
    before = catalog_stamp(catalog)
    with catalog.session() as session:
        session.add(ChatMessage(external_id="stamp-check", channel="chat", msgtype="text", thread_key="stamp",
                                role="customer", sender="someone", sent_at=datetime(2026, 1, 1), text="hello",
                                source="test"))
    after = catalog_stamp(catalog)
    with catalog.session() as session:
        session.delete(session.scalars(select(ChatMessage).where(ChatMessage.external_id == "stamp-check")).one())
    catalog.dispose()
    assert after[0] == before[0] and after[1] != before[1]
