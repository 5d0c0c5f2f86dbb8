"""Chat summaries with truth: genuine ones whose specifics were said only in chat, and fakes.

Why planted messages: the generated threads carry few specifics (a budget that is also the CRM
amount, "a 15 min call"), so a summary of them would be verified by the deal record, not by the
chats. Here the customer *types* specifics into a thread of the world (how many sites and users,
a date for the next meeting, a colleague or tool by name), as extra rows of a plain chat export
sent inside that conversation's time; the genuine summary reports exactly those, and nothing of
them is in the CRM or any call. Three kinds of fake stand beside it:

- ``copy``: another customer's genuine summary handed in for this deal (later than the original);
- ``other_chat``: a summary written in other words from another customer's chat (their specifics);
- ``invented``: a summary of this deal's chat with specifics never said anywhere.

Written under ``out``: ``chats/planted.csv`` (with the address files, for ``import-chats``),
``crm/evidence.jsonl`` (kind ``chat_summary``, for the CRM import) and ``summary_truth.json``
(evidence id -> label, deal, language, planted message ids). The platform never reads the truth.

    >>> generate_chat_summaries(Path("world"), Path("world/chats"), Path("summaries"), seed=5)  # doctest: +SKIP
    {'planted messages': 96, 'genuine': 32, 'copy': 11, 'invented': 11, 'other_chat': 10}
"""

from __future__ import annotations

import csv
import json
import random
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from talktrack.evaluation.world_chats import TRUTH_FILE

SUMMARY_TRUTH = "summary_truth.json"
LABELS = ("genuine", "copy", "invented", "other_chat")
PEOPLE = ("contacts.csv", "rep_accounts.csv")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
FIRST_NAMES = ("Priya", "Marcus", "Elena", "Tobias", "Ingrid", "Rafael", "Keiko", "Dmitri", "Amara", "Henrik")
TOOLS = ("Netsuite", "Zendesk", "Workday", "Tableau", "Freshdesk", "Odoo", "Kingdee", "Yonyou")


@dataclass(frozen=True)
class Specifics:
    """What the customer typed: counts, a day, a name."""

    sites: int
    users: int
    day: datetime
    name: str

    def month_day(self, language: str) -> str:
        return f"{self.day.month}月{self.day.day}号" if language == "zh" else f"{MONTHS[self.day.month - 1]} {self.day.day}"


def generate_chat_summaries(world_dir: Path, chats_dir: Path, out: Path, *, seed: int,
                            max_threads: int = 40) -> dict[str, int]:
    """Plant specifics into up to ``max_threads`` chat threads of the world's deals and write the summaries."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; choose a new folder")
    truth = json.loads((Path(chats_dir) / TRUTH_FILE).read_text(encoding="utf-8"))
    phones = _phones(Path(chats_dir))
    rng = random.Random(seed)
    threads = [c for c in truth["conversations"] if c["deal_id"] and c["channel"] == "chat"
               and c["contact_id"] in phones and c["rep_id"] in phones and c["language"] in ("en", "zh")]
    rng.shuffle(threads)
    threads = _one_per_customer(threads)[:max_threads]
    rows, documents, labels, specifics = [], [], {}, []
    for number, thread in enumerate(threads, start=1):
        said = _specifics(rng, thread)
        specifics.append(said)
        rows += _planted_rows(thread, said, phones, number)
        ended = datetime.fromisoformat(thread["ended_at"]) + timedelta(minutes=10)
        evidence_id = f"CHS-{number:04d}"
        documents.append(_document(evidence_id, thread["deal_id"], ended + timedelta(hours=rng.randint(1, 20)),
                                   _summary(rng, thread["language"], said)))
        labels[evidence_id] = _label("genuine", thread, [r["id"] for r in rows[-3:]])
    documents += _fakes(rng, threads, specifics, documents, labels)
    _write(out, Path(chats_dir), rows, documents, labels)
    kinds = [label["label"] for label in labels.values()]
    return {"planted messages": len(rows), **{k: kinds.count(k) for k in LABELS}}


def _phones(chats_dir: Path) -> dict[str, str]:
    """Person id -> the phone a plain export names them by."""
    out = {}
    for name, key in (("contacts.csv", "contact_id"), ("rep_accounts.csv", "rep_id")):
        with open(chats_dir / name, encoding="utf-8") as handle:
            out.update({row[key]: row["phone"] for row in csv.DictReader(handle) if row.get("phone")})
    return out


def _one_per_customer(threads: list[dict]) -> list[dict]:
    """One planted thread per customer, so a copy's source and target never share a customer."""
    seen, kept = set(), []
    for thread in threads:
        if thread["customer_id"] not in seen:
            seen.add(thread["customer_id"])
            kept.append(thread)
    return kept


def _specifics(rng: random.Random, thread: dict) -> Specifics:
    day = datetime.fromisoformat(thread["ended_at"]) + timedelta(days=rng.randint(3, 20))
    return Specifics(rng.randint(11, 97), rng.randrange(120, 2400, 10), day,
                     rng.choice(FIRST_NAMES if thread["language"] == "en" else TOOLS))


def _planted_rows(thread: dict, said: Specifics, phones: dict[str, str], number: int) -> list[dict]:
    """Three customer messages inside the conversation's time (after its last message, within minutes)."""
    lang, at = thread["language"], datetime.fromisoformat(thread["ended_at"])
    if lang == "zh":
        texts = [f"补充一下，我们现在一共{said.sites}个门店，上线后大概{said.users}人会用",
                 f"{said.month_day(lang)}下午方便的话可以来现场看看",
                 f"之前一直用的是{said.name}，数据要能迁过来"]
    else:
        texts = [f"fyi we're at {said.sites} sites now, roughly {said.users} people would be on it",
                 f"could your team do an onsite on {said.month_day(lang)}? afternoons are better for us",
                 f"I'll loop in {said.name} from our IT side, they own the integration piece"]
    return [{"id": f"planted-{number:04d}-{i}", "time": (at + timedelta(minutes=2 + 3 * i)).isoformat() + "+00:00",
             "sender": phones[thread["contact_id"]], "receivers": phones[thread["rep_id"]], "text": text,
             "type": "text"} for i, text in enumerate(texts)]


def _summary(rng: random.Random, language: str, said: Specifics) -> str:
    """A rep's recap of the chat, in one of a few shapes (the verifier sees only the facts)."""
    return rng.choice(_shapes(language, said))


def _shapes(language: str, said: Specifics) -> list[str]:
    day = said.month_day(language)
    if language == "zh":
        shapes = [f"微信沟通纪要：客户目前{said.sites}个门店，预计{said.users}人使用；现用{said.name}，要求数据迁移。"
                  f"约了{day}去现场。",
                  f"企业微信跟进：对方有{said.sites}家门店、约{said.users}个用户，系统是{said.name}，{day}安排上门演示。",
                  f"聊天记录要点 - 门店{said.sites}个；使用人数约{said.users}；现有系统{said.name}；下次见面{day}。"]
    else:
        shapes = [f"WeCom recap: customer runs {said.sites} sites with about {said.users} users. Onsite proposed for "
                  f"{day}; {said.name} from IT will join for the integration.",
                  f"Chat summary - {said.sites} sites, ~{said.users} seats. {said.name} (IT) owns integration. "
                  f"Next: onsite visit {day}.",
                  f"Summary of our chat: they have {said.sites} locations and roughly {said.users} people who would "
                  f"use it. {said.name} handles IT. Agreed to meet onsite on {day}."]
    return shapes


def _fakes(rng: random.Random, threads: list[dict], specifics: list[Specifics], documents: list[dict],
           labels: dict) -> list[dict]:
    """Per genuine summary, in turn: a copy of it for the next customer's deal, invented specifics for its own
    deal, or the next customer's specifics in other words for its own deal."""
    fakes = []
    for i, (thread, original) in enumerate(zip(threads, list(documents), strict=True)):
        number = len(documents) + len(fakes) + 1
        evidence_id = f"CHS-{number:04d}"
        later = datetime.fromisoformat(original["submitted_at"]) + timedelta(hours=rng.randint(2, 48))
        other = next((j for j in [*range(i + 1, len(threads)), *range(i)]
                      if threads[j]["language"] == thread["language"]), None)
        if i % 3 == 0:
            if other is None:
                continue
            fakes.append(_document(evidence_id, threads[other]["deal_id"], later, original["text"]))
            labels[evidence_id] = _label("copy", threads[other], [], copy_of=original["evidence_id"])
        elif i % 3 == 2:
            if other is None:
                continue
            theirs = documents[other]["text"]
            text = rng.choice([t for t in _shapes(thread["language"], specifics[other]) if t != theirs])
            fakes.append(_document(evidence_id, thread["deal_id"], later, text))
            labels[evidence_id] = _label("other_chat", thread, [], copy_of=documents[other]["evidence_id"])
        else:
            invented = Specifics(rng.randint(11, 97), rng.randrange(2410, 4800, 10),
                                 datetime.fromisoformat(thread["ended_at"]) + timedelta(days=rng.randint(25, 60)),
                                 rng.choice(FIRST_NAMES if thread["language"] == "en" else TOOLS))
            text = _summary(rng, thread["language"], invented)
            fakes.append(_document(evidence_id, thread["deal_id"], later, text))
            labels[evidence_id] = _label("invented", thread, [])
    return fakes


def _document(evidence_id: str, deal_id: str, submitted_at: datetime, text: str) -> dict:
    return {"evidence_id": evidence_id, "deal_id": deal_id, "kind": "chat_summary", "progress_level": "communicated",
            "submitted_at": submitted_at.isoformat(timespec="seconds"), "title": "chat summary", "text": text}


def _label(label: str, thread: dict, planted: list[str], copy_of: str | None = None) -> dict:
    return {"label": label, "deal_id": thread["deal_id"], "customer_id": thread["customer_id"],
            "language": thread["language"], "conversation": thread["id"], "planted": planted, "copy_of": copy_of}


def _write(out: Path, chats_dir: Path, rows: list[dict], documents: list[dict], labels: dict) -> None:
    (out / "chats").mkdir(parents=True)
    (out / "crm").mkdir()
    for name in PEOPLE:
        shutil.copy(chats_dir / name, out / "chats" / name)
    with open(out / "chats" / "planted.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "time", "sender", "receivers", "text", "type"])
        writer.writeheader()
        writer.writerows(rows)
    with open(out / "crm" / "evidence.jsonl", "w", encoding="utf-8") as handle:
        for document in documents:
            handle.write(json.dumps(document, ensure_ascii=False) + "\n")
    (out / SUMMARY_TRUTH).write_text(json.dumps(labels, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                     encoding="utf-8")
