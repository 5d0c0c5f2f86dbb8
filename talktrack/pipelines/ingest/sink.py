"""Where ingest results land: the catalog (one transaction per file) and the workspace.

Calls are identified by the SHA-256 of their audio, so a re-run skips what is done,
retries what failed, and never creates a second call for the same recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.calls import mark_failed, utcnow, write_transcript
from talktrack.core.catalog.schema import TRANSCRIBED_FROM_AUDIO, Call, Customer, Deal, Rep
from talktrack.core.records import Transcript
from talktrack.pipelines.ingest.manifest import IngestItem

IN_PROGRESS = "processing"


@dataclass(frozen=True)
class Registered:
    """A recording known to the catalog: its call id, and whether it still needs work."""

    item: IngestItem
    content_hash: str
    call_id: str
    needs_work: bool
    language: str | None = None


def register(catalog: Catalog, item: IngestItem, content_hash: str) -> Registered:
    """Find or create the call for this recording; mark it in progress unless it is done."""
    with catalog.session() as session:
        call = session.scalar(select(Call).where(Call.content_hash == content_hash))
        if call is None and item.call_id:
            call = session.scalar(select(Call).where(Call.external_id == item.call_id))
        if call is None:
            call = Call(external_id=item.call_id or f"AUD-{content_hash[:16]}", status="pending")
            session.add(call)
        _apply_metadata(session, call, item, content_hash)
        needs_work = call.status != TRANSCRIBED_FROM_AUDIO
        if needs_work:
            call.status, call.error, call.updated_at = IN_PROGRESS, None, utcnow()
        return Registered(item, content_hash, call.external_id, needs_work, call.language)


def store_result(catalog: Catalog, call_id: str, transcript: Transcript, transcript_path: Path) -> None:
    with catalog.session() as session:
        call = _call(session, call_id)
        write_transcript(session, call, transcript, status=TRANSCRIBED_FROM_AUDIO)
        call.transcript_path = str(transcript_path)
        call.language = transcript.language or call.language


def store_failure(catalog: Catalog, call_id: str, reason: str) -> None:
    with catalog.session() as session:
        mark_failed(_call(session, call_id), reason)


def _call(session, call_id: str) -> Call:
    call = session.scalar(select(Call).where(Call.external_id == call_id))
    if call is None:
        raise LookupError(f"call {call_id!r} vanished from the catalog during ingest")
    return call


def _apply_metadata(session, call: Call, item: IngestItem, content_hash: str) -> None:
    call.content_hash = content_hash
    call.audio_path = str(item.path)
    if item.language:
        call.language = item.language
    for column, table, external_id in (
        ("rep_id", Rep, item.rep_id),
        ("deal_id", Deal, item.deal_id),
        ("customer_id", Customer, item.customer_id),
    ):
        if external_id:
            found = session.scalar(select(table.id).where(table.external_id == external_id))
            if found is None:
                raise LookupError(f"{column.removesuffix('_id')} {external_id!r} is not in the catalog")
            setattr(call, column, found)
