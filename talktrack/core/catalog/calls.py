"""Writing a call's transcript into the catalog, shared by CRM import and the speech pipeline."""

from __future__ import annotations


from sqlalchemy import select
from sqlalchemy.orm import Session

from talktrack.core.catalog.schema import Call, Rep, Speaker, Utterance
from talktrack.core.clock import utcnow
from talktrack.core.records import Transcript


def write_transcript(session: Session, call: Call, transcript: Transcript, *, status: str) -> None:
    """Replace the call's speakers and utterances with ``transcript``'s, and set its status.

    Run it inside a transaction (or savepoint): a failure leaves the old content in place.
    """
    call.utterances.clear()
    call.speakers.clear()
    session.flush()
    rep_ids = _rep_ids(session, transcript)
    speakers = {}
    for item in transcript.speakers:
        speaker = Speaker(
            label=item.speaker,
            role=item.role,
            role_confidence=item.role_confidence,
            rep_id=rep_ids.get(item.rep_id) if item.rep_id else None,
        )
        call.speakers.append(speaker)
        speakers[item.speaker] = speaker
    for seq, item in enumerate(transcript.utterances):
        call.utterances.append(
            Utterance(
                seq=seq,
                speaker=speakers[item.speaker],
                speaker_label=item.speaker,
                role=item.role,
                start_s=item.start,
                end_s=item.end,
                text=item.text,
                language=item.language or transcript.language,
                words=[word.model_dump() for word in item.words] if item.words else None,
            )
        )
    if transcript.duration_s is not None:
        call.duration_s = call.duration_s or transcript.duration_s
    call.status = status
    call.error = None
    call.moments_model = None  # new utterances: their moments must be detected again
    call.updated_at = utcnow()


def mark_failed(call: Call, reason: str) -> None:
    call.status = "failed"
    call.error = reason
    call.updated_at = utcnow()


def _rep_ids(session: Session, transcript: Transcript) -> dict[str, int]:
    wanted = {item.rep_id for item in transcript.speakers if item.rep_id}
    if not wanted:
        return {}
    return dict(session.execute(select(Rep.external_id, Rep.id).where(Rep.external_id.in_(wanted))).all())

