"""Chinese script and language codes: Simplified output, and one code for Mandarin.

Why a converter: Whisper's multilingual models were trained on Chinese in both scripts and, even
with a Simplified initial prompt, write some words in Traditional characters (on the AISHELL clip
"广州市房地产中介协会分析", Whisper base wrote 廣州市 佛地產 without a prompt). Transcripts are
searched, embedded and shown to Simplified-Chinese teams, so the words go through OpenCC's
``t2s`` tables (the ``opencc`` package ships its dictionaries; nothing is fetched). Per word is
enough: t2s is a character mapping with few phrase rules.

    >>> to_simplified("這個 ROI 我們 check 一下")
    '这个 ROI 我们 check 一下'
    >>> normalise_language("zh-TW"), normalise_language("cmn"), normalise_language("EN")
    ('zh', 'zh', 'en')
"""

from __future__ import annotations

import functools

# codes a manifest, a CRM or a form may use for Mandarin / Chinese → Whisper's code
_ALIASES = {"cmn": "zh", "mandarin": "zh", "chinese": "zh", "zho": "zh", "chi": "zh", "english": "en", "eng": "en"}


def normalise_language(code: str | None) -> str | None:
    """A language tag as Whisper names it: lower case, region dropped (``zh-CN`` → ``zh``), aliases mapped."""
    if code is None or not str(code).strip():
        return None
    base = str(code).strip().lower().replace("_", "-").split("-")[0]
    return _ALIASES.get(base, base)


@functools.lru_cache(maxsize=1)
def _converter():
    try:
        import opencc
    except ImportError:
        raise RuntimeError(
            "Simplified-Chinese output needs the opencc package: pip install opencc==1.4.2 "
            "(or set models.transcriber.simplified_chinese: false)"
        ) from None
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` with Traditional characters replaced by Simplified ones; Latin text is left as is."""
    return _converter().convert(text) if text else text
