"""Who is the rep and who is the customer, with a confidence.

Two ways, the first that applies wins:

1. **Voiceprint** (``method="voiceprint"``): each diarized speaker's voice is compared
   (cosine) with every enrolled rep. The best (speaker, rep) pair is the rep when its
   similarity reaches ``voiceprint_min_similarity`` and beats the next-best speaker by
   ``voiceprint_min_margin`` (synthetic voices of one engine sit close together, and so do
   siblings on a call centre floor); everyone else is a customer. Confidence grows with
   that margin.
2. **Conversational cues** (``method="cues"``), English and Chinese together (code-switching
   is common). Per speaker, a rep score adds up:

   ======================  ======  ==========================================================
   cue                     weight  examples
   ======================  ======  ==========================================================
   self-introduction       +2.5    "this is Dana from Northwind", "calling from", "我是…的小王",
                                   "这边是…公司", "hello this is Harper Valley National Bank"
   host / service phrases  +1.0    "how can I help", "thanks for making the time", "let me send",
                                   "would it help", "请问", "帮您", "给您发", "您看"
   vendor talk             +1.0    "our product/solution/platform", "we offer", "case study",
                                   "demo", "discount", "我们的产品/方案", "案例", "优惠", "报价"
   customer talk           −1.2    "our budget", "we currently use", "too expensive", "my boss",
                                   "send me", "预算", "我们现在用", "太贵", "考虑一下", "领导"
   share of the questions  +2.0    × (speaker's share of all questions − 1/n), when ≥2 questions
                                   (turns that ask, :func:`talktrack.models.talk_cues.is_question`)
   addresses the other     +1.0    × (share of all "you/your/您/你们" − 1/n)
   speaks first            +0.4    (weak: an outbound call is often answered by the customer)
   ======================  ======  ==========================================================

   Counts enter as ``log(1 + count)`` so a long call cannot pile up one cue. With two or
   more speakers the rep is the top scorer, and confidence is the softmax probability of
   the scores at ``cue_temperature``: decisive cues give ≈1, none give 1/n. When the top
   score beats the runner-up by less than ``cue_min_margin`` (no cues, or only who spoke
   first), everyone stays ``unknown``. One speaker alone is a rep only with positive rep
   cues, at a confidence ≤ 0.6, otherwise ``unknown``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from talktrack.core.records import Role, TranscriptUtterance
from talktrack.models.talk_cues import is_question
from talktrack.models.voiceprint import similarity


@dataclass(frozen=True)
class RoleOptions:
    voiceprint_min_similarity: float = 0.75
    voiceprint_min_margin: float = 0.02
    cue_temperature: float = 1.0
    cue_min_margin: float = 0.5
    single_speaker_max_confidence: float = 0.6

    def as_params(self, prefix: str = "roles") -> dict[str, float]:
        return {f"{prefix}__{key}": value for key, value in asdict(self).items()}


@dataclass(frozen=True)
class SpeakerRole:
    speaker: str
    role: Role
    confidence: float
    method: str  # "voiceprint" | "cues" | "none"
    rep_id: str | None = None
    score: float | None = None
    evidence: dict[str, float] = field(default_factory=dict)


def _rx(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_NAME = r"[a-z][\w'.-]*(?:\s+[a-z][\w'.-]*)?"
INTRO = _rx(
    rf"\b(?:this is|it's|it is|my name is|i'm|i am)\s+{_NAME}\s+"
    r"(?:from|with|at|over at|here from|calling from)\b",
    r"\b(?:calling|reaching out|here|speaking)\s+(?:from|on behalf of)\b",
    rf"^\W*(?:\w+\W+){{0,3}}{_NAME}\s+(?:here\s+)?(?:from|with)\s+\w+.*\b(?:thanks for|is now|good time)",
    r"\b(?:this is|you've reached|welcome to|thank you for calling)\s+(?:\w+\s+){0,4}"
    r"(?:bank|company|support|team|systems|solutions|services|inc|ltd|group|customer care)\b",
    r"我是.{1,15}?的",
    r"我这边是",
    r"(?:这里|这边)是.{1,15}(?:公司|银行|客服|团队|中心)",
    r"我是.{0,10}(?:销售|顾问|客户经理|专员|客服|经理)",
    r"(?:代表|来自).{1,15}公司",
    r"我是\w{1,12}(?:公司|科技|系统)",
)
SERVICE = _rx(
    r"\bhow (?:can|may) i help\b",
    r"\banything else i can\b",
    r"\bthank(?:s| you) for (?:calling|making|taking|your time|jumping)",
    r"\blet me (?:check|show|walk|send|pull|share|explain)\b",
    r"\bi(?:'ll| will| can) (?:send|share|set up|show|offer|put together|follow up)\b",
    r"\bwould (?:it|that) help\b",
    r"\bdoes (?:that|this) (?:sound|make sense|work)\b",
    r"\b(?:can|may) i (?:ask|have)\b",
    r"\bis now (?:still )?a good time\b",
    r"\bhave a (?:great|good|nice) (?:day|one)\b",
    r"\bfor your time\b",
    r"请问", r"有什么可以帮", r"还有(?:什么|其他)", r"感谢您", r"谢谢您", r"帮您", r"为您",
    r"给您(?:发|安排|准备|介绍|看)", r"您看", r"您觉得", r"方便吗", r"打扰",
)  # fmt: skip
VENDOR = _rx(
    r"\bour (?:product|solution|platform|software|system|tool|service|offering|customers|clients|pricing"
    r"|team can|implementation|support team|onboarding)s?\b",
    r"\bwe (?:offer|provide|can (?:help|offer|provide|do|set|give|start|include))\b",
    r"\bwe(?:'ve| have) helped\b",
    r"\bcase stud(?:y|ies)\b", r"\bdemo\b", r"\bfree trial\b", r"\bpilot\b", r"\bdiscount\b",
    r"\binstal{1,2}ments?\b", r"\broi\b", r"\bproposal\b", r"\bguarantee\b",
    r"\bcustomers like you\b", r"\bother customers\b",
    r"我们的(?:产品|方案|系统|平台|软件|服务|客户|团队可以)", r"我们(?:可以|能)(?:提供|帮|做|给)", r"我们提供",
    r"案例", r"演示", r"试用", r"试点", r"优惠", r"折扣", r"分期", r"报价", r"保障", r"其他客户",
)  # fmt: skip
CUSTOMER = _rx(
    r"\b(?:our|the) budget\b",
    r"\bwe (?:currently|already|still) (?:use|have|run|work)\b",
    r"\bwe(?:'re| are) (?:currently )?using\b",
    r"\btoo (?:expensive|pricey|much)\b",
    r"\b(?:my|our) (?:boss|manager|cfo|ceo|coo|board|director|management|finance team|it team)\b",
    r"\bsend me\b",
    r"\bhow much (?:is|does|would|will)\b",
    r"\bwhat does it cost\b",
    r"\bwe(?:'re| are) (?:evaluating|looking at|comparing|talking to)\b",
    r"\bi need to (?:think|check|talk|discuss|ask)\b",
    r"\bmy (?:card|account|order|password|bill)\b",
    r"\bi(?:'d| would) like to\b",
    r"\bour (?:current|existing|old) (?:system|vendor|provider|setup|process|tool)\b",
    r"\bwe lost\b",
    r"\bour (?:team|people|staff) (?:spends?|loses?|has)\b",
    r"预算", r"我们(?:现在|目前)(?:用|使用|在用)", r"太贵", r"有点贵", r"贵了", r"考虑一下",
    r"(?:我们)?(?:老板|领导)", r"多少钱", r"怎么收费", r"给我(?:发|看)", r"我想(?:要|问)", r"我们公司(?:现在|目前)",
)  # fmt: skip
YOU = _rx(r"\byou(?:r|rs|'re|'ve|'ll)?\b", r"您", r"你们")
PHRASE_CUES = {"intro": INTRO, "service": SERVICE, "vendor": VENDOR, "customer": CUSTOMER}
WEIGHTS = {
    "intro": 2.5, "service": 1.0, "vendor": 1.0, "customer": -1.2, "questions": 2.0, "you": 1.0, "first": 0.4,
}  # fmt: skip


def cue_counts(utterances: Sequence[TranscriptUtterance]) -> dict[str, dict[str, float]]:
    """Per speaker: how often each phrase cue fired, questions asked, and you-words said."""
    counts: dict[str, dict[str, float]] = {}
    for utterance in utterances:
        c = counts.setdefault(utterance.speaker, dict.fromkeys((*PHRASE_CUES, "questions", "you"), 0.0))
        for cue, pattern in PHRASE_CUES.items():
            c[cue] += len(pattern.findall(utterance.text))
        c["questions"] += is_question(utterance.text)
        c["you"] += len(YOU.findall(utterance.text))
    return counts


def cue_scores(utterances: Sequence[TranscriptUtterance]) -> dict[str, tuple[float, dict[str, float]]]:
    """Rep score per speaker and the weighted terms it is made of (see the module table)."""
    counts = cue_counts(utterances)
    if not counts:
        return {}
    n = len(counts)
    first = utterances[0].speaker
    totals = {key: sum(c[key] for c in counts.values()) for key in ("questions", "you")}
    scores = {}
    for speaker, c in counts.items():
        terms = {cue: WEIGHTS[cue] * math.log1p(c[cue]) for cue in PHRASE_CUES}
        for key in ("questions", "you"):
            shared = totals[key] >= 2 and n > 1
            terms[key] = WEIGHTS[key] * (c[key] / totals[key] - 1 / n) if shared else 0.0
        terms["first"] = WEIGHTS["first"] if speaker == first and n > 1 else 0.0
        scores[speaker] = (round(sum(terms.values()), 3), {k: round(v, 3) for k, v in terms.items()})
    return scores


def roles_from_cues(
    utterances: Sequence[TranscriptUtterance], options: RoleOptions = RoleOptions()
) -> dict[str, SpeakerRole]:
    """Rep = the top cue score, when it leads by ``cue_min_margin``; confidence = softmax probability."""
    scores = cue_scores(utterances)
    if not scores:
        return {}  # nobody said anything we could read: no roles to assign
    if len(scores) == 1:
        return _single_speaker(scores, options)
    speakers = list(scores)
    values = np.array([scores[s][0] for s in speakers])
    probabilities = _softmax(values / options.cue_temperature)
    top = int(np.argmax(values))
    decided = values[top] - float(np.max(np.delete(values, top))) >= options.cue_min_margin
    roles = {}
    for index, speaker in enumerate(speakers):
        is_rep = index == top
        role = ("rep" if is_rep else "customer") if decided else "unknown"
        confidence = probabilities[index] if is_rep or not decided else 1.0 - probabilities[index]
        score, terms = scores[speaker]
        roles[speaker] = SpeakerRole(speaker, role, round(float(confidence), 4), "cues", None, score, terms)
    return roles


def _single_speaker(scores, options: RoleOptions) -> dict[str, SpeakerRole]:
    ((speaker, (score, terms)),) = scores.items()
    if score <= 0:
        return {speaker: SpeakerRole(speaker, "unknown", 0.5, "cues", None, score, terms)}
    confidence = 0.5 + (options.single_speaker_max_confidence - 0.5) * math.tanh(score)
    return {speaker: SpeakerRole(speaker, "rep", round(confidence, 4), "cues", None, score, terms)}


def _softmax(values: np.ndarray) -> np.ndarray:
    exp = np.exp(values - values.max())
    return exp / exp.sum()


def roles_from_voiceprints(
    embeddings: Mapping[str, np.ndarray],
    voiceprints: Mapping[str, np.ndarray],
    options: RoleOptions = RoleOptions(),
) -> dict[str, SpeakerRole] | None:
    """Roles from enrolled reps' voices, or None when no speaker is clearly an enrolled rep."""
    if not embeddings or not voiceprints:
        return None
    table = {(s, r): similarity(e, v) for s, e in embeddings.items() for r, v in voiceprints.items()}
    (rep_speaker, rep_id), best = max(table.items(), key=lambda item: item[1])
    others = [sim for (s, r), sim in table.items() if r == rep_id and s != rep_speaker]
    margin = best - max(others) if others else best - options.voiceprint_min_similarity
    if best < options.voiceprint_min_similarity or (others and margin < options.voiceprint_min_margin):
        return None
    confidence = round(1.0 / (1.0 + math.exp(-margin / 0.02)), 4)  # margin 0.02 → 0.73, 0.06 → 0.95
    roles = {}
    for speaker in embeddings:
        evidence = {f"similarity__{r}": round(table[(speaker, r)], 4) for r in voiceprints}
        own = round(table[(speaker, rep_id)], 4)
        if speaker == rep_speaker:
            roles[speaker] = SpeakerRole(speaker, "rep", confidence, "voiceprint", rep_id, own, evidence)
        else:
            roles[speaker] = SpeakerRole(speaker, "customer", confidence, "voiceprint", None, own, evidence)
    return roles


def assign_roles(
    utterances: Sequence[TranscriptUtterance],
    *,
    embeddings: Mapping[str, np.ndarray] | None = None,
    voiceprints: Mapping[str, np.ndarray] | None = None,
    options: RoleOptions = RoleOptions(),
) -> dict[str, SpeakerRole]:
    """Voiceprints first (when given and decisive), else cues; speakers without words get ``unknown``."""
    roles = roles_from_voiceprints(embeddings or {}, voiceprints or {}, options)
    roles = roles or roles_from_cues(utterances, options)
    for speaker in embeddings or {}:
        roles.setdefault(speaker, SpeakerRole(speaker, "unknown", 0.0, "none"))
    return roles


def with_roles(
    utterances: Sequence[TranscriptUtterance], roles: Mapping[str, SpeakerRole]
) -> list[TranscriptUtterance]:
    """Utterances carrying their speaker's role."""
    return [
        u.model_copy(update={"role": roles[u.speaker].role}) if u.speaker in roles else u for u in utterances
    ]
