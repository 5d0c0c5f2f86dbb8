"""Hand-written real-phrasing sets: how customers and reps actually talk, kept out of training.

Each set is one YAML file in this folder, written by the team (never produced from the world
generator's phrase tables), holding a list of items. Every item has at least:

- ``id``: unique within the set (e.g. ``obj-en-017``);
- ``lang``: ``en``, ``zh`` or ``mixed`` (Chinese with English words);
- ``split``: ``dev`` (thresholds and choices may be tuned on it) or ``test`` (reported only).

The other keys depend on the set (an objection's ``type``, a drill answer's ``grade``, a field
note's ``expected`` fields...). Nothing in ``models/``, ``pipelines/`` or ``training/`` may read
these files (the layer rule in ``tests/test_architecture.py`` keeps ``evaluation`` out of their
reach), so no model is ever trained on the sentences it is graded on; an evaluation may use the
dev split as coach labels and must say so.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SPLITS = ("dev", "test")
LANGUAGES = ("en", "zh", "mixed")


class PhrasingSetError(ValueError):
    """A hand-written set is malformed: names the file and the item."""


def available() -> list[str]:
    """The names of the sets shipped here (file stems)."""
    return sorted(path.stem for path in HERE.glob("*.yaml"))


@cache
def _load(name: str) -> tuple[dict, ...]:
    path = HERE / f"{name}.yaml"
    if not path.is_file():
        raise PhrasingSetError(f"no real-phrasing set {name!r}; sets: {', '.join(available()) or 'none'}")
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(items, dict) and "items" in items:
        items = items["items"]
    if not isinstance(items, list):
        raise PhrasingSetError(f"{path.name}: expected a list of items")
    seen: Counter[str] = Counter()
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise PhrasingSetError(f"{path.name}: item {position} is not a mapping")
        for key in ("id", "lang", "split"):
            if key not in item:
                raise PhrasingSetError(f"{path.name}: item {item.get('id', position)} has no {key!r}")
        if item["split"] not in SPLITS:
            raise PhrasingSetError(f"{path.name}: item {item['id']} has split {item['split']!r}, not one of {SPLITS}")
        if item["lang"] not in LANGUAGES:
            raise PhrasingSetError(f"{path.name}: item {item['id']} has lang {item['lang']!r}, not one of {LANGUAGES}")
        seen[str(item["id"])] += 1
    doubled = [item_id for item_id, count in seen.items() if count > 1]
    if doubled:
        raise PhrasingSetError(f"{path.name}: ids used twice: {', '.join(sorted(doubled)[:5])}")
    return tuple(items)


def load(name: str, *, split: str | None = None, lang: str | None = None) -> list[dict]:
    """The items of set ``name``, optionally only one split and/or one language (copies: edit freely)."""
    if split is not None and split not in SPLITS:
        raise PhrasingSetError(f"split must be one of {SPLITS}, not {split!r}")
    return [dict(item) for item in _load(name)
            if (split is None or item["split"] == split) and (lang is None or item["lang"] == lang)]
