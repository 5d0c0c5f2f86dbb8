"""Pick the lexicon module (``phrases_en`` or ``phrases_zh``) of a language."""

from __future__ import annotations

from types import ModuleType

from talktrack.evaluation.world import phrases_en, phrases_zh

_LEXICONS: dict[str, ModuleType] = {"en": phrases_en, "zh": phrases_zh}


def lexicon(language: str) -> ModuleType:
    """The phrasings, names and formatters of ``language``; both modules define the same names."""
    try:
        return _LEXICONS[language]
    except KeyError:
        raise ValueError(f"no lexicon for language {language!r}; available: {', '.join(_LEXICONS)}") from None
