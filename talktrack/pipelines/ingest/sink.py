"""Where ingest results land: the catalog (one transaction per file) and the workspace.

Calls are identified by the SHA-256 of their audio, so a re-run skips what is done,
retries what failed, and never creates a second call for the same recording.

Two rules keep a call safe from later uploads and ingests:

- **Set once.** A call's rep, deal and customer are set when it is first registered (or filled in
  when still empty); a later registration that names others is a :class:`RegistrationConflict`,
  never a re-assignment. So is a recording that is already another call's.
- **Attempts, not overwrites.** Each try at processing a recording is a row of ``call_attempts``.
  While it runs, and when it fails, a call that already has a transcript keeps it, with the
  recording it came from; only a successful attempt replaces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.calls import mark_failed, write_transcript
from talktrack.core.catalog.schema import TRANSCRIBED_FROM_AUDIO, Call, CallAttempt, Customer, Deal, Rep, Team
from talktrack.core.clock import utcnow
from talktrack.core.records import Transcript
from talktrack.pipelines.ingest.manifest import IngestItem

IN_PROGRESS = "processing"
# A call in one of these states has content (a transcript) that a failed attempt must not hide.
HAS_CONTENT = (TRANSCRIBED_FROM_AUDIO, "imported")


class RegistrationConflict(ValueError):
    """A registration that would re-assign a call or give one recording two calls; the message names the conflict."""


@dataclass(frozen=True)
class Registered:
    """A recording known to the catalog: its call id, and whether it still needs work.

    ``attempt``: the number of the processing attempt this registration opened (None: nothing to do).
    ``team``: the external id of the call's rep's team (its vocabulary goes to the transcriber)."""

    item: IngestItem
    content_hash: str
    call_id: str
    needs_work: bool
    language: str | None = None
    attempt: int | None = None
    team: str | None = None


def register(catalog: Catalog, item: IngestItem, content_hash: str, *, source: str = "ingest",
             created_by: str | None = None) -> Registered:
    """Find or create the call for this recording and open an attempt, unless it is done.

    :class:`RegistrationConflict` when the recording is another call's than ``item.call_id``, or when
    ``item`` names a rep, deal or customer other than the call's; ``LookupError`` for one not in the catalog."""
    with catalog.session() as session:
        call = _call_for(session, item, content_hash)
        if call is None:
            call = Call(external_id=item.call_id or f"AUD-{content_hash[:16]}", status="pending",
                        audio_path=str(item.path), content_hash=content_hash)
            session.add(call)
        _apply_metadata(session, call, item)
        if call.status == TRANSCRIBED_FROM_AUDIO and call.content_hash == content_hash:
            return Registered(item, content_hash, call.external_id, False, call.language)
        attempt = _open_attempt(session, call, item, content_hash, source, created_by)
        if call.status not in HAS_CONTENT:
            call.audio_path, call.content_hash = str(item.path), content_hash
            call.status, call.error, call.updated_at = IN_PROGRESS, None, utcnow()
        return Registered(item, content_hash, call.external_id, True, call.language, attempt, _team_of(session, call))


def _team_of(session, call: Call) -> str | None:
    if call.rep_id is None:
        return None
    return session.scalar(select(Team.external_id).join(Rep, Rep.team_id == Team.id).where(Rep.id == call.rep_id))


def _call_for(session, item: IngestItem, content_hash: str) -> Call | None:
    """The call this recording belongs to: by its hash (also one still being processed), else by the id named."""
    by_hash = session.scalar(select(Call).where(Call.content_hash == content_hash))
    if by_hash is None:
        by_hash = session.scalar(select(Call).join(CallAttempt, CallAttempt.call_id == Call.id)
                                 .where(CallAttempt.content_hash == content_hash, CallAttempt.status == IN_PROGRESS))
    by_id = session.scalar(select(Call).where(Call.external_id == item.call_id)) if item.call_id else None
    if by_hash is not None and by_id is not None and by_hash.id != by_id.id:
        raise RegistrationConflict(f"this recording is already call {by_hash.external_id!r}, not {item.call_id!r}")
    if by_hash is not None and item.call_id and by_id is None:
        raise RegistrationConflict(f"this recording is already call {by_hash.external_id!r}, not {item.call_id!r}")
    return by_hash or by_id


def _open_attempt(session, call: Call, item: IngestItem, content_hash: str, source: str,
                  created_by: str | None) -> int:
    """A new ``processing`` attempt, or the one already processing this very recording (a resumed run)."""
    if call.id is not None:
        running = session.scalars(select(CallAttempt).where(CallAttempt.call_id == call.id,
                                                            CallAttempt.status == IN_PROGRESS)).all()
        same = next((a for a in running if a.content_hash == content_hash), None)
        if same is not None:
            return same.attempt
        if running:
            raise RegistrationConflict(f"call {call.external_id!r} is being processed (attempt {running[0].attempt}) "
                                       "from another recording; retry when it is done")
    session.flush()
    number = (session.scalar(select(func.max(CallAttempt.attempt)).where(CallAttempt.call_id == call.id)) or 0) + 1
    session.add(CallAttempt(call_id=call.id, attempt=number, status=IN_PROGRESS, audio_path=str(item.path),
                            content_hash=content_hash, source=source, created_by=(created_by or "")[:64] or None,
                            started_at=utcnow()))
    return number


def store_result(catalog: Catalog, call_id: str, transcript: Transcript, transcript_path: Path,
                 attempt: int | None = None) -> None:
    """The attempt succeeded: its transcript and recording become the call's."""
    with catalog.session() as session:
        call = _call(session, call_id)
        row = _attempt(session, call, attempt)
        if row is not None:
            row.status, row.error, row.finished_at = "done", None, utcnow()
            call.audio_path, call.content_hash = row.audio_path, row.content_hash
        write_transcript(session, call, transcript, status=TRANSCRIBED_FROM_AUDIO)
        call.transcript_path = str(transcript_path)
        call.language = transcript.language or call.language


def store_failure(catalog: Catalog, call_id: str, reason: str, attempt: int | None = None) -> None:
    """The attempt failed: recorded with its reason; the call fails only when it has no earlier transcript."""
    with catalog.session() as session:
        call = _call(session, call_id)
        row = _attempt(session, call, attempt)
        if row is not None:
            row.status, row.error, row.finished_at = "failed", reason, utcnow()
        if call.status not in HAS_CONTENT:
            mark_failed(call, reason)


def attempts(catalog: Catalog, call_id: str) -> list[dict]:
    """The call's processing attempts, oldest first."""
    with catalog.session() as session:
        rows = session.scalars(select(CallAttempt).join(Call, Call.id == CallAttempt.call_id)
                               .where(Call.external_id == call_id).order_by(CallAttempt.attempt)).all()
        return [{"attempt": a.attempt, "status": a.status, "error": a.error, "source": a.source,
                 "created_by": a.created_by, "content_hash": a.content_hash,
                 "started_at": a.started_at.isoformat() if a.started_at else None,
                 "finished_at": a.finished_at.isoformat() if a.finished_at else None} for a in rows]


def _attempt(session, call: Call, attempt: int | None) -> CallAttempt | None:
    if attempt is None:
        return None
    return session.scalar(select(CallAttempt).where(CallAttempt.call_id == call.id, CallAttempt.attempt == attempt))


def _call(session, call_id: str) -> Call:
    call = session.scalar(select(Call).where(Call.external_id == call_id))
    if call is None:
        raise LookupError(f"call {call_id!r} vanished from the catalog during ingest")
    return call


def _apply_metadata(session, call: Call, item: IngestItem) -> None:
    """Fill the call's language, rep, deal and customer from ``item``; a different one already set is a conflict."""
    if item.language and (call.status not in HAS_CONTENT or not call.language):
        call.language = item.language
    for column, table, external_id in (
        ("rep_id", Rep, item.rep_id),
        ("deal_id", Deal, item.deal_id),
        ("customer_id", Customer, item.customer_id),
    ):
        if not external_id:
            continue
        found = session.scalar(select(table.id).where(table.external_id == external_id))
        name = column.removesuffix("_id")
        if found is None:
            raise LookupError(f"{name} {external_id!r} is not in the catalog")
        current = getattr(call, column)
        if current is not None and current != found:
            raise RegistrationConflict(f"call {call.external_id!r} already has another {name}; a call's rep, deal "
                                       f"and customer are set once (named: {external_id!r})")
        setattr(call, column, found)
