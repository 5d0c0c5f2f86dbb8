"""Field notes: from a rep's voice-note transcript (or a call's text), what a sales manager reads in it:
the objections the customer raised, every decision-chain person (name, title, role) and the next
action with its date.

- **People**: :func:`talktrack.models.moments.people.find_people` (roles: decision maker,
  economic buyer, champion, influencer, user, procurement, blocker).
- **Objections**: what the note's sentences say (a few cue words per type, in English and
  Chinese: "our quote is 20% above X's", "预算已经用完了", "要等明年3月再说") together with the
  :class:`MomentDetector` on each sentence in the customer's own words. A note is written by the
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
from talktrack.models.moments.people import Person, find_people
from talktrack.models.moments.sentences import split_sentences

ROLES = ("decision_maker", "economic_buyer", "champion", "influencer", "user", "procurement", "blocker")
DETECTOR_SKIPS = frozenset({"authority"})

_OBJECTION_CUES = {
    "price": r"\bpric(?:e|ey|ing)\b|too (?:much|expensive)|expensive|\bsteep\b|afford|no budget|budget['’]s gone|"
             r"froze budgets|hiring freeze|justify the spend|can['’]t pay|\bcheaper\b|\d+% (?:above|over|lower|more)|"
             r"\d+% off|out of (?:their|our) range|not spending|match it|sticking point|hard to justify|"
             r"sticker shock|the (?:number|figure) (?:scared|shocked|spooked)|that kind of (?:spend|money)|"
             r"for a fraction|per-seat (?:model|price|fee)|too costly|over budget|"
             r"贵|报价比|价格是卡点|年费很难|费用(?:太|偏)高|预算\S{0,4}(?:用完|没了|冻结)|掏不起|付不起|用不起|承受|降\d+%|至少要降|便宜|跟价|批不下来|不花钱",
    "competitor": r"\bvs\.?\b|comparison|(?:than|above|over) [A-Z]\w+['’]s|already (?:uses|piloting)|piloting [A-Z]|"
                  r"signed \S+ \S+ deal with|current vendor|looked at [A-Z]|up against|prefers [A-Z]|"
                  r"quote from [A-Z]|also invited|had a [A-Z]\w+ demo|different from [A-Z]|pay [A-Z]\w+ today|"
                  r"compared us with|they['’]re ahead|better than us|renewed with [A-Z]|comparable from [A-Z]|"
                  r"(?:we['’]re )?one of (?:two|three|four|five|several)\b|other vendors?|"
                  r"竞标|比\S{1,4}(?:高|贵)|逐项对比|和\S{1,10}对比|对方\S{0,6}更好|签了\S{0,6}合同|现在用的|用过|偏向|试用|看过|邀请了|有啥区别|"
                  r"的报价便宜|现在给\S{1,5}的",
    "timing": r"(?:won['’]t|can['’]t|not|no|nothing)\b[^.]{0,40}\b(?:until|before|till|til)\b|\bearliest\b|"
              r"rather wait|wait until|froze \w+ (?:til|until)|too busy|budget year starts|not interested right now|"
              r"nobody has time|maybe Q[1-4]|next quarter|stretched thin|no bandwidth|"
              r"until (?:spring|summer|autumn|fall|winter|next year|the new year)|"
              r"不是时候|现在没兴趣|没人有精力|可能[一二三四]季度|过段时间|之前没法签|前签不了|之前\S{0,8}不|下半年再说|明年|过去再说|冻结到|太忙",
    "authority": r"not (?:his|her|my) call|can['’]t (?:approve|sign)|has to (?:run it by|take it to)|"
                 r"need approval from|(?:isn['’]t|not) the one who decides|(?:['’]d|would|will) need sign-off from|"
                 r"做不了主|自己签不了|自己批不了|定不了|批准才行|要先跟\S{0,6}汇报",
    "need": r"(?:doesn['’]t|don['’]t) see the (?:need|value|point)|see the point|not (?:a )?priority|nice-to-have|"
            r"too small(?! (?:a|of a) vendor)|happy enough|happy with (?:spreadsheets|how)|not much pain|already covers|irrelevant|"
            r"waste of money|need to see it work|can['’]t handle|skeptical about moving|(?:isn['’]t|not) (?:really )?relevant|"
            r"no use for|(?:don['’]t|doesn['’]t) need|would(?:n['’]t| not) (?:actually |really )?use it|"
            r"problem they (?:don['’]t|do not) (?:really )?have|(?:don['’]t|doesn['’]t) have (?:a|any|much) (?:real )?"
            r"(?:pain|problem)|no real pain|works fine (?:as is|today)|"
            r"没必要|不需要|没什么痛点|可有可无|不是优先级|用不上|挺好的|够用|没关系|看不到价值|浪费钱|识别不了|"
            r"得先看到|用得好好的|觉得有必要|没什么用|没啥用|用处不大|用不着",
    "trust": r"secur(?:e|ity)(?! questionnaire)|\bSSO\b|where the data|data (?:residency|retention)|privacy|"
             r"confidential|breach|\breferences?\b|never heard of|burned|as promised|proof of ROI|\bISO\b|SOC ?2|"
             r"compliance|consent|in-country|stay in the EU|skeptical that|never adopted|cloud recording|"
             r"recordings are stored|talk to a customer|outages?|uptime|downtime|stabl[ey]|HIPAA|GDPR|"
             r"\bDPA\b|not be around|go out of business|too small (?:a|of a) vendor|leaving the building|"
             r"nervous about|who can (?:listen|access)|"
             r"安全(?!问卷)|数据泄露|隐私|保密|案例|没听说过|坑过|承诺的效果|ROI证明|等保|合规|授权|境内|不太相信|"
             r"根本不用|私有化|上云|云产品|客户聊聊|宕机|稳定|不放心",
    "delivery": r"rollout|roll-out|implementation|onboarding[^.]{0,25}too long|go-live|be live|deliver in time|"
                r"during migration|disrupt|setup effort|can['’]t support|overloaded|go live|"
                r"实施|上线|(?<!私有化)部署|切换期间|来不及|交付|对接好|影响客服",
}
_NOT_OBJECTION = re.compile(r"price (?:isn['’]t|is not) the issue|(?:price|pricing) is fine|价格不是问题|价格没问题|"
                            r"对价格没意见", re.I)
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
    said = [s for s in sentences if not _PLAN.match(s.strip()) and (notes.next_action is None
                                                                     or s != notes.next_action.text)]
    notes.people = find_people(sentences)
    notes.objections = find_objections([_without_names(s, notes.people) for s in said], detector)
    return notes


def find_objections(sentences: list[str], detector=None) -> list[dict]:
    """One entry per objection type: the type, a score (1.0 for a cue word) and the sentence."""
    found: dict[str, dict] = {}
    for sentence in sentences:
        text = _NOT_OBJECTION.sub(" ", sentence)
        for kind, pattern in _OBJECTION_CUES.items():
            if kind not in found and re.search(pattern, text, re.I):
                found[kind] = {"type": kind, "score": 1.0, "text": sentence}
    if detector is not None and sentences:
        moments = detector.detect([_unreported(s) for s in sentences], roles=["customer"] * len(sentences))
        for sentence, hits in zip(sentences, moments, strict=True):
            for m in hits:
                if m.label not in DETECTOR_SKIPS and m.label not in found:
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
