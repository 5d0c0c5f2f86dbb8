"""What to ingest: every audio file under a folder, or the rows of a manifest CSV.

A manifest names one recording per row (``path`` required; ``call_id``, ``rep_id``,
``deal_id``, ``customer_id``, ``language``, ``num_speakers``, ``call_type`` optional), so a dialer
export can carry its metadata into the catalog (``call_type`` = ``phone_call``: two parties, so the
diarizer finds at most two speakers). A bad manifest row is reported, not fatal.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".aac", ".mp4", ".ogg", ".opus", ".oga", ".webm", ".wma")


@dataclass(frozen=True)
class IngestItem:
    """One recording to process, with whatever the manifest said about it."""

    path: Path
    call_id: str | None = None
    rep_id: str | None = None
    deal_id: str | None = None
    customer_id: str | None = None
    language: str | None = None
    num_speakers: int | None = None
    call_type: str | None = None


@dataclass(frozen=True)
class ManifestProblem:
    line: int
    reason: str


def discover(source: Path) -> tuple[list[IngestItem], list[ManifestProblem]]:
    """Items from a directory (recursively, sorted) or a manifest CSV."""
    source = Path(source)
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
        return [IngestItem(path.resolve()) for path in files], []
    if source.is_file() and source.suffix.lower() == ".csv":
        return read_manifest(source)
    raise FileNotFoundError(f"{source}: neither a directory of recordings nor a manifest .csv")


def read_manifest(path: Path) -> tuple[list[IngestItem], list[ManifestProblem]]:
    items: list[IngestItem] = []
    problems: list[ManifestProblem] = []
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.DictReader(handle)
        if "path" not in (reader.fieldnames or []):
            return [], [ManifestProblem(1, "manifest needs a 'path' column")]
        for row in reader:
            line = reader.line_num
            try:
                items.append(_item(row, path.parent))
            except ValueError as exc:
                problems.append(ManifestProblem(line, str(exc)))
    return items, problems


def _item(row: dict[str, str], base: Path) -> IngestItem:
    raw = (row.get("path") or "").strip()
    if not raw:
        raise ValueError("empty path")
    audio = Path(raw).expanduser()
    audio = audio if audio.is_absolute() else (base / audio)
    speakers = (row.get("num_speakers") or "").strip()
    if speakers and (not speakers.isdigit() or int(speakers) < 1):
        raise ValueError(f"num_speakers {speakers!r} is not a positive integer")

    def text(name: str) -> str | None:
        return (row.get(name) or "").strip() or None

    return IngestItem(
        path=audio.resolve(),
        call_id=text("call_id"),
        rep_id=text("rep_id"),
        deal_id=text("deal_id"),
        customer_id=text("customer_id"),
        language=text("language"),
        num_speakers=int(speakers) if speakers else None,
        call_type=text("call_type"),
    )
