"""The drill book: reply examples and personas, the hand-written content of drills.

It lives in the file ``settings.drills.file`` names (null: the bundled ``configs/drills.yaml``),
beside the settings tree as the moment taxonomy and the SOP book do; the numbers that tune
drills (languages, scoring, policy, generator) are in the tree, ``settings.drills``.

Example::

    book = load_drill_book(settings.drills)
    sorted(book.personas)   # ['analytical', 'busy_executive', 'friendly', 'skeptical']
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from talktrack.core.config import ConfigError, DrillSettings
from talktrack.models.drills import AnswerQuality, Persona

SETTINGS_KEYS = ("languages", "scoring", "policy", "generator")


class DrillBook(BaseModel):
    """``replies``: example phrasings per reaction and language (what the reply reader learns from);
    ``personas``: per key, names, line length, traits and lead-ins; ``answer_qualities``: what a
    drill answer is judged on (strengths and failures, their evidence and feedback text)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = 1
    replies: dict[Literal["concede", "push_back", "neither"], dict[str, list[str]]]
    personas: dict[str, Persona]
    answer_qualities: dict[str, AnswerQuality]


def book_path(settings: DrillSettings) -> Path:
    """``settings.file``, else the bundled ``configs/drills.yaml``."""
    if settings.file:
        return Path(settings.file)
    return Path(str(resources.files("talktrack.configs") / "drills.yaml"))


def load_drill_book(settings: DrillSettings) -> DrillBook:
    """The book ``settings`` names, validated; a :class:`ConfigError` names the file and what is wrong."""
    path = book_path(settings)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"drills.file {path}: not a readable YAML file ({exc})") from None
    moved = [key for key in SETTINGS_KEYS if key in data]
    if moved:  # a drills.yaml of the earlier layout, which held these too
        raise ConfigError(f"drills.file {path}: {', '.join(moved)} belong in the settings tree now, under "
                          "`drills:` in your --config file (or TALKTRACK_DRILLS__... variables); keep only "
                          "replies and personas in this file")
    for key, persona in (data.get("personas") or {}).items():
        persona.setdefault("key", key)
    try:
        book = DrillBook.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"drills.file {path}: {exc}") from None
    check_weights(book, settings, path)
    return book


def check_weights(book: DrillBook, settings: DrillSettings, path: Path) -> None:
    """Every strength needs a weight and every failure a penalty in ``drills.scoring``, and back."""
    scoring = settings.scoring
    for kind, weights, name in (("strength", scoring.strength_weights, "strength_weights"),
                                ("failure", scoring.failure_penalties, "failure_penalties")):
        keys = {k for k, q in book.answer_qualities.items() if q.kind == kind}
        if keys != set(weights):
            raise ConfigError(f"drills.file {path}: its {kind} qualities ({', '.join(sorted(keys)) or 'none'}) "
                              f"and drills.scoring.{name} ({', '.join(sorted(weights)) or 'none'}) must name the same keys")
