"""Read CSV or JSON Lines into ``(line, fields)`` records, keeping bad lines as problems.

A file is decoded once with ``surrogateescape``, so bytes that are not valid in the
declared encoding survive as lone surrogates: the row holding them is reported
(with the offending bytes) and every other row still reads.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = (".csv", ".jsonl")


@dataclass(frozen=True)
class RawRecord:
    """One row as read: its first line number, and either fields or why it is unreadable."""

    line: int
    fields: dict[str, object] | None
    error: str | None = None


def find_entity_file(directory: Path, entity: str) -> Path | None:
    """``DIR/reps.csv`` or ``DIR/reps.jsonl``; both present is ambiguous."""
    found = [directory / f"{entity}{suffix}" for suffix in SUPPORTED_SUFFIXES]
    found = [path for path in found if path.is_file()]
    if len(found) > 1:
        raise ValueError(f"both {found[0].name} and {found[1].name} exist in {directory}; keep one")
    return found[0] if found else None


def read_records(path: Path, encoding: str = "utf-8") -> tuple[list[str], Iterator[RawRecord]]:
    """Return the column names (CSV header; empty for JSONL) and the records of ``path``."""
    text = _decode(path.read_bytes(), encoding)
    if path.suffix == ".csv":
        return _read_csv(text, encoding)
    return [], _read_jsonl(text, encoding)


def _decode(data: bytes, encoding: str) -> str:
    if encoding.replace("-", "").lower() in ("utf8", "utf8sig") and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode(encoding, errors="surrogateescape")


def _read_csv(text: str, encoding: str) -> tuple[list[str], Iterator[RawRecord]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        return [], iter(())
    return header, _csv_rows(reader, header, encoding)


def _csv_rows(reader, header: list[str], encoding: str) -> Iterator[RawRecord]:
    line = reader.line_num + 1
    for values in reader:
        if not any(value.strip() for value in values):
            line = reader.line_num + 1
            continue
        problem = _undecodable(values, encoding)
        if problem:
            yield RawRecord(line, None, problem)
        elif len(values) != len(header):
            yield RawRecord(line, None, f"has {len(values)} fields, the header has {len(header)}")
        else:
            yield RawRecord(line, dict(zip(header, values, strict=True)))
        line = reader.line_num + 1


def _read_jsonl(text: str, encoding: str) -> Iterator[RawRecord]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        problem = _undecodable([raw], encoding)
        if problem:
            yield RawRecord(number, None, problem)
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield RawRecord(number, None, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(value, dict):
            yield RawRecord(number, None, f"a line must be a JSON object, not {type(value).__name__}")
        else:
            yield RawRecord(number, value)


def _undecodable(values: list[str], encoding: str) -> str | None:
    bad = [ch for value in values for ch in value if "\udc80" <= ch <= "\udcff"]
    if not bad:
        return None
    shown = " ".join(f"0x{ord(ch) - 0xDC00:02X}" for ch in bad[:4])
    hint = " (if the file is GBK/GB18030, import with --encoding gb18030)" if encoding.startswith("utf") else ""
    return f"not valid {encoding}: bytes {shown}{hint}"
