"""Field notes: from a rep's voice-note transcript (or a call's text), what a sales manager reads in it:
the objections the customer raised, every decision-chain person (name, title, role) and the next
action with its date.

- **People**: :func:`talktrack.models.moments.people.find_people` (roles: decision maker,
  economic buyer, champion, influencer, user, procurement, blocker).
- **Objections**: what the note's sentences say (a few cue words per type, in English and
  Chinese: "our quote is 20% above X's", "预算已经用完了", "要等明年3月再说") together with the
  :class:`MomentDetector` on each sentence in the customer's own words (a type only it finds is kept
  when it is confident: ``DETECTOR_MIN_SCORE``). The cues live in
  :mod:`talktrack.models.moments.objection_cues`. A note is written by the
  rep, so its sentences about the rep's own plan ("I'll send the proposal by Friday") are not
  read for objections, and the detector's ``authority`` is left out: a note names who signs as a
  matter of course ("the CFO signs off"), which the detector takes for an objection; authority
  comes from the cues that say the contact cannot decide ("not his call", "做不了主").
- **Next action**: the last sentence that names an action with a date (else the last with a
  date); none when the note says nothing was agreed ("nothing scheduled", "没约下一步").

Measured on the hand-written notes in ``evaluation/real_phrasing/field_notes.yaml``
(``talktrack eval semantic``; README has the figures).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date

from talktrack.models.moments.dates import find_dates
from talktrack.models.moments.objection_cues import NOT_OBJECTION, OBJECTION_CUES
from talktrack.models.moments.people import Person, find_people
from talktrack.models.moments.sentences import split_sentences

ROLES = ("decision_maker", "economic_buyer", "champion", "influencer", "user", "procurement", "blocker")
DETECTOR_SKIPS = frozenset({"authority"})
# A type only the detector finds is kept at this score or above. Measured on the dev notes (zero-shot detector,
# once the cues read indirect phrasings): the detector's own finds below it were right 3 times in 13 (its
# scores 0.51-0.82 on sentences such as "车总会在管理层会上帮我们说话" or "Team manager is pushing hard for us"),
# above it 1 in 1; a note names people and plans, which the detector, trained on what customers say, misreads.
DETECTOR_MIN_SCORE = 0.85

# the rep's own plan: read for the next action, not for what the customer objected to
_PLAN = re.compile(r"^(?:I['’]ll|I will|I\b|Will|Send|Sending|Booked|Get|Need to|Next step|Follow|Told|Ping|Check|"
                   r"Meeting|Demo|Security call|Compliance Q|Kickoff|Revised|Integration call|Submit|Proposal|Left|"
                   r"下周|明天|后天|周[一二三四五六日]|这周|下一步|月底|\d+号|\d+月\d+号|我|先发|跟[她他]说|两周后)", re.I)
_NO_ACTION = re.compile(r"nothing (?:scheduled|firm|booked|fixed)|no (?:next step|follow-up)|left it open|parked it|"
                        r"没约|没定具体时间|先放着|先搁置|不跟进", re.I)

_EN_REPORTED = re.compile(r"^(?:the |our |their )?(?:customer|client|prospect|buyer|they|he|she|[A-Z][a-z]+)"
                          r" (?:said|says|thinks|think|felt|feels|mentioned|told me|complained|worries|is worried)"
                          r"(?: that)?,?\s+", re.I)
_ZH_REPORTED = re.compile(r"^(?:客户|对方|他们|他|她|[\u4e00-\u9fff]{1,2}总|[\u4e00-\u9fff]{1,2}经理)?"
                          r"(?:说|觉得|表示|认为|提到|反馈|担心|嫌)[:：，,]?")
_EN_ACTION = re.compile(r"\b(?:send|sending|schedule|book|meet|meeting|demo|call|follow[- ]up|visit|review|present|"
                        r"sign|workshop|next step|deliver|submit|share|set up|arrange|catch up|check in|"
                        r"proposal|quote)\b", re.I)
_ZH_ACTION = re.compile(r"发|约|见面|演示|拜访|回访|跟进|开会|提交|签|沟通|汇报|下一步|安排|报价|方案|碰|电话|会议|上门|对一下")


@dataclass(frozen=True)
class NextAction:
    text: str
    date: str | None        # ISO date, resolved against the reference day
    date_text: str | None   # the words it came from


@dataclass
class FieldNotes:
    objections: list[dict] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    next_action: NextAction | None = None
    reference_date: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def extract_notes(text: str, detector=None, reference_date: date | None = None) -> FieldNotes:
    """Objections, decision-chain people and the next action of a short text (see the module doc).

    ``detector``: a fitted :class:`MomentDetector`, or None to read objections from cue words only.

    >>> notes = extract_notes("The CFO, Dana Ortiz, signs anything over 50k. Let's meet next Tuesday.",
    ...                       reference_date=date(2025, 3, 3))
    >>> [(p.name, p.title, p.role) for p in notes.people], notes.next_action.date
    ([('Dana Ortiz', 'CFO', 'economic_buyer')], '2025-03-11')
    """
    if not text or not text.strip():
        raise ValueError("field note: the text is empty")
    reference_date = reference_date or date.today()
    sentences = [s.text for s in split_sentences(text)]
    notes = FieldNotes(reference_date=reference_date.isoformat())
    notes.next_action = find_next_action(sentences, reference_date)
    # the rep's plan is no objection; an undated "action" may be what the customer said ("说同类产品的报价...")
    plan = notes.next_action.text if notes.next_action and notes.next_action.date else None
    said = [s for s in sentences if not _PLAN.match(s.strip()) and s != plan]
    notes.people = find_people(sentences)
    notes.objections = find_objections([_without_names(s, notes.people) for s in said], detector)
    return notes


def find_objections(sentences: list[str], detector=None) -> list[dict]:
    """One entry per objection type: the type, a score (1.0 for a cue word) and the sentence."""
    found: dict[str, dict] = {}
    for sentence in sentences:
        text = NOT_OBJECTION.sub(" ", sentence)
        for kind, pattern in OBJECTION_CUES.items():
            if kind not in found and re.search(pattern, text, re.I):
                found[kind] = {"type": kind, "score": 1.0, "text": sentence}
    if detector is not None and sentences:
        moments = detector.detect([_unreported(s) for s in sentences], roles=["customer"] * len(sentences))
        for sentence, hits in zip(sentences, moments, strict=True):
            for m in hits:
                if m.label not in DETECTOR_SKIPS and m.label not in found and m.score >= DETECTOR_MIN_SCORE:
                    found[m.label] = {"type": m.label, "score": round(m.score, 4), "text": sentence}
    return list(found.values())


def _without_names(sentence: str, people: list[Person]) -> str:
    """"Alan Price has concerns" is no price objection: names are left out of the objection cues."""
    for person in people:
        if person.name:
            sentence = sentence.replace(person.name, "")
    return sentence


def _unreported(sentence: str) -> str:
    """Drop a reporting frame ("The customer said ...", "客户觉得...") so the objection is scored in the
    customer's own words (measured: the frame alone pulled "客户觉得价格太贵了" from price 0.73 to none)."""
    return _ZH_REPORTED.sub("", _EN_REPORTED.sub("", sentence, count=1), count=1) or sentence


def find_next_action(sentences: list[str], reference_date: date) -> NextAction | None:
    """The last sentence naming an action with a date; else the last with a date; else the last action."""
    if any(_NO_ACTION.search(s) for s in sentences):
        return None
    dated = [(s, find_dates(s, reference_date)) for s in sentences]
    for want_action in (True, False):
        for sentence, dates in reversed(dated):
            if dates and (not want_action or _is_action(sentence)):
                return NextAction(sentence, dates[-1].day.isoformat(), dates[-1].text)
    actions = [s for s in sentences if _is_action(s)]
    return NextAction(actions[-1], None, None) if actions else None


def _is_action(sentence: str) -> bool:
    return bool(_EN_ACTION.search(sentence) or _ZH_ACTION.search(sentence))
