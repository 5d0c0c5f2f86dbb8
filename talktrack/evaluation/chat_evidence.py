"""Chat summaries verified against chats: graded on a generated world's truth and on hand-written real-style cases.

A chat summary (evidence kind ``chat_summary``, level "communicated") is authentic when its specifics
are this customer's chat or e-mail messages; a copy of another customer's summary, or one with
specifics never said, is not. Two materials:

- **generated** (:func:`evaluate_world_summaries`): a world's CRM and chats imported into a fresh
  workspace, then :mod:`talktrack.evaluation.world_chats.summaries`' planted messages and summaries;
- **real-style** (:func:`evaluate_real_summaries`): ``real_phrasing/chat_summaries.yaml``, each case a
  customer's chat (as people type it) and a summary handed in for it, labelled by the writer; cases
  become catalog rows directly (a customer, a deal, one conversation, its messages, the summary).

"Flagged" is any verdict but authentic. Precision and recall are of flagging fakes; ``genuine_passed``
is the share of genuine summaries verified authentic, ``chat_passages`` the share of those whose
matched facts name a chat or e-mail message. Nothing was tuned on either material's test split.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import ChatConversation, ChatMessage, Customer, Deal, EvidenceDocument, Rep, Team
from talktrack.core.workspace import Workspace
from talktrack.evaluation.real_phrasing import load
from talktrack.evaluation.world_chats.summaries import SUMMARY_TRUTH
from talktrack.pipelines.chat_import import import_chats
from talktrack.pipelines.crm_import import import_directory
from talktrack.pipelines.semantic.evidence import check_row, open_verifier

REAL_SET = "chat_summaries"
REAL_START = datetime(2026, 3, 2, 9, 0)


def evaluate_chat_summaries(world_dir: Path, settings, workdir: Path, *, chat_seed: int = 11,
                            summary_seed: int = 5, max_threads: int = 40) -> dict:
    """``talktrack eval chat-summaries``: chats written for the world, summaries planted, both materials graded."""
    from talktrack.evaluation.world_chats import generate_chats
    from talktrack.evaluation.world_chats.summaries import generate_chat_summaries

    workdir = Path(workdir)
    chats, summaries = workdir / "chats", workdir / "summaries"
    generate_chats(Path(world_dir), chats, seed=chat_seed, voice=0, gap_h=settings.import_.chat_gap_h,
                   stage_questions={stage.key: tuple(stage.key_questions) for stage in settings.stages})
    planted = generate_chat_summaries(Path(world_dir), chats, summaries, seed=summary_seed, max_threads=max_threads)
    return {"generated": evaluate_world_summaries(world_dir, chats, summaries, settings, workdir / "ws"),
            "planted": planted, "real_style": evaluate_real_summaries(settings, workdir / "real"),
            "seeds": {"chats": chat_seed, "summaries": summary_seed}, "options": settings.semantic.evidence.model_dump()}


def evaluate_world_summaries(world_dir: Path, chats_dir: Path, summaries_dir: Path, settings, workdir: Path) -> dict:
    """Import the world, its chats and the planted summaries into ``workdir`` (new), verify, grade."""
    settings = settings.model_copy(update={"workspace": Path(workdir)})
    workspace = Workspace.at(Path(workdir)).ensure()
    catalog = open_catalog(workspace.catalog_url)
    try:
        import_directory(catalog, settings, Path(world_dir))
        import_chats(catalog, settings, Path(chats_dir), files_dir=Path(workdir) / "files")
        import_chats(catalog, settings, Path(summaries_dir) / "chats", files_dir=Path(workdir) / "files")
        import_directory(catalog, settings, Path(summaries_dir) / "crm")
        truth = json.loads((Path(summaries_dir) / SUMMARY_TRUTH).read_text(encoding="utf-8"))
        verdicts = _verdicts(catalog, settings, workspace, set(truth))
    finally:
        catalog.dispose()
    return grade([(truth[e], verdicts[e]) for e in sorted(truth) if e in verdicts])


def evaluate_real_summaries(settings, workdir: Path) -> dict:
    """The hand-written cases, per split."""
    items = load(REAL_SET)
    settings = settings.model_copy(update={"workspace": Path(workdir)})
    workspace = Workspace.at(Path(workdir)).ensure()
    catalog = open_catalog(workspace.catalog_url)
    try:
        _store_real_cases(catalog, items)
        verdicts = _verdicts(catalog, settings, workspace, {f"RS-{item['id']}" for item in items})
    finally:
        catalog.dispose()
    out = {}
    for split in ("dev", "test"):
        rows = [({"label": item["label"], "language": item["lang"]}, verdicts[f"RS-{item['id']}"])
                for item in items if item["split"] == split]
        out[split] = grade(rows) | {"misjudged": [item["id"] for item in items if item["split"] == split
                                                  and _wrong(item["label"], verdicts[f"RS-{item['id']}"])]}
    return out


def _verdicts(catalog, settings, workspace, wanted: set[str]) -> dict:
    verifier = open_verifier(catalog, settings, workspace)
    return {e: check_row(verifier, row) for e, row in verifier.rows.items() if e in wanted}


def _wrong(label: str, verdict) -> bool:
    return (verdict.verdict == "authentic") != (label == "genuine")


def grade(rows: list[tuple[dict, object]]) -> dict:
    """``rows``: (truth with ``label`` genuine|copy|other_chat|invented and ``language``, verdict)."""
    def block(selected) -> dict:
        fakes = [v for t, v in selected if t["label"] != "genuine"]
        genuine = [v for t, v in selected if t["label"] == "genuine"]
        flagged_fakes = sum(v.verdict != "authentic" for v in fakes)
        flagged = flagged_fakes + sum(v.verdict != "authentic" for v in genuine)
        passed = [v for v in genuine if v.verdict == "authentic"]
        by_label = defaultdict(lambda: defaultdict(int))
        for t, v in selected:
            by_label[t["label"]][v.verdict] += 1
        return {"n": len(selected), "fakes": len(fakes), "genuine": len(genuine),
                "precision": round(flagged_fakes / flagged, 4) if flagged else None,
                "recall": round(flagged_fakes / len(fakes), 4) if fakes else None,
                "genuine_passed": round(len(passed) / len(genuine), 4) if genuine else None,
                "chat_passages": round(sum(_names_a_message(v) for v in passed) / len(passed), 4) if passed else None,
                "verdicts": {label: dict(counts) for label, counts in sorted(by_label.items())}}

    languages = sorted({t["language"] for t, _ in rows})
    return {"all": block(rows)} | {lang: block([(t, v) for t, v in rows if t["language"] == lang])
                                   for lang in languages}


def _names_a_message(verdict) -> bool:
    return any(p.source in ("chat", "email") for m in verdict.matched_facts for p in m.passages)


def _store_real_cases(catalog, items: list[dict]) -> None:
    """One customer, deal and chat conversation per case; its summary submitted after the chat. A copy
    case's ``copy_of`` names the case whose summary was handed in first (so its text is indexed earlier)."""
    with catalog.session() as session:
        team = Team(external_id="T-REAL", name="real-style cases")
        session.add(team)
        session.flush()
        rep = Rep(external_id="R-REAL", name="Rep", team_id=team.id)
        session.add(rep)
        session.flush()
        for number, item in enumerate(items):
            start = REAL_START + timedelta(days=2 * number)
            customer = Customer(external_id=f"C-{item['id']}", name=item["customer"],
                                language="zh" if item["lang"] == "zh" else "en")
            session.add(customer)
            session.flush()
            deal = Deal(external_id=f"D-{item['id']}", customer_id=customer.id, rep_id=rep.id, created_at=start,
                        stage="qualification")
            session.add(deal)
            session.flush()
            _store_chat(session, item, customer.id, deal.id, rep.id, start)
            late = 24 if item.get("copy_of") else 2   # a copy comes after its source
            session.add(EvidenceDocument(external_id=f"RS-{item['id']}", deal_id=deal.id, kind="chat_summary",
                                         progress_level="communicated", title="chat summary", text=item["summary"],
                                         submitted_at=start + timedelta(hours=late)))


def _store_chat(session, item: dict, customer_pk: int, deal_pk: int, rep_pk: int, start: datetime) -> None:
    lines = item.get("chat") or []
    conversation = ChatConversation(external_id=f"RC-{item['id']}", channel="chat", thread_key=item["id"],
                                    deal_id=deal_pk, customer_id=customer_pk, rep_id=rep_pk, stage="qualification",
                                    started_at=start, ended_at=start + timedelta(minutes=5 * len(lines)),
                                    message_count=len(lines), language=customer_language(item))
    session.add(conversation)
    session.flush()
    for seq, (role, text) in enumerate(lines):   # each line: [rep|customer, what they typed]
        session.add(ChatMessage(external_id=f"RM-{item['id']}-{seq}", channel="chat", msgtype="text",
                                conversation_id=conversation.id, thread_key=item["id"], deal_id=deal_pk,
                                customer_id=customer_pk, rep_id=rep_pk, role=role, sender=role,
                                sent_at=start + timedelta(minutes=5 * seq), stage="qualification",
                                text=str(text), language=customer_language(item), source=REAL_SET))


def customer_language(item: dict) -> str:
    return "zh" if item["lang"] in ("zh", "mixed") else "en"
