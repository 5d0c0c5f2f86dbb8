"""Chat threads and e-mail exchanges for each deal of a world, with the truth of what each covers.

A deal gets one to three threads, each with one contact on one channel (a WeCom chat, a plain-exported
chat, or e-mail), and each thread one to three conversations at least ``2 x gap + 6 h`` apart, inside the
deal's open period and on working hours. A conversation raises up to two topics: an objection the customer
brings up (the rep answers) or a key question of the deal's current stage the rep asks (the customer
replies). Some messages are taken back (a revoke follows), some are files, some customer objections are
sent as voice, and some WeCom threads are group rooms with a customer colleague nobody registered.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from talktrack.evaluation.world_chats import phrases
from talktrack.evaluation.world_chats.accounts import Account, external_userid
from talktrack.evaluation.world_chats.world import World, WorldDeal

EPOCH = datetime(1970, 1, 1)
FORMATS = (("wecom", 0.55), ("csv", 0.25), ("email", 0.20))
CHANNEL = {"wecom": "chat", "csv": "chat", "email": "email"}
WORK_HOURS_UTC = {"zh": (1, 9), "en": (13, 21)}  # 09:00-17:00 at UTC+8 / about US working hours
FILES = {"en": ["proposal_v2.txt", "roi_estimate.csv", "meeting_notes.txt"],
         "zh": ["方案v2.txt", "ROI测算.csv", "会议纪要.txt"]}


@dataclass
class Line:
    msg_id: str
    role: str  # rep | customer | colleague
    text: str
    at: datetime  # naive UTC
    kind: str = "text"  # text | voice | file | revoke
    revokes: str | None = None
    file_name: str | None = None
    topics: list[tuple[str, str]] = field(default_factory=list)  # ("objection", type) | ("key_question", key)


@dataclass
class Conversation:
    conv_id: str
    fmt: str  # wecom | csv | email
    deal: WorldDeal
    contact: Account
    rep: Account
    language: str
    stage: str
    lines: list[Line] = field(default_factory=list)
    room_id: str | None = None
    colleague: str | None = None  # a participant no address file lists

    @property
    def channel(self) -> str:
        return CHANNEL[self.fmt]

    def kept(self) -> list[Line]:
        """The lines an importer should keep: not revoke messages, not the messages they take back."""
        revoked = {line.revokes for line in self.lines if line.revokes}
        return [line for line in self.lines if line.kind != "revoke" and line.msg_id not in revoked]


def compose(world: World, reps: dict[str, Account], contacts: dict[str, list[Account]],
            stage_questions: dict[str, tuple[str, ...]], rng: random.Random, gap_h: float,
            voice: int) -> list[Conversation]:
    writer = _Writer(rng, stage_questions, voice)
    conversations: list[Conversation] = []
    for deal in world.deals:
        customer = world.customers[deal.customer_id]
        language = customer.language if customer.language in ("en", "zh") else "en"
        used: set[tuple[str, str]] = set()
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            fmt = rng.choices([name for name, _ in FORMATS], [weight for _, weight in FORMATS])[0]
            contact = rng.choice(contacts[deal.customer_id])
            if (CHANNEL[fmt], contact.person_id) in used:
                continue
            used.add((CHANNEL[fmt], contact.person_id))
            room = rng.random() < 0.25 and fmt == "wecom"
            for start in _starts(deal, rng.choice((1, 1, 2, 3)), rng, gap_h, language):
                conversation = Conversation(
                    f"CONV-{len(conversations) + 1:05d}", fmt, deal, contact, reps[deal.rep_id], language,
                    deal.stage_at(start), room_id=f"wr{rng.getrandbits(64):016x}" if room else None,
                    colleague=external_userid(rng) if room else None,
                )
                writer.fill(conversation, start, customer.slots)
                if fmt == "email":
                    conversation.lines = _as_mails(conversation.lines)
                conversations.append(conversation)
    return conversations


def _starts(deal: WorldDeal, count: int, rng: random.Random, gap_h: float, language: str) -> list[datetime]:
    """Conversation start times inside the deal's open period, on working hours, far enough apart."""
    earliest, latest = deal.created_at + timedelta(hours=1), deal.ends_at - timedelta(hours=4)
    if latest <= earliest:
        return []
    spacing = timedelta(hours=2 * gap_h + 6)
    first_hour, last_hour = WORK_HOURS_UTC[language]
    chosen: list[datetime] = []
    for _ in range(count * 6):
        day = earliest + (latest - earliest) * rng.random()
        start = day.replace(hour=rng.randint(first_hour, last_hour), minute=rng.randint(0, 59), second=0,
                            microsecond=0)
        if earliest <= start <= latest and all(abs(start - other) > spacing for other in chosen):
            chosen.append(start)
        if len(chosen) == count:
            break
    return sorted(chosen)


class _Writer:
    """Fills one conversation's lines from the phrase tables."""

    def __init__(self, rng: random.Random, stage_questions: dict[str, tuple[str, ...]], voice: int) -> None:
        self.rng, self.stage_questions, self.voice_left = rng, stage_questions, voice

    def fill(self, conv: Conversation, start: datetime, slots: dict[str, str]) -> None:
        rng, lang = self.rng, conv.language
        values = defaultdict(str, slots, first=conv.contact.first, rep=conv.rep.first, product=conv.deal.title)
        self.clock, self.conv, self.values = start, conv, values
        initiator = "rep" if rng.random() < 0.7 else "customer"
        other = "customer" if initiator == "rep" else "rep"
        self._say(initiator, rng.choice(phrases.OPENERS[lang][initiator]))
        if rng.random() < 0.5:
            self._say(other, rng.choice(phrases.FILLERS[lang]))
        for topic in self._topics(conv):
            self._topic(topic)
        if conv.colleague and rng.random() < 0.8:
            self._say("colleague", rng.choice(phrases.FILLERS[lang]))
        if conv.fmt != "email" and rng.random() < 0.2:
            self._mistake(rng.choice(("rep", "customer")))
        if rng.random() < 0.2:
            self._say("rep", rng.choice(FILES[lang]), kind="file")
        self._say(other, rng.choice(phrases.CLOSERS[lang][other]))
        if rng.random() < 0.5:
            self._say(initiator, rng.choice(phrases.CLOSERS[lang][initiator]))

    def _topics(self, conv: Conversation) -> list[tuple[str, str]]:
        rng = self.rng
        objections = [("objection", kind) for kind in phrases.OBJECTIONS[conv.language]]
        questions = [("key_question", key) for key in self.stage_questions.get(conv.stage, ())
                     if key in phrases.QUESTIONS[conv.language]]
        count = rng.choices((0, 1, 2), (0.15, 0.55, 0.30))[0]
        pool = objections + questions
        return rng.sample(pool, min(count, len(pool)))

    def _topic(self, topic: tuple[str, str]) -> None:
        rng, lang = self.rng, self.conv.language
        if topic[0] == "objection":
            if rng.random() < 0.3:
                self._say("customer", rng.choice(phrases.FILLERS[lang]))
            as_voice = self.conv.fmt == "wecom" and self.voice_left > 0 and rng.random() < 0.5
            self.voice_left -= as_voice
            self._say("customer", rng.choice(phrases.OBJECTIONS[lang][topic[1]]), topic=topic,
                      kind="voice" if as_voice else "text")
            self._say("rep", rng.choice(phrases.ANSWERS[lang]))
        else:
            self._say("rep", rng.choice(phrases.QUESTIONS[lang][topic[1]]), topic=topic)
            self._say("customer", rng.choice(phrases.REPLIES[lang]))

    def _mistake(self, role: str) -> None:
        wrong = self._say(role, self.rng.choice(phrases.MISTAKES[self.conv.language]))
        self._say(role, wrong.msg_id, kind="revoke", revokes=wrong.msg_id, pause_s=(20, 110))

    def _say(self, role: str, template: str, *, kind: str = "text", topic: tuple[str, str] | None = None,
             revokes: str | None = None, pause_s: tuple[int, int] = (15, 900)) -> Line:
        rng = self.rng
        email = self.conv.fmt == "email"
        self.clock += timedelta(seconds=rng.randint(600, 3600) if email else rng.randint(*pause_s))
        text = template.format_map(self.values) if kind != "revoke" else template
        line = Line(self._msg_id(), role, text, self.clock, kind, revokes,
                    file_name=text if kind == "file" else None, topics=[topic] if topic else [])
        self.conv.lines.append(line)
        return line

    def _msg_id(self) -> str:
        bits = f"{self.rng.getrandbits(96):024x}"
        if self.conv.fmt == "email":
            return f"{bits}@mail.{self.conv.contact.email.split('@')[1]}"
        if self.conv.fmt == "csv":
            return f"wx{bits}"
        return f"{bits}_{epoch_ms(self.clock)}_external"


def epoch_ms(at: datetime) -> int:
    """Milliseconds since 1970 of a naive UTC time (whatever the machine's time zone)."""
    return int((at - EPOCH).total_seconds() * 1000)


def _as_mails(lines: list[Line]) -> list[Line]:
    """One e-mail per run of lines by the same sender: its text joined, its topics and file kept."""
    mails: list[Line] = []
    for line in lines:
        if mails and mails[-1].role == line.role:
            mail = mails[-1]
            if line.kind == "file":
                mail.file_name = line.file_name
            else:
                mail.text = f"{mail.text}\n\n{line.text}" if mail.kind != "file" else line.text
                mail.kind = "text"
            mail.topics.extend(line.topics)
        else:
            mails.append(line)
    return mails
