"""Text exports in whatever encoding they came in: UTF-8 (with or without BOM), UTF-16 with a BOM, or
GB18030 (the superset of GBK and GB2312 that Chinese Windows tools write).

Why detect instead of asking: one export folder often mixes both (a WeCom archive in UTF-8, a CSV that a
manager saved from Excel in GBK). UTF-8 is tried strictly first, because GB18030 decodes almost any byte
string without error while UTF-8 rejects GB bytes at once; a file that is neither decodes as UTF-8 with
its bad bytes kept as lone surrogates, so only the rows that hold them are reported.
"""

from __future__ import annotations

import codecs
from pathlib import Path

FALLBACK_ENCODINGS = ("gb18030",)


def read_text(path: Path, declared: str | None = None) -> tuple[str, str]:
    """(text, encoding used) of ``path``; ``declared`` (e.g. ``--encoding``) is tried first when given."""
    data = path.read_bytes()
    return decode_text(data, declared)


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="surrogateescape"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    candidates = [encoding for encoding in (declared, "utf-8", *FALLBACK_ENCODINGS) if encoding]
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    # Neither decodes the whole file: take the one that reads more lines, keep the bad bytes as escapes.
    lines = data.splitlines()
    encoding = min(candidates, key=lambda name: sum(not _decodes(line, name) for line in lines))
    return data.decode(encoding, errors="surrogateescape"), encoding


def _decodes(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def undecodable(value: str) -> str | None:
    """Why a row read with surrogate escapes is unreadable (its first bad bytes), or None when it is fine."""
    bad = [ch for ch in value if "\udc80" <= ch <= "\udcff"]
    if not bad:
        return None
    shown = " ".join(f"0x{ord(ch) - 0xDC00:02X}" for ch in bad[:4])
    return f"undecodable bytes {shown} (the file is neither clean UTF-8 nor GB18030)"
