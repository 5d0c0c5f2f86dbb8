"""Chat threads and e-mails for an already generated world (``talktrack world chats WORLD_DIR``).

A post-step that reads the world's reps, customers, contacts, deals and stage history, and writes what a
sales team's WeCom archive, exported chats and mailboxes would hold about those deals, in both languages,
with the truth an importer and the analysis are graded on (``chat_truth.json``: per conversation its
deal, contact, stage, channel, message ids, the objections raised and the key questions asked; the
revoked messages; the participants no address file lists). The platform never reads the truth.

    >>> summary = generate_chats(Path("world"), Path("world/chats"), seed=11, voice=0,
    ...                          stage_questions={"lead": ("need_trigger",)}, gap_h=12.0)   # doctest: +SKIP
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from talktrack.evaluation.world_chats.accounts import contact_accounts, rep_accounts
from talktrack.evaluation.world_chats.compose import Conversation, compose
from talktrack.evaluation.world_chats.world import read_world
from talktrack.evaluation.world_chats.writers import write_emails, write_people, write_plain, write_wecom

TRUTH_FILE = "chat_truth.json"


def generate_chats(world_dir: Path, out: Path, *, seed: int, voice: int,
                   stage_questions: dict[str, tuple[str, ...]], gap_h: float) -> dict[str, int]:
    """Write the exports and their truth under ``out`` (which must be new or empty); counts written."""
    world = read_world(Path(world_dir))
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; choose a new --out")
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    reps, contacts = rep_accounts(world, rng), contact_accounts(world, rng)
    conversations = compose(world, reps, contacts, stage_questions, rng, gap_h, voice)
    by_format = {fmt: [c for c in conversations if c.fmt == fmt] for fmt in ("wecom", "csv", "email")}
    write_people(out, reps, contacts)
    counts = {
        "conversations": len(conversations),
        "wecom messages": write_wecom(out / "wecom", by_format["wecom"]),
        "chat rows": write_plain(out / "plain", by_format["csv"]),
        "e-mails": write_emails(out / "email", by_format["email"]),
        "voice messages": sum(line.kind == "voice" for c in conversations for line in c.lines),
    }
    truth = {"seed": seed, "gap_h": gap_h, "conversations": [_truth(c) for c in conversations],
             "revoked": sorted(line.revokes for c in conversations for line in c.lines if line.revokes),
             "unmapped": sorted({c.colleague for c in conversations if c.colleague})}
    (out / TRUTH_FILE).write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                  encoding="utf-8")
    return counts


def _truth(conv: Conversation) -> dict:
    kept = conv.kept()
    return {
        "id": conv.conv_id, "format": conv.fmt, "channel": conv.channel, "language": conv.language,
        "deal_id": conv.deal.deal_id, "customer_id": conv.deal.customer_id, "contact_id": conv.contact.person_id,
        "rep_id": conv.rep.person_id, "stage": conv.stage, "room_id": conv.room_id,
        "started_at": kept[0].at.isoformat(), "ended_at": kept[-1].at.isoformat(),
        "message_ids": [line.msg_id for line in kept],
        "objections": [{"type": label, "message_id": line.msg_id} for line in kept
                       for kind, label in line.topics if kind == "objection"],
        "key_questions": [{"key": label, "message_id": line.msg_id} for line in kept
                          for kind, label in line.topics if kind == "key_question"],
        "voice": [{"message_id": line.msg_id, "text": line.text} for line in kept if line.kind == "voice"],
        "files": [line.msg_id for line in kept if line.file_name],
    }
