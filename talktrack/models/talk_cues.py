"""Surface cues of a sales conversation turn, in English and Chinese: is it a question, an open
question, does it echo the customer's previous turn. A leaf module (re only), shared by the
capability features and the coaching examples."""

from __future__ import annotations

import re

QUESTION = re.compile(r"[?？]|[吗呢](?:[。.!！]?\s*$)")
OPEN_EN = re.compile(r"\b(?:what|how|why|which|where|when|who|walk me through|tell me|describe|explain)\b", re.I)
OPEN_ZH = re.compile(r"什么|怎么|怎样|为什么|哪些|哪|如何|多少|讲讲|说说|介绍")
ECHO_MIN_OVERLAP = 0.25  # share of a rep turn's tokens taken from the customer's previous turn


def is_question(text: str) -> bool:
    return bool(QUESTION.search(text or ""))


def is_open_question(text: str) -> bool:
    return is_question(text) and bool(OPEN_EN.search(text) or OPEN_ZH.search(text))


def tokens(text: str) -> set[str]:
    """Words of four letters or more (English) or character pairs (Chinese)."""
    words = set(re.findall(r"[a-z]{4,}", (text or "").lower()))
    han = re.sub(r"[^\u4e00-\u9fff]", "", text or "")
    return words | {han[i:i + 2] for i in range(len(han) - 1)}


def echoes(text: str, previous: str) -> bool:
    """True when enough of this turn's tokens come from ``previous`` (a paraphrase)."""
    mine, theirs = tokens(text), tokens(previous)
    return bool(mine) and len(mine & theirs) / len(mine) >= ECHO_MIN_OVERLAP
