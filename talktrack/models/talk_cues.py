"""Surface cues of a sales conversation, in English and Chinese: which sentences of a turn are
questions, which of those are open, does a turn echo the customer's previous one, does an answer
contain a move sequence in order. A leaf module (``re`` only): the one definition used by the
conversation features (deal scorer and capability model), the coaching examples, the speaker-role
cues and talk-track mining.

A sentence is a question when

* it ends with ``?`` / ``？`` (closing quotes or brackets allowed after it), or
* it ends with the particle 吗 (a yes/no question; ``。！`` after it allowed: ASR often writes one), or
* it has no end punctuation at all (a transcriber that does not punctuate) and starts with an
  English question word or auxiliary ("what", "do you", "can we") or holds a Chinese question
  form (什么, 怎么, 多少, 哪, 是否, 有没有, 能不能, …) or ends with 呢.

Why these, and not the three older copies (``features/conversation.py``: only a final ``?``;
this module: a ``?`` anywhere or a final 吗/呢; ``speech/roles.py``: a first word or a Chinese
question word anywhere, even after a full stop): a full stop is the transcriber saying "statement",
so the word rules apply only to unpunctuated text, where they are the only evidence; a final 呢
after a full stop is usually a statement (还早呢。 "it is early yet"), so it counts only unpunctuated.
Measured in the report of issue 17 (generated calls, PersuasionForGood, CrossWOZ).

A question is *open* when it invites an account rather than a yes/no: an English clause of it
starts (after fillers such as "so", "um", "and") with what/how/why/which/who/where/when or an
invitation ("tell me", "walk me through", "could you describe"); a Chinese one holds a question
word (什么, 怎么, 为什么, 哪些, 如何, …) and does not end in 吗 (with 吗 the question word is an
indefinite: 有什么顾虑吗 "any concerns?" is a yes/no question).

Example::

    >>> questions_in("Thanks. So what do you use today? Is it Excel?")
    ['So what do you use today?', 'Is it Excel?']
    >>> [is_open_sentence(q) for q in questions_in("So what do you use today? Is it Excel?")]
    [True, False]
    >>> is_subsequence(("a", "c"), ("a", "b", "c"))
    True
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SENTENCE = re.compile(r"(?<=[.!?。！？…])\s*")
QUESTION_MARK = re.compile(r"[?？][\"'”’)）]*\s*$")
END_PUNCTUATION = re.compile(r"[.!?。！？…][\"'”’)）]*\s*$")
MA_PARTICLE = re.compile(r"吗[。.!！?？]?[\"'”’)）]*\s*$")
NE_PARTICLE = re.compile(r"呢\s*$")
FILLERS_EN = r"^\W*(?:(?:so|and|but|well|okay|ok|um+|uh+|oh|then|now|great|right|i mean|you know)\b[\s,]*)*"
INVITATION_EN = re.compile(FILLERS_EN + r"(?:tell me|walk me through|talk me through|describe|explain)\b", re.IGNORECASE)
QUESTION_START_EN = re.compile(
    FILLERS_EN + r"(?:what|how|when|where|why|who|whom|whose|which|do|does|did|are|is|am|was|were|can|could|would|will"
    r"|have|has|had|should|shall|may|might|isn't|aren't|don't|doesn't|didn't|won't|wouldn't|can't)\b",
    re.IGNORECASE)
QUESTION_FORM_ZH = re.compile(r"什么|怎么|怎样|为什么|多少|哪|是否|有没有|能不能|可不可以|要不要|会不会|是不是|对不对|几[个点时天次位家]")
OPEN_EN = re.compile(
    FILLERS_EN + r"(?:what|how|why|which|who|where|when|tell me|walk me|describe|explain"
    r"|(?:could|can|would) you (?:tell|walk|describe|explain|share|talk))\b", re.IGNORECASE)
OPEN_ZH = re.compile(r"什么|怎么|怎样|为什么|哪|如何|谁|多[少久快长大]")
INVITE_ZH = re.compile(r"讲讲|说说|[说讲谈聊]一下|介绍|谈谈|聊聊|展开")
CLAUSE = re.compile(r"[,，;；:：—–]\s*")
ECHO_MIN_OVERLAP = 0.25  # share of a rep turn's tokens taken from the customer's previous turn


def sentences(text: str) -> list[str]:
    """The sentences of a turn (split after . ! ? 。 ！ ？ …), stripped, empty ones dropped."""
    return [part.strip() for part in SENTENCE.split(text or "") if part.strip()]


def is_question_sentence(sentence: str) -> bool:
    """One sentence: a final question mark or 吗, or question words where nothing is punctuated."""
    if QUESTION_MARK.search(sentence) or MA_PARTICLE.search(sentence) or INVITATION_EN.search(sentence):
        return True
    if END_PUNCTUATION.search(sentence):
        return False
    return bool(QUESTION_START_EN.search(sentence) or QUESTION_FORM_ZH.search(sentence)
                or NE_PARTICLE.search(sentence))


def questions_in(text: str) -> list[str]:
    """The question sentences of a turn, in order (a turn may ask two)."""
    return [sentence for sentence in sentences(text) if is_question_sentence(sentence)]


def is_question(text: str) -> bool:
    """Does the turn ask anything (at least one question sentence)?"""
    return bool(questions_in(text))


def is_open_sentence(question: str) -> bool:
    """An open question invites an account (what/how/why; 什么/怎么/为什么), a closed one a yes/no."""
    if INVITE_ZH.search(question) or (OPEN_ZH.search(question) and not MA_PARTICLE.search(question)):
        return True
    return any(OPEN_EN.search(clause) for clause in CLAUSE.split(question))


def is_open_question(text: str) -> bool:
    """Does the turn ask at least one open question?"""
    return any(is_open_sentence(question) for question in questions_in(text))


def tokens(text: str) -> set[str]:
    """Words of four letters or more (English) or character pairs (Chinese)."""
    words = set(re.findall(r"[a-z]{4,}", (text or "").lower()))
    han = re.sub(r"[^\u4e00-\u9fff]", "", text or "")
    return words | {han[i:i + 2] for i in range(len(han) - 1)}


def echoes(text: str, previous: str) -> bool:
    """True when enough of this turn's tokens come from ``previous`` (a paraphrase)."""
    mine, theirs = tokens(text), tokens(previous)
    return bool(mine) and len(mine & theirs) / len(mine) >= ECHO_MIN_OVERLAP


def is_subsequence(needle: Sequence[str], haystack: Sequence[str]) -> bool:
    """``needle``'s items appear in ``haystack`` in the same order, not necessarily adjacent
    ("confirm the timeline, then offer installments" is in "acknowledge, confirm, reframe, offer")."""
    remaining = iter(haystack)
    return all(item in remaining for item in needle)
