"""The moment taxonomy: example phrasings per objection type and move, in English and Chinese.

Loaded from ``configs/moments.yaml`` (or a user file) and checked against the objection
types and moves configured in the settings, so a type without examples in one language
is refused at load time instead of silently never being detected there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

LANGUAGES = ("en", "zh")
KINDS = ("objection", "move")
NONE = "none"
_TOP_KEYS = {"version", "objections", "moves", "none"}


class TaxonomyError(ValueError):
    """A taxonomy file that cannot be used; the message names the file, the key and the reason."""


@dataclass(frozen=True)
class LabelledExample:
    """One labelled sentence: ``kind`` objection|move, ``label`` a type/move key or ``none``."""

    text: str
    language: str
    kind: str
    label: str
    source: str = "taxonomy"     # taxonomy | coach | generated


@dataclass(frozen=True)
class Taxonomy:
    """Validated examples; ``examples`` lists every phrasing as a :class:`LabelledExample`."""

    path: Path
    objection_types: tuple[str, ...]
    moves: tuple[str, ...]
    examples: tuple[LabelledExample, ...]


def bundled_taxonomy_path() -> Path:
    return Path(str(resources.files("talktrack.configs") / "moments.yaml"))


def load_taxonomy(path: Path | str | None, objection_types: Sequence[str], moves: Sequence[str]) -> Taxonomy:
    """Read and validate a taxonomy file (``None``: the bundled one).

    >>> tax = load_taxonomy(None, ["price"], ["acknowledge"])  # doctest: +SKIP
    Traceback (most recent call last):
    TaxonomyError: ...moments.yaml: objections has types not configured under objection_types: competitor, ...
    """
    path = Path(path) if path is not None else bundled_taxonomy_path()
    data = _read(path)
    examples = [
        *_section(path, data, "objections", tuple(objection_types), "objection"),
        *_section(path, data, "moves", tuple(moves), "move"),
        *_none_examples(path, data.get("none")),
    ]
    return Taxonomy(path, tuple(objection_types), tuple(moves), tuple(examples))


def _read(path: Path) -> dict:
    if not path.is_file():
        raise TaxonomyError(f"moment taxonomy {path}: not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"moment taxonomy {path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise TaxonomyError(f"moment taxonomy {path}: the top level must be a mapping with keys {sorted(_TOP_KEYS)}")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise TaxonomyError(f"moment taxonomy {path}: unknown keys {unknown}; accepted: {sorted(_TOP_KEYS)}")
    return data


def _section(path: Path, data: dict, key: str, configured: tuple[str, ...], kind: str) -> list[LabelledExample]:
    """Examples of one section; every configured label must be there, no other label may be."""
    section = data.get(key)
    if not isinstance(section, dict):
        raise TaxonomyError(f"moment taxonomy {path}: '{key}' must be a mapping of label -> {{en: [...], zh: [...]}}")
    extra = [label for label in section if label not in configured]
    if extra:
        raise TaxonomyError(f"moment taxonomy {path}: {key} has labels not configured in the settings: "
                            f"{', '.join(map(str, extra))} (configured: {', '.join(configured)})")
    missing = [label for label in configured if label not in section]
    if missing:
        raise TaxonomyError(f"moment taxonomy {path}: {key} lacks examples for {', '.join(missing)}; every "
                            f"configured label needs examples in {' and '.join(LANGUAGES)}")
    out = []
    for label in configured:
        for language, texts in _by_language(path, f"{key}.{label}", section[label]).items():
            out.extend(LabelledExample(text, language, kind, label) for text in texts)
    return out


def _none_examples(path: Path, section) -> list[LabelledExample]:
    """``none`` phrasings count as negatives for both kinds (a neutral sentence is neither)."""
    if section is None:
        raise TaxonomyError(f"moment taxonomy {path}: 'none' is missing: negative examples in {LANGUAGES} are needed")
    out = []
    for language, texts in _by_language(path, "none", section).items():
        out.extend(LabelledExample(text, language, kind, NONE) for text in texts for kind in KINDS)
    return out


def _by_language(path: Path, where: str, entry) -> dict[str, list[str]]:
    if not isinstance(entry, dict):
        raise TaxonomyError(f"moment taxonomy {path}: {where} must be a mapping with keys {list(LANGUAGES)}")
    unknown = sorted(set(entry) - set(LANGUAGES))
    if unknown:
        raise TaxonomyError(f"moment taxonomy {path}: {where} has unknown keys {unknown}; accepted: {list(LANGUAGES)}")
    out = {}
    for language in LANGUAGES:
        texts = entry.get(language)
        if not texts or not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
            raise TaxonomyError(f"moment taxonomy {path}: {where}.{language} needs a non-empty list of example "
                                "sentences")
        out[language] = [t.strip() for t in texts]
    return out
