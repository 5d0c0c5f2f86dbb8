"""Mined tracks in the catalog: kept across re-mining, reviewed by coaches, audited.

A track is identified by its key (objection type and moves), so re-mining refreshes its
numbers and exemplars but never its review: an approved track stays approved. A track
the latest run no longer finds is kept, marked inactive. Every change of status or
wording is written to the track's audit trail with who, when and a note.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import TalkTrack, TalkTrackReview
from talktrack.core.clock import utcnow

REVIEW_ACTIONS = {"approve": "approved", "reject": "rejected", "edit": "edited", "reopen": "proposed"}


class TrackNotFound(LookupError):
    """No talk track with that key or id."""


class ReviewError(ValueError):
    """A review that cannot be applied (unknown action, an edit without wording)."""


def save_tracks(session, found: list[dict], mined_at: datetime) -> dict[str, int]:
    """Upsert the tracks of one run; returns counts of new, refreshed and deactivated tracks."""
    existing = {t.key: t for t in session.scalars(select(TalkTrack))}
    counts = {"new": 0, "refreshed": 0, "deactivated": 0}
    for item in found:
        track = existing.get(item["key"])
        if track is None:
            track = TalkTrack(key=item["key"], objection_type=item["objection_type"], moves=item["moves"],
                              status="proposed", first_mined_at=mined_at)
            track.reviews.append(TalkTrackReview(action="proposed", actor="mining", at=mined_at,
                                                 note="found by talk-track mining"))
            session.add(track)
            counts["new"] += 1
        else:
            counts["refreshed"] += 1
        track.active, track.mined_at = True, mined_at
        track.stats, track.wording, track.exemplars = item["stats"], item["wording"], item["exemplars"]
    found_keys = {item["key"] for item in found}
    for key, track in existing.items():
        if key not in found_keys and track.active:
            track.active = False
            counts["deactivated"] += 1
    return counts


def review_track(catalog: Catalog, track: str | int, action: str, *, actor: str, note: str | None = None,
                 script: str | None = None) -> dict:
    """Approve, reject, edit (new wording in ``script``) or reopen a track; returns it with its trail."""
    if action not in REVIEW_ACTIONS:
        raise ReviewError(f"review action {action!r}: expected one of {', '.join(REVIEW_ACTIONS)}")
    if action == "edit" and not (script and script.strip()):
        raise ReviewError("an edit needs the new wording (script)")
    with catalog.session() as session:
        row = _find(session, track)
        changes = {"status": [row.status, REVIEW_ACTIONS[action]]}
        if script is not None and script != row.script:
            changes["script"] = [row.script, script]
            row.script = script
        now = utcnow()
        row.status, row.review_note, row.reviewed_by, row.reviewed_at = REVIEW_ACTIONS[action], note, actor, now
        row.reviews.append(TalkTrackReview(action=action, note=note, actor=actor, at=now, changes=changes))
        session.flush()
        return track_dict(row, with_trail=True)


def list_tracks(catalog: Catalog, *, status: str | None = None, objection_type: str | None = None,
                include_inactive: bool = False) -> list[dict]:
    with catalog.session() as session:
        query = select(TalkTrack).order_by(TalkTrack.objection_type, TalkTrack.key)
        if status:
            query = query.where(TalkTrack.status == status)
        if objection_type:
            query = query.where(TalkTrack.objection_type == objection_type)
        if not include_inactive:
            query = query.where(TalkTrack.active.is_(True))
        return [track_dict(t) for t in session.scalars(query)]


def get_track(catalog: Catalog, track: str | int) -> dict:
    with catalog.session() as session:
        return track_dict(_find(session, track), with_trail=True)


def _find(session, track: str | int) -> TalkTrack:
    """By number (1 to 18 ASCII digits: "²" is a digit to ``isdigit()`` but not to ``int()``, and more
    digits overflow the id column) or else by key."""
    text = str(track)
    by_number = text.isascii() and text.isdigit() and len(text) <= 18
    query = select(TalkTrack).where(TalkTrack.id == int(text)) if by_number \
        else select(TalkTrack).where(TalkTrack.key == text)
    row = session.scalars(query).first()
    if row is None:
        raise TrackNotFound(f"talk track {track!r}: not found (list them with `talktrack mine --json` or the API)")
    return row


def track_dict(track: TalkTrack, *, with_trail: bool = False) -> dict:
    data = {
        "id": track.id, "key": track.key, "objection_type": track.objection_type, "moves": list(track.moves),
        "status": track.status, "active": track.active, "stats": track.stats, "wording": track.wording,
        "exemplars": track.exemplars, "script": track.script, "review_note": track.review_note,
        "reviewed_by": track.reviewed_by, "reviewed_at": _iso(track.reviewed_at),
        "first_mined_at": _iso(track.first_mined_at), "mined_at": _iso(track.mined_at),
    }
    if with_trail:
        data["trail"] = [{"action": r.action, "actor": r.actor, "note": r.note, "at": _iso(r.at),
                          "changes": r.changes} for r in track.reviews]
    return data


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
