"""Load call transcripts (``talktrack.transcript/1`` JSON) into speakers and utterances.

A transcript is keyed to its call; an unchanged file (same SHA-256) is skipped, a
changed one replaces the call's speakers and utterances in one savepoint, so a bad
file never leaves a half-written call behind.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from pydantic import ValidationError
from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.calls import write_transcript
from talktrack.core.catalog.schema import TRANSCRIBED_FROM_AUDIO, Call
from talktrack.core.progress import Progress
from talktrack.core.records import Transcript
from talktrack.pipelines.crm_import.report import EntityCounts, ImportReport, Problem


def import_transcripts(
    catalog: Catalog, directory: Path, report: ImportReport, progress: Progress | None = None
) -> None:
    """Load the transcript of every call that points at one, plus any orphans in ``transcripts/``."""
    with catalog.session() as session:
        calls = {call.transcript_path: call for call in session.scalars(select(Call).where(Call.transcript_path.is_not(None)))}
        paths = sorted(set(calls) | {str(p.resolve()) for p in (directory / "transcripts").glob("*.json")})
        if not paths:
            return
        counts = EntityCounts("transcripts", "transcripts/")
        for done, path in enumerate(paths, start=1):
            counts.read += 1
            outcome = _load_one(session, Path(path), calls.get(path))
            if outcome in ("inserted", "updated", "unchanged"):
                setattr(counts, outcome, getattr(counts, outcome) + 1)
            else:
                counts.rejected += 1
                report.problems.append(_problem(Path(path), directory, outcome))
            if progress:
                progress("transcripts", done, len(paths))
        report.counts.append(counts)


def _problem(path: Path, directory: Path, reason: str) -> Problem:
    try:
        shown = str(path.relative_to(directory))
    except ValueError:
        shown = str(path)
    return Problem(shown, 0, reason)


def _load_one(session, path: Path, call: Call | None) -> str:
    try:
        data = path.read_bytes()
        transcript = Transcript.model_validate_json(data)
    except (OSError, ValidationError, json.JSONDecodeError) as exc:
        return f"not a valid transcript: {_short(exc)}"
    if call is None:
        call = session.scalar(select(Call).where(Call.external_id == (transcript.call_id or path.stem)))
        if call is None:
            return f"no call {transcript.call_id or path.stem!r} in calls; add it to calls.csv"
        call.transcript_path = str(path)
    if transcript.call_id and transcript.call_id != call.external_id:
        return f"transcript is for call {transcript.call_id!r}, but call {call.external_id!r} points at it"
    digest = hashlib.sha256(data).hexdigest()
    if call.transcript_hash == digest or call.status == TRANSCRIBED_FROM_AUDIO:
        return "unchanged"  # the same file, or the call was transcribed from its recording
    outcome = "inserted" if call.transcript_hash is None else "updated"
    with session.begin_nested():
        write_transcript(session, call, transcript, status="imported")
        call.transcript_hash = digest
    return outcome


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"{where}: {first['msg']}{more}"
    return str(exc)
