"""ASR accuracy: WER for English, CER for Chinese, on files with reference text.

References come as a plain-text file (the one reference of a single audio file) or as
Kaldi-style ``id text`` lines, ``id`` being the audio file's stem (LibriSpeech/AISHELL
``text`` files, ``jfk.ref.txt``). Both sides are normalised the same way before scoring:

- English: NFKC, lower case, contractions expanded ("can't" → "can not", "it's" → "it is"),
  hyphens split, numbers spelled out ("30" → "thirty", "1995" → "nineteen ninety five",
  "3rd" → "third", "5%" → "five percent"), punctuation removed, whitespace collapsed;
  tokens are words.
- Chinese: NFKC, lower case, spaces and punctuation removed; tokens are characters (a
  Latin word inside Chinese text counts as one token), so the word error rate of the
  token lists is the CER.

Totals pool the edit counts of all files (errors / reference tokens), as sclite does.

    >>> transcriber = Transcriber(settings.models.transcriber)
    >>> report = evaluate_asr(["jfk.flac"], "jfk.ref.txt", transcriber=transcriber)  # doctest: +SKIP
    >>> report["overall"]["wer"]["error_rate"]
    0.0
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jiwer

from talktrack.models.audio import AudioError, decode_audio
from talktrack.models.language_routing import LanguageRouter
from talktrack.models.transcription import Transcriber

CJK_LANGUAGES = {"zh", "cmn", "yue", "ja", "wuu"}
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff]")
_CONTRACTIONS = [
    (r"\bcan't\b", "can not"), (r"\bwon't\b", "will not"), (r"\bshan't\b", "shall not"),
    (r"\blet's\b", "let us"), (r"n't\b", " not"), (r"'re\b", " are"), (r"'ve\b", " have"),
    (r"'ll\b", " will"), (r"'m\b", " am"), (r"'d\b", " would"),
    (r"\b(it|that|what|there|here|he|she|who|where|how)'s\b", r"\1 is"),
]  # fmt: skip
_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINAL_ENDINGS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth",
    "twelve": "twelfth",
}  # fmt: skip

EN_TRANSFORM = jiwer.Compose([jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(), jiwer.Strip()])


# --- normalisation -----------------------------------------------------------------------


def is_chinese(text: str, language: str | None = None) -> bool:
    """A language code decides when given; else ≥30% CJK among the non-space characters."""
    if language:
        return language.split("-")[0].lower() in CJK_LANGUAGES
    chars = [c for c in text if not c.isspace()]
    return bool(chars) and sum(bool(_CJK.match(c)) for c in chars) / len(chars) >= 0.3


def normalise_english(text: str) -> list[str]:
    """Words of an English text after the normalisation above.

    >>> " ".join(normalise_english("It's 30% off, isn't it? In 1995 the 3rd one-off."))
    'it is thirty percent off is not it in nineteen ninety five the third one off'
    """
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = re.sub(pattern, replacement, text)
    text = re.sub(r"\$(\d[\d,]*(?:\.\d+)?)", r"\1 dollars", text)
    text = re.sub(r"(\d)%", r"\1 percent", text)
    text = re.sub(r"\b(\d[\d,]*)\.(\d+)\b", _decimal, text)
    text = re.sub(r"\b\d{1,3}(?:,\d{3})+\b", lambda m: _cardinal(int(m.group().replace(",", ""))), text)
    text = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: _ordinal(int(m.group(1))), text)
    text = re.sub(r"\b\d+\b", lambda m: _number(m.group()), text)
    text = re.sub(r"[-–—/]", " ", text)
    text = EN_TRANSFORM(text)
    return text.split()


def normalise_chinese(text: str) -> list[str]:
    """Characters of a Chinese text (a Latin word or number counts as one token), no spaces or punctuation.

    >>> normalise_chinese("甚至 出现，交易 iPhone 停滞！")
    ['甚', '至', '出', '现', '交', '易', 'iphone', '停', '滞']
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(c)[0] in "PSZ" else c for c in text)
    return re.findall(r"[a-z0-9']+|\S", text)


def _decimal(match: re.Match) -> str:
    whole = _cardinal(int(match.group(1).replace(",", "")))
    return f"{whole} point {' '.join(_ONES[int(d)] for d in match.group(2))}"


def _number(digits: str) -> str:
    value = int(digits)
    if len(digits) == 4 and (1100 <= value <= 1999 or 2010 <= value <= 2099) and value % 100:
        return f"{_cardinal(value // 100)} {_year_tail(value % 100)}"
    if len(digits) == 4 and 1100 <= value <= 1999:  # 1900 → nineteen hundred
        return f"{_cardinal(value // 100)} hundred"
    if len(digits) > 1 and digits.startswith("0"):  # 007, 0800: digit by digit
        return " ".join(_ONES[int(d)] for d in digits)
    return _cardinal(value)


def _year_tail(value: int) -> str:
    return f"oh {_ONES[value]}" if value < 10 else _cardinal(value)


def _cardinal(value: int) -> str:
    if value < 20:
        return _ONES[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {_cardinal(rest)}" if rest else "")
    for size, name in ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        if value >= size:
            high, rest = divmod(value, size)
            return f"{_cardinal(high)} {name}" + (f" {_cardinal(rest)}" if rest else "")
    raise AssertionError("unreachable")


def _ordinal(value: int) -> str:
    words = _cardinal(value).split()
    last = words[-1]
    if last in _ORDINAL_ENDINGS:
        words[-1] = _ORDINAL_ENDINGS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


# --- references --------------------------------------------------------------------------


def read_references(ref_path: str | Path, audio_paths: Sequence[str | Path]) -> dict[str, str | None]:
    """Reference text per audio path (None when the file has none for it).

    Kaldi-style when any line's first token is an audio stem; otherwise, for a single audio
    file, the whole file is its reference; otherwise a ValueError explains the mismatch.
    """
    text = Path(ref_path).read_text(encoding="utf-8-sig")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    stems = {str(path): Path(path).stem for path in audio_paths}
    keyed = dict(_split_id(line) for line in lines)
    if any(stem in keyed for stem in stems.values()):
        return {path: keyed.get(stem) for path, stem in stems.items()}
    if len(stems) == 1:
        return {next(iter(stems)): " ".join(lines)}
    raise ValueError(
        f"{ref_path}: no line starts with an audio file's stem ({', '.join(sorted(stems.values()))}); "
        "give Kaldi-style 'id text' lines, or one audio file with a plain-text reference"
    )


def _split_id(line: str) -> tuple[str, str]:
    parts = line.split(maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else ""


# --- scoring -----------------------------------------------------------------------------


def score(reference: str, hypothesis: str, *, language: str | None = None) -> dict[str, Any]:
    """Edit counts and error rate of one hypothesis against one reference."""
    chinese = is_chinese(reference, language)
    normalise = normalise_chinese if chinese else normalise_english
    ref_tokens, hyp_tokens = normalise(reference), normalise(hypothesis)
    metric = "cer" if chinese else "wer"
    joiner = "" if chinese else " "
    shown = {"reference_normalised": joiner.join(ref_tokens), "hypothesis_normalised": joiner.join(hyp_tokens)}
    if not ref_tokens:  # nothing to be wrong about: no rate, but the insertions still count
        counts = {"hits": 0, "substitutions": 0, "deletions": 0, "insertions": len(hyp_tokens)}
        return {"metric": metric, "error_rate": None, "reference_units": 0, **counts, **shown}
    out = jiwer.process_words(" ".join(ref_tokens), " ".join(hyp_tokens))
    errors = out.substitutions + out.deletions + out.insertions
    return {
        "metric": metric,
        "error_rate": round(errors / len(ref_tokens), 4),
        "reference_units": len(ref_tokens),
        "hits": out.hits,
        "substitutions": out.substitutions,
        "deletions": out.deletions,
        "insertions": out.insertions,
        **shown,
    }


def evaluate_asr(
    audio_paths: Sequence[str | Path],
    ref_path: str | Path,
    *,
    transcriber: Transcriber | LanguageRouter,
    language: str | None = None,
) -> dict[str, Any]:
    """Transcribe each file and score it; per-file rows and pooled totals per metric (JSON-ready).

    With a :class:`LanguageRouter` each file names the model its language was routed to."""
    references = read_references(ref_path, audio_paths)
    files = [
        _evaluate_one(str(path), references.get(str(path)), transcriber, language) for path in audio_paths
    ]
    overall = _pool(files)
    report: dict[str, Any] = {
        "reference_file": str(ref_path),
        "language": language,
        "models": {row["model"]["name"]: row["model"] for row in files if "model" in row},
        "normalisation": (
            "en: lowercase, contractions expanded, numbers as words, no punctuation; "
            "zh: characters, no spaces or punctuation"
        ),
        "files": files,
        "overall": overall,
    }
    if len(overall) == 1:
        (metric, totals), = overall.items()
        report.update(metric=metric, error_rate=totals["error_rate"])
    return report


def _evaluate_one(
    path: str, reference: str | None, transcriber: Transcriber | LanguageRouter, language: str | None
) -> dict[str, Any]:
    row: dict[str, Any] = {"audio": path, "id": Path(path).stem}
    if reference is None:
        return {**row, "error": "no reference line for this file's stem"}
    try:
        audio = decode_audio(path)
    except AudioError as exc:
        return {**row, "error": str(exc)}
    started = time.perf_counter()
    result = transcriber.transcribe(audio.mono, language=language)
    elapsed = time.perf_counter() - started
    return {
        **row,
        "reference": reference,
        "hypothesis": result.text,
        "language": result.language,
        "language_source": result.options.get("language_source", "given" if language else "model"),
        "model": result.model.to_dict(),
        "device": f"{result.device}/{result.compute_type}",
        "duration_s": round(audio.duration_s, 3),
        "transcribe_s": round(elapsed, 4),
        "real_time_factor": round(elapsed / audio.duration_s, 4),
        **score(reference, result.text, language=language),
    }


_POOLED = ("files", "reference_units", "hits", "substitutions", "deletions", "insertions", "audio_s", "transcribe_s")


def _pool(files: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    pooled: dict[str, dict[str, Any]] = {}
    for row in files:
        if row.get("error_rate") is None:
            continue
        totals = pooled.setdefault(row["metric"], dict.fromkeys(_POOLED, 0))
        totals["files"] += 1
        for key in ("reference_units", "hits", "substitutions", "deletions", "insertions"):
            totals[key] += row[key]
        totals["audio_s"] += row["duration_s"]
        totals["transcribe_s"] += row["transcribe_s"]
    for totals in pooled.values():
        errors = totals["substitutions"] + totals["deletions"] + totals["insertions"]
        totals["error_rate"] = round(errors / totals["reference_units"], 4)
        totals["audio_s"] = round(totals["audio_s"], 3)
        totals["transcribe_s"] = round(totals["transcribe_s"], 4)
        totals["real_time_factor"] = round(totals["transcribe_s"] / max(totals["audio_s"], 1e-9), 4)
    return pooled


# --- who said it: speaker-attributed WER ---------------------------------------------------

# Hesitations that human references and Whisper's own normaliser leave out; whether a decoder
# writes "uh" says nothing about the words it kept or lost, so both sides drop them.
_FILLERS = re.compile(r"\b(?:uh+|um+|umm|hmm+|mm+|mhm|ah|er|erm)\b[,.!?]*", re.IGNORECASE)


def drop_fillers(text: str) -> str:
    """``text`` without hesitation fillers (uh, um, hmm, mhm, ...), as Whisper's English normaliser does.

    >>> drop_fillers("Uh, the first availability is, um, Tuesday.")
    ' the first availability is,  Tuesday.'
    """
    return _FILLERS.sub("", text)


def score_speakers(
    references: dict[str, str], hypotheses: dict[str, str], *, language: str | None = None
) -> dict[str, Any]:
    """cpWER (CER for Chinese): each speaker's words concatenated, hypothesis speakers matched to
    reference speakers one to one so that the total errors are fewest (Hungarian assignment).

    A word given to the wrong speaker costs a deletion in one stream and an insertion in the other,
    so the rate counts lost words, invented words and misattributed words alike; a surplus
    speaker on either side is matched to an empty stream. Speaker labels need not agree.

    >>> score_speakers({"agent": "how can I help", "caller": "my car"},
    ...                {"S1": "my car", "S0": "how can I help"})["error_rate"]
    0.0
    """
    from scipy.optimize import linear_sum_assignment

    ref_names, hyp_names = list(references), list(hypotheses)
    size = max(len(ref_names), len(hyp_names))
    refs = [references[n] for n in ref_names] + [""] * (size - len(ref_names))
    hyps = [hypotheses[n] for n in hyp_names] + [""] * (size - len(hyp_names))
    pairs = [[score(r, h, language=language) for h in hyps] for r in refs]
    errors = [[p["substitutions"] + p["deletions"] + p["insertions"] for p in row] for row in pairs]
    rows, cols = linear_sum_assignment(errors)
    units = sum(row[0]["reference_units"] for row in pairs)
    total = sum(errors[i][j] for i, j in zip(rows, cols, strict=True))
    mapping = {hyp_names[j]: ref_names[i] for i, j in zip(rows, cols, strict=True)
               if i < len(ref_names) and j < len(hyp_names)}
    metric = "cpcer" if pairs[0][0]["metric"] == "cer" else "cpwer"
    return {
        "metric": metric,
        "error_rate": round(total / units, 4) if units else None,
        "reference_units": units,
        "errors": total,
        "speaker_mapping": mapping,
    }
