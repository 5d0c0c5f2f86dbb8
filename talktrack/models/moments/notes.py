"""Field notes: from a rep's voice-note transcript (or a call's text), the objections raised,
the decision-chain roles mentioned and the next action with its date.

Objections come from the :class:`MomentDetector` (every sentence scored as if a customer said
it: a note reports what the customer said). Roles and the next action come from rules, in
English and Chinese, because they hinge on a few verbs ("signs off", "拍板", "负责对接") and on
the person or title named next to them, which a sentence classifier does not extract.

Roles: ``decision_maker`` (signs, approves, has the final say), ``influencer`` (has a say,
evaluates, recommends), ``user`` (will use it day to day), ``gatekeeper`` (coordinates,
handles the contact or the procurement process, controls access).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date

from talktrack.models.moments.dates import find_dates
from talktrack.models.moments.sentences import split_sentences

ROLES = ("decision_maker", "influencer", "user", "gatekeeper")

# English: a person/title, then the verb phrase of the role (or the phrase, then the person).
_EN_WHO = (r"(?P<who>(?:the |our |their |my |his |her )?(?:[A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,2}|"
           r"(?:head|vp|director|manager|chief) of \w+|\w+ (?:director|manager|lead|team|department|committee)"
           r"|boss|board|owner|founder|procurement|purchasing|finance|assistant|receptionist|office manager"
           r"|engineers|staff|agents|drivers|nurses|technicians|users|team))")
_EN_BEFORE = {
    "decision_maker": r"(?:signs? off|will sign|has to sign|must sign|needs to sign|signs the contract|approves|"
                      r"has to approve|needs to approve|must approve|makes the (?:final )?(?:call|decision)|decides|"
                      r"has the (?:final|last) (?:say|word)|holds the budget|owns the budget|"
                      r"is the (?:final )?decision[- ]maker|is the one who decides|controls the budget)",
    "influencer": r"(?:has a (?:say|voice)|has input|weighs? in|will weigh in|influences|recommends|will recommend|"
                  r"is evaluating|will evaluate|evaluates|is pushing for|champions|is (?:our|the) champion|"
                  r"has a strong opinion|advises|is a big fan|is on the evaluation)",
    "user": r"(?:will use|would use|are going to use|is going to use|uses|will be using|are the (?:end[- ])?users|"
            r"is the (?:end[- ])?user|works? with it (?:daily|every day)|will work with it|use it (?:daily|every day))",
    "gatekeeper": r"(?:handles|coordinates|is (?:the|our|my) (?:main |single )?(?:point of )?contact|"
                  r"manages (?:the )?(?:vendors?|suppliers?|calendar)|screens|controls access|"
                  r"runs (?:the )?(?:procurement|purchasing|tender)|schedules (?:the )?meetings|"
                  r"is handling (?:the )?(?:procurement|paperwork|contact))",
}
_EN_AFTER = {
    "decision_maker": r"(?:final (?:decision|say|sign-off)|sign-off|approval) (?:is with|lies with|rests with|"
                      r"comes from|is up to|from|by)|needs? (?:approval|sign-off) from|up to",
    "gatekeeper": r"(?:go(?:es)? through|goes via|contact (?:is|will be)|talk to|reach)",
}
_EN_AFTER_WHO = r"(?P<who>(?:the |our |their )?[\w'-]+(?: [\w'-]+){0,3}?)(?=[,.;!?]| and | but |$)"

# Chinese: the person/title right before the verb of the role.
_ZH_WHO = (r"(?P<who>(?:[\u4e00-\u9fff]{1,4}?(?:部|处|科|中心|办|组))?(?:[\u4e00-\u9fff]{1,3}?的?)?"
           r"(?:总监|经理|主管|董事长|总经理|老板|领导|主任|负责人|同事|团队|助理|前台|委员会|总|工|部门|老总)"
           r"|CFO|CEO|CTO|COO|CIO|IT(?:部门?)?|采购(?:部门?)?|财务(?:部门?)?|法务(?:部门?)?|[\u4e00-\u9fff]{1,3}部)")
_ZH_VERBS = {
    "decision_maker": r"(?:拍板|签字|说了算|最终决定|最后决定|做决定|定夺|审批|批准|点头|决策|签合同|最终拍板|来定)",
    "influencer": r"(?:有话语权|提意见|参与评估|会参与|影响很大|推荐|建议用|很认可|比较支持|很支持|也要评估|评估)",
    "user": r"(?:日常使用|来使用|会用|使用|用这个|在用|是使用方|是最终用户)",
    "gatekeeper": r"(?:负责对接|对接|负责联系|安排时间|负责采购流程|把关|先过|负责招标|负责沟通)",
}
_ZH_DROP = re.compile(r"^(?:最后|最终|还是|主要|其实|然后|但是|不过|而且|另外|我们|他们|你们|这边|那边|由|要|得|需要|"
                      r"会|都|还|也|是|的|就|让|请|和|跟)+")

_EN_REPORTED = re.compile(r"^(?:the |our |their )?(?:customer|client|prospect|buyer|they|he|she|[A-Z][a-z]+)"
                          r" (?:said|says|thinks|think|felt|feels|mentioned|told me|complained|worries|is worried)"
                          r"(?: that)?,?\s+", re.I)
_ZH_REPORTED = re.compile(r"^(?:客户|对方|他们|他|她|[\u4e00-\u9fff]{1,2}总|[\u4e00-\u9fff]{1,2}经理)?"
                          r"(?:说|觉得|表示|认为|提到|反馈|担心|嫌)[:：，,]?")
_ZH_LEAD = re.compile(r"^.*(?:要|由|得|让|请|需要|归|靠|找|最后|最终)")

_EN_ACTION = re.compile(r"\b(?:send|sending|schedule|book|meet|meeting|demo|call|follow[- ]up|visit|review|present|"
                        r"sign|workshop|next step|deliver|submit|share|set up|arrange|catch up|check in|"
                        r"proposal|quote)\b", re.I)
_ZH_ACTION = re.compile(r"发|约|见面|演示|拜访|回访|跟进|开会|提交|签|沟通|汇报|下一步|安排|报价|方案|碰|电话|会议|上门|对一下")


@dataclass(frozen=True)
class RoleMention:
    role: str
    who: str
    text: str


@dataclass(frozen=True)
class NextAction:
    text: str
    date: str | None        # ISO date, resolved against the reference day
    date_text: str | None   # the words it came from


@dataclass
class FieldNotes:
    objections: list[dict] = field(default_factory=list)
    roles: list[RoleMention] = field(default_factory=list)
    next_action: NextAction | None = None
    reference_date: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def extract_notes(text: str, detector=None, reference_date: date | None = None) -> FieldNotes:
    """Objections (if a fitted ``detector`` is given), roles and the next action of a short text.

    >>> notes = extract_notes("The CFO signs off. Let's meet next Tuesday.", reference_date=date(2025, 3, 3))
    >>> notes.roles[0].role, notes.roles[0].who, notes.next_action.date
    ('decision_maker', 'CFO', '2025-03-11')
    """
    if not text or not text.strip():
        raise ValueError("field note: the text is empty")
    reference_date = reference_date or date.today()
    sentences = [s.text for s in split_sentences(text)]
    notes = FieldNotes(reference_date=reference_date.isoformat())
    if detector is not None:
        found = detector.detect([_unreported(s) for s in sentences], roles=["customer"] * len(sentences))
        notes.objections = [{"type": m.label, "score": round(m.score, 4), "text": m.text}
                            for moments in found for m in moments]
    notes.roles = [mention for sentence in sentences for mention in find_roles(sentence)]
    notes.next_action = find_next_action(sentences, reference_date)
    return notes


def _unreported(sentence: str) -> str:
    """Drop a reporting frame ("The customer said ...", "客户觉得...") so the objection is scored in the
    customer's own words (measured: the frame alone pulled "客户觉得价格太贵了" from price 0.73 to none)."""
    return _ZH_REPORTED.sub("", _EN_REPORTED.sub("", sentence, count=1), count=1) or sentence


def find_roles(sentence: str) -> list[RoleMention]:
    """Decision-chain roles named in one sentence, with the person or title."""
    out: list[RoleMention] = []
    for role, verbs in _EN_BEFORE.items():
        for match in re.finditer(_EN_WHO + r"\s+(?:\w+ly |also |will |would |must |has to |needs to )?" + verbs,
                                 sentence):
            out.append(RoleMention(role, _clean_en(match["who"]), sentence))
    for role, phrase in _EN_AFTER.items():
        for match in re.finditer(r"\b(?:" + phrase + r")\s+" + _EN_AFTER_WHO, sentence, re.I):
            out.append(RoleMention(role, _clean_en(match["who"]), sentence))
    for role, verbs in _ZH_VERBS.items():
        for match in re.finditer(_ZH_WHO + r"(?:来|会|也|都|要|负责)?" + verbs, sentence):
            out.append(RoleMention(role, _clean_zh(match["who"]), sentence))
    return _dedupe(out)


def _clean_en(who: str) -> str:
    return re.sub(r"^(?:the|our|their|my|his|her) ", "", who.strip(), flags=re.I)


def _clean_zh(who: str) -> str:
    """Drop what precedes the person: '最后要李总' -> '李总' (the match may start inside a clause)."""
    cleaned = _ZH_DROP.sub("", _ZH_LEAD.sub("", who))
    return cleaned or who


def _dedupe(mentions: list[RoleMention]) -> list[RoleMention]:
    seen, out = set(), []
    for mention in mentions:
        key = (mention.role, mention.who.lower())
        if key not in seen and mention.who:
            seen.add(key)
            out.append(mention)
    return out


def find_next_action(sentences: list[str], reference_date: date) -> NextAction | None:
    """The last sentence naming an action with a date; else the last with a date; else the last action."""
    dated = [(s, find_dates(s, reference_date)) for s in sentences]
    for want_action in (True, False):
        for sentence, dates in reversed(dated):
            if dates and (not want_action or _is_action(sentence)):
                return NextAction(sentence, dates[0].day.isoformat(), dates[0].text)
    actions = [s for s in sentences if _is_action(s)]
    return NextAction(actions[-1], None, None) if actions else None


def _is_action(sentence: str) -> bool:
    return bool(_EN_ACTION.search(sentence) or _ZH_ACTION.search(sentence))
