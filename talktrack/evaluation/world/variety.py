"""How varied a world's words are: the share of utterances whose text is distinct.

A detector trained on generated calls learns whatever repeats; a world whose 44,000
utterances hold 13,000 distinct texts teaches sentences, not meanings. This counts, per
language and per kind (customer objection lines, rep move lines, everything else), how
many utterances there are and how many distinct texts they hold.
"""

from __future__ import annotations

from pathlib import Path

from talktrack.evaluation.world.labels import load_truth, truth_utterances

KINDS = ("objection", "move", "other")


def utterance_kind(act: str) -> str:
    return act if act in ("objection", "move") else "other"


def distinct_share(world_dir: Path | str) -> dict:
    """{"all": {...}, "by_language": {lang: {kind: {...}}}}, each {...} being
    {"utterances", "distinct", "share"}; a text counts once per group it appears in.

    >>> distinct_share("/tmp/world")["all"]["share"]  # doctest: +SKIP
    0.87
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for utterance in truth_utterances(Path(world_dir), load_truth(Path(world_dir))):
        language = "zh" if utterance.language.startswith("zh") else "en"
        groups.setdefault((language, utterance_kind(utterance.labels["act"])), []).append(utterance.text)
    by_language: dict[str, dict[str, dict]] = {}
    for (language, kind), texts in sorted(groups.items()):
        by_language.setdefault(language, {})[kind] = _share(texts)
    return {"all": _share([t for texts in groups.values() for t in texts]), "by_language": by_language}


def _share(texts: list[str]) -> dict:
    distinct = len(set(texts))
    return {"utterances": len(texts), "distinct": distinct, "share": round(distinct / max(1, len(texts)), 4)}
