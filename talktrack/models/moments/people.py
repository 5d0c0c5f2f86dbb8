"""The decision chain of a field note: every person with name, title and role, read like a manager.

A rep writes "Met Priya Nair, head of ops. She likes the demo. Their CFO, Mark Feld, signs
anything over 50k." and a manager reads two people: Priya Nair (head of ops, champion) and
Mark Feld (CFO, economic buyer). The same in Chinese: "采购最后要财务总监李总拍板" is 李总,
财务总监, decision maker. Steps, per sentence:

1. **Mentions**: titles (a head word such as *manager*, *CFO*, 总监, 负责人 with the department
   words before it), names (capitalised First Last; a Chinese surname with one or two characters
   or with 总/经理/医生), a title and a name side by side being one person, and user groups
   ("the leasing agents would use it", "15个坐席会用").
2. **Cues**: the words after a mention up to the next one ("signs off", "拍板", "is our
   champion"), a few that come before it ("budget sits with", "预算在"), and a sentence that starts
   with she/he/她/他 speaks about the last person named.
3. **Role**: the strongest cue wins (decision maker, economic buyer, procurement, blocker,
   champion, influencer, user); without a cue the title decides (CEO and owner decide, CFO holds
   the budget, procurement buys, anyone else influences); a title without a name and without a
   cue is not a person of the chain. A generic "signs"/"approves" by a finance title is the
   economic buyer's signature.
4. **One person once**: later "Greg", "陈总", "张工" join the full name that came first.

Rules rather than a tagger because no Chinese/English NER model ships offline with the stack,
and the cues are a small closed set of verbs; the hand-written notes in
``evaluation/real_phrasing/field_notes.yaml`` measure how far they carry.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from talktrack.models.moments import people_lexicon as lex

ROLES = ("decision_maker", "economic_buyer", "procurement", "blocker", "champion", "influencer", "user")
# the cue order that decides a role: "signs" is a decision maker's, or an economic buyer's with a finance title
_STRENGTH = ("decision_maker", "signs", "economic_buyer", "procurement", "blocker", "champion", "influencer", "user")


@dataclass(frozen=True)
class Person:
    """One decision-chain person: ``name`` or ``title`` may be None, never both."""

    name: str | None
    title: str | None
    role: str
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Mention:
    start: int
    end: int
    name: str | None
    title: str | None
    sentence: int
    group: bool = False
    cues: set[str] = field(default_factory=set)


def find_people(sentences: list[str]) -> list[Person]:
    """Every decision-chain person named in the sentences of one note, in order of first mention.

    >>> [(p.name, p.title, p.role) for p in find_people(["Their CFO, Mark Feld, signs anything over 50k."])]
    [('Mark Feld', 'CFO', 'economic_buyer')]
    """
    mentions: list[_Mention] = []
    known: list[str] = []
    last: _Mention | None = None
    for index, sentence in enumerate(sentences):
        zh = bool(lex.CJK.search(sentence))
        found = _mentions_zh(sentence, known) if zh else _mentions_en(sentence, known, index == 0)
        for m in found:
            m.sentence = index
        _attach_cues(sentence, found, last, zh)
        for m in found:
            if m.name and m.name not in known:
                known.append(m.name)
        named = [m for m in found if m.name]
        last = named[-1] if named else last
        mentions.extend(found)
    return _people(mentions, sentences)


# -- cues ---------------------------------------------------------------------------------------------
def _attach_cues(sentence: str, found: list[_Mention], last: _Mention | None, zh: bool) -> None:
    cues, before = (lex.ZH_CUES, lex.ZH_BEFORE) if zh else (lex.EN_CUES, lex.EN_BEFORE)
    for i, m in enumerate(found):
        end = found[i + 1].start if i + 1 < len(found) else len(sentence)
        after = sentence[m.end:end]
        m.cues |= _cues_in(after, cues, _next_named_at(after, before) if i + 1 < len(found) else len(after))
        speaker = next((x for x in reversed(found[:i]) if x.name), last)
        if m.group and speaker is not None:  # "袁佳，她手下15个质检员都要用，她本人非常积极": the cue is hers
            speaker.cues |= m.cues - {"user"}
        previous = found[i - 1].end if i else 0
        m.cues |= {role for role, pattern in before.items() if re.search(pattern, sentence[previous:m.start], re.I)}
    for m, after in zip(found, found[1:]):  # "卢静和CTO单磊一起定": both decide
        if re.fullmatch(lex.JOINED, sentence[m.end:after.start]) and sentence[after.end:].startswith("一起"):
            m.cues |= after.cues
    head = sentence[: found[0].start] if found else sentence
    pronoun = lex.ZH_SUBJECTLESS if zh else lex.EN_SUBJECTLESS
    if last is not None and (re.match(pronoun, head, re.I) or not found and re.search(lex.ZH_PRONOUN if zh else
                                                                                       lex.EN_PRONOUN, head, re.I)):
        last.cues |= _cues_in(head, cues)
        if found and all(m.group for m in found):  # "她手下15个质检员都要用，她本人非常积极": she is the champion
            last.cues |= _cues_in(sentence, cues) - {"user"}


def _next_named_at(text: str, before: dict[str, str]) -> int:
    """Where the words that name the next mention start ("冯晓只是传话的，真正做决定的是" | 葛建华): cues
    from there on are the next person's, not this one's."""
    return min((m.start() for pattern in before.values() if (m := re.search(pattern, text, re.I))), default=len(text))


def _cues_in(text: str, cues: dict[str, str], limit: int | None = None) -> set[str]:
    """The roles whose cue starts in ``text`` before ``limit`` (negated phrases blanked, offsets kept)."""
    text = re.sub(lex.NEGATED, lambda m: " " * len(m.group()), text, flags=re.I)
    limit = len(text) if limit is None else limit
    return {role for role, pattern in cues.items() if any(m.start() < limit for m in re.finditer(pattern, text, re.I))}


def _people(mentions: list[_Mention], sentences: list[str]) -> list[Person]:
    """Merge mentions of one person (full name first), then decide each person's role."""
    merged: dict[str, _Mention] = {}
    order: list[str] = []
    for m in mentions:
        key = m.name or f"title:{m.title}"
        if key not in merged:
            merged[key] = _Mention(m.start, m.end, m.name, m.title, m.sentence, m.group, set(m.cues))
            order.append(key)
        else:
            merged[key].cues |= m.cues
            merged[key].title = merged[key].title or m.title
    out = []
    for key in order:
        m = merged[key]
        role = _role(m)
        if role is not None:
            out.append(Person(m.name, m.title, role, sentences[m.sentence]))
    return out


def _role(m: _Mention) -> str | None:
    if m.group:
        return "user"  # a group's sentence may say more about the person who brought them up
    title = (m.title or "").lower()
    default = next((role for role, pattern in lex.TITLE_DEFAULTS.items() if re.search(pattern, title, re.I)), None)
    cued = next((role for role in _STRENGTH if role in m.cues), None)
    if cued == "signs":
        cued = "economic_buyer" if re.search(lex.FINANCE_TITLE, title, re.I) else "decision_maker"
    if default in ("decision_maker", "economic_buyer") and cued in ("champion", "influencer", "user"):
        return default
    if cued is not None:
        return cued
    if m.name is None:
        return None  # a bare title with nothing said about it
    return default or "influencer"


# -- English mentions --------------------------------------------------------------------------------
def _mentions_en(sentence: str, known: list[str], first: bool) -> list[_Mention]:
    titles = [_title_of_capitalised(sentence, m.start(), m.end()) for m in lex.EN_TITLE.finditer(sentence)]
    names = _names_en(sentence, titles, known, first)
    mentions = _pair(sentence, titles, names, lex.EN_TITLE_NAME_GAP, lex.EN_NAME_TITLE_GAP)
    named = [m for m in mentions if m.name]
    groups = _groups(sentence, named, lex.EN_GROUP)  # "admin team would be the users": a group, not a title
    mentions = named + [m for m in mentions if not m.name and not any(_overlap(m, g) for g in groups)] + groups
    return sorted(mentions, key=lambda m: m.start)


def _overlap(a: _Mention, b: _Mention) -> bool:
    return a.start < b.end and b.start < a.end


def _title_of_capitalised(sentence: str, start: int, end: int) -> tuple[int, int]:
    more = lex.EN_TITLE_OF_CAPITALISED.match(sentence, end)
    return (start, more.end()) if more else (start, end)


def _names_en(sentence: str, titles: list[tuple[int, int]], known: list[str], first: bool) -> list[tuple[int, int, str]]:
    """Runs of capitalised words that are not titles, stop words or a company ("Kestrel Logistics")."""
    runs: list[list[re.Match]] = [[]]
    for m in lex.EN_NAME_TOKEN.finditer(sentence):
        if m.group().lower() in lex.EN_NOT_NAME or _inside(m.start(), titles):
            runs.append([])
            continue
        if runs[-1] and sentence[runs[-1][-1].end():m.start()] != " ":
            runs.append([])
        runs[-1].append(m)
    out = []
    for run in filter(None, runs):
        tokens, start, end = [m.group() for m in run], run[0].start(), run[-1].end()
        if tokens[-1].lower() in lex.EN_COMPANY_WORDS or len(tokens) > 3:
            continue
        if first and start == 0 and not re.match(r"\s*[,(]", sentence[end:]):
            continue  # "Brightline: ...", "Hollis Pharmacy group", the company the note is about
        if re.search(r"(?:\bat|@|\bfrom|\bof)\s*$", sentence[:start]) and not _titled(sentence, end, titles):
            continue  # "lead at Orbit Broadband", "owner of Volkov Auto Repair"; not "the OK from Marisa Choi, the COO"
        if len(tokens) >= 2 or _is_known(tokens, known):
            out.append((start, end, _full_name(" ".join(tokens), known)))
    return out


def _titled(sentence: str, end: int, titles: list[tuple[int, int]]) -> bool:
    return any(re.fullmatch(r",\s*(?:the\s+|their\s+)?", sentence[end:start]) for start, _ in titles if start >= end)


def _is_known(tokens: list[str], known: list[str]) -> bool:
    return len(tokens) == 1 and any(name.split(" ")[0] == tokens[0] for name in known)


def _full_name(name: str, known: list[str]) -> str:
    return next((k for k in known if k.split(" ")[0] == name), name) if " " not in name else name


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= position < e for s, e in spans)


def _pair(sentence: str, titles, names, title_gap: str, name_gap: str) -> list[_Mention]:
    """A title right before a name ("CFO, Mark Feld") or right after one ("Priya Nair, head of ops") is one person."""
    mentions, used = [], set()
    for ns, ne, name in names:
        title = next(((ts, te) for ts, te in titles if (ts, te) not in used and ts < ns
                      and re.fullmatch(title_gap, sentence[te:ns])), None)
        title = title or next(((ts, te) for ts, te in titles if (ts, te) not in used and ts >= ne
                               and re.fullmatch(name_gap, sentence[ne:ts])), None)
        if title:
            used.add(title)
        start, end = (min(ns, title[0]), max(ne, title[1])) if title else (ns, ne)
        mentions.append(_Mention(start, end, name, sentence[title[0]:title[1]].strip() if title else None, 0))
    mentions += [_Mention(ts, te, None, sentence[ts:te].strip(), 0) for ts, te in titles if (ts, te) not in used]
    return mentions


def _groups(sentence: str, mentions: list[_Mention], pattern: re.Pattern) -> list[_Mention]:
    """User groups ("Agents (15) are the users", "调度员大概12个人，以后天天用") not already a mention."""
    out = []
    for m in pattern.finditer(sentence):
        name = next(g for g, v in m.groupdict().items() if v is not None)
        title = lex.strip_group(m.group(name))
        # the group's own words, not the clause before them ("she wants this for her front desk staff")
        start = m.start(name) + max(m.group(name).rfind(title or ""), 0)
        end = m.end(name)
        if title and not any(x.start < end and start < x.end for x in mentions + out):
            out.append(_Mention(start, end, None, title, 0, group=True, cues={"user"}))
    return out


# -- Chinese mentions --------------------------------------------------------------------------------
def _mentions_zh(sentence: str, known: list[str]) -> list[_Mention]:
    titles = []
    heads = list(lex.ZH_TITLE_HEAD.finditer(sentence))
    for m in heads:
        start = lex.zh_title_start(sentence, m.start())
        if titles and start <= titles[-1][1]:  # 主任 + 律师, 创始人兼 + CEO
            start = titles.pop()[0]
        titles.append((start, m.end()))
    names = _names_zh(sentence, titles, known, {m.end() for m in heads})
    titles = [cut for cut in (_cut(span, names) for span in titles) if cut]
    titles += [m.span() for m in lex.ZH_DEPT_TITLE.finditer(sentence) if not _inside(m.start(), titles)]
    mentions = _pair(sentence, sorted(titles), names, lex.ZH_TITLE_NAME_GAP, lex.ZH_NAME_TITLE_GAP)
    mentions += _groups(sentence, mentions, lex.ZH_GROUP)
    return sorted(mentions, key=lambda m: m.start)


def _cut(span: tuple[int, int], names: list[tuple[int, int, str]]) -> tuple[int, int] | None:
    """A title that runs into a name ends where the name starts ("采购部赵经理" -> 采购部 + 赵经理)."""
    start, end = span
    for ns, ne, _ in names:
        if ns < end and start < ne:
            end = min(end, ns) if ns > start else start
    return (start, end) if end > start else None


def _names_zh(sentence: str, titles: list[tuple[int, int]], known: list[str],
              head_ends: set[int]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    taken = [False] * (len(sentence) + 1)

    def add(start: int, end: int, name: str) -> None:
        if not any(taken[start:end]):
            out.append((start, end, name))
            for i in range(start, end):
                taken[i] = True

    for name in known:  # full names seen before; "Linda" for Linda Zhou
        for variant in {name, name.split(" ")[0]}:
            for m in re.finditer(rf"(?<![A-Za-z]){re.escape(variant)}(?![a-z])", sentence):
                add(m.start(), m.end(), name)
    for m in lex.ZH_HONORIFIC.finditer(sentence):  # 李总 right after a title stays 李总
        if any(end == m.start() for _, end in titles):
            add(m.start(), m.end(), m.group())
    for position in [end for _, end in titles] + [m.end() for m in lex.ZH_NAME_AFTER_CUE.finditer(sentence)]:
        given = lex.zh_name_at(sentence, position)
        latin = lex.LATIN_NAME.match(sentence, position)  # "收益管理总监Linda Zhou"
        if given or latin:
            add(position, position + len(given or latin.group()), given or latin.group())
    seen = known + [name for *_, name in out]
    for m in lex.ZH_HONORIFIC.finditer(sentence):  # 陈总, 张工: the full name seen before, if one
        if not _inside_title_word(sentence, m, head_ends):
            add(m.start(), m.end(), _zh_full(m.group(), seen))
    return sorted(out)


def _inside_title_word(sentence: str, m: re.Match, head_ends: set[int]) -> bool:
    """"设计总监" is no 计总监: a surname with a title head (总监, 厂长...) is a name only where nothing runs into it."""
    if not re.search(rf"(?:{lex.TITLE_SUFFIX})$", m.group()) or m.start() == 0 or m.start() in head_ends:
        return False
    before = sentence[m.start() - 1]
    return bool(lex.CJK.match(before)) and before not in lex.ZH_STOP_CHARS


def _zh_full(short: str, known: list[str]) -> str:
    """"陈总" is 陈静 when one person of that surname was named before; else stays "陈总"."""
    surname = short[1] if short.startswith("老") else short[0]
    same = [k for k in known if k[0] == surname and len(k) in (2, 3) and not lex.ZH_HONORIFIC.fullmatch(k)]
    return same[0] if len(same) == 1 else short
