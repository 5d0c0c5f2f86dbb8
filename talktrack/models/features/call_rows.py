"""Precomputed per-call conversation features (table ``call_feature_rows``): what a deal's score
reads instead of rebuilding its calls' features from every utterance and moment.

Why: building one deal's conversation features re-reads and re-parses all its utterances
(tens of ms, more under load); everything else a deal's row needs (its CRM fields, stage
events, the rep's surveys) is a few small indexed reads that are always current. So the
costly part is kept per call, up to date with its inputs:

- a row records the call's ``stage``, ``moments_model`` and ``updated_at`` it was built from.
  A new transcript stamps ``updated_at`` (:func:`talktrack.core.catalog.calls.write_transcript`,
  shared by CRM import and the speech pipeline), a moment detector run stamps
  ``moments_model`` (``pipelines.semantic.moments.label_calls``, also the oracle's truth
  moments), a CRM update may change the stage: a row whose stamps differ from its call's is
  stale. The service's row keeper (:class:`talktrack.serving.scoring_cache.RowKeeper`) rebuilds
  stale and missing rows in the background, so writers need no hook; a score that meets one
  first rebuilds it before use (:func:`read_call_table`, counted in :data:`STATS` ``built``),
  so a score never reads an outdated row;
- talk-track uses depend on the catalog's current tracks (mining, approvals), not on the call:
  a row keeps the call's answers (objection → the moves that answered it) and the uses are
  counted at read time against the tracks of that moment;
- "the catalog has moments" (a call without moments then had zero objections, not unknown
  ones) is a catalog-wide fact, applied at read time too;
- stage events, deal and customer fields and surveys are read live: they are small rows, so a
  deal's stage features are as current as its last event with nothing to keep in step.
  Evidence verdicts are not a scorer input (:mod:`talktrack.models.features.deal`).

:func:`refresh_call_rows` builds every missing or stale row (the service runs it at start, in
the background). The values equal the batch path's exactly (JSON keeps a float's every bit),
which tests/test_call_rows.py checks on every deal of a world.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd
from sqlalchemy import and_, bindparam, delete, insert, or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, CallFeatureRow, Moment, TalkTrack
from talktrack.core.clock import utcnow
from talktrack.core.config import Settings
from talktrack.models.features.conversation import (
    CALL_FEATURES,
    answers,
    call_features,
    load_calls,
    uses_track,
)

TRACK_COLUMNS = ("approved_track_uses", "mined_track_uses")
COUNT_COLUMNS = ("objections", "discount_offers")
BATCH = 500
logger = logging.getLogger(__name__)

# how many rows were read as stored, and how many had to be built on the read path (missing or
# stale): per process, for tests and the bench (a never-scored deal should add to ``read`` only)
STATS = {"read": 0, "built": 0}


def build_rows(catalog: Catalog, settings: Settings, call_ids: Sequence[int]) -> list[dict]:
    """Fresh rows (as dicts for the table) for ``call_ids``, stamped with the call versions read
    BEFORE the features: a change racing the build leaves the row stale, never wrongly fresh."""
    ids = [int(call_id) for call_id in call_ids]
    if not ids:
        return []
    with catalog.engine.connect() as connection:
        stamps = {row.id: row for row in connection.execute(
            select(Call.id, Call.stage, Call.moments_model, Call.updated_at).where(Call.id.in_(ids)))}
    frames = load_calls(catalog, ids)
    key_questions = {stage.key: list(stage.key_questions) for stage in settings.stages}
    # no tracks here: their uses are counted when the row is read, against the tracks of then
    table = call_features(replace(frames, tracks=frames.tracks.iloc[0:0]), key_questions)
    by_call = dict(tuple(frames.moments.groupby("call_id"))) if frames.has_moments else {}
    now, rows = utcnow(), []
    for call_id in ids:
        if call_id not in stamps:
            continue  # deleted meanwhile
        stamp = stamps[call_id]
        moments = by_call.get(call_id)
        features = None
        if call_id in table.index:
            features = {name: _stored(table.at[call_id, name]) for name in CALL_FEATURES}
            if moments is None:  # raw: whether "no moments" means zero is decided when read
                features.update(dict.fromkeys(COUNT_COLUMNS))
        rows.append({
            "call_id": call_id, "stage": stamp.stage, "moments_model": stamp.moments_model,
            "call_updated_at": stamp.updated_at, "features": features, "built_at": now,
            "answers": None if moments is None else [[kind, list(moves)] for kind, moves in answers(moments)],
        })
    return rows


def store_rows(catalog: Catalog, rows: list[dict]) -> None:
    """Replace these calls' rows (one transaction: delete then insert, so concurrent writers of
    the same call leave one row, either's, both built from the same call version or stale)."""
    if not rows:
        return
    with catalog.session() as session:
        session.execute(delete(CallFeatureRow).where(CallFeatureRow.call_id.in_([row["call_id"] for row in rows])))
        session.execute(insert(CallFeatureRow), rows)


def refresh_call_rows(catalog: Catalog, settings: Settings, call_ids: Iterable[int] | None = None,
                      *, batch: int = BATCH, pause_s: float = 0.0) -> int:
    """Build and store the rows of ``call_ids`` (default: every call whose row is missing or
    stale), in batches (``pause_s`` between them: in a server, requests wait on the GIL while a
    batch is built); the number of rows written."""
    ids = sorted(stale_call_ids(catalog) if call_ids is None else {int(call_id) for call_id in call_ids})
    written = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        if call_ids is None:  # another process (a second worker) may have built them meanwhile
            chunk = stale_call_ids(catalog, call_ids=chunk)
        try:
            store_rows(catalog, build_rows(catalog, settings, chunk))
        except IntegrityError:  # a concurrent writer stored the same calls' rows first
            continue
        written += len(chunk)
        if pause_s:
            time.sleep(pause_s)
    return written


def stale_call_ids(catalog: Catalog, deal_pks: Sequence[int] | None = None,
                   call_ids: Sequence[int] | None = None) -> list[int]:
    """Calls (of ``deal_pks`` / among ``call_ids``, or all) with no row or a row built from
    another version of the call."""
    query = (select(Call.id).outerjoin(CallFeatureRow, CallFeatureRow.call_id == Call.id)
             .where(or_(CallFeatureRow.call_id.is_(None), ~_row_matches_call())))
    if deal_pks is not None:
        query = query.where(Call.deal_id.in_([int(pk) for pk in deal_pks]))
    if call_ids is not None:
        query = query.where(Call.id.in_([int(call_id) for call_id in call_ids]))
    with catalog.engine.connect() as connection:
        return list(connection.scalars(query))


def _row_matches_call():
    # NULL-safe equality (IS / IS NOT DISTINCT FROM): a row stamped "no moments model" must not
    # match a call that has one, where plain = would give NULL
    return and_(CallFeatureRow.stage.is_not_distinct_from(Call.stage),
                CallFeatureRow.moments_model.is_not_distinct_from(Call.moments_model),
                CallFeatureRow.call_updated_at.is_not_distinct_from(Call.updated_at))


def read_call_table(catalog: Catalog, settings: Settings, deal_pks: Sequence[int]) -> tuple[pd.DataFrame, bool, bool]:
    """The deals' calls as the batch path sees them (index call_id, :data:`CALL_FEATURES`,
    deal_id, started_at; calls without utterances left out), from their rows; missing and
    stale rows are built first. Also: does the catalog have moments, and talk tracks."""
    calls, has_moments, has_tracks = read_call_rows(catalog, settings, deal_pks)
    table = pd.DataFrame.from_dict({call.call_id: call.features for call in calls}, orient="index",
                                   columns=list(CALL_FEATURES)).astype(float)
    table["deal_id"] = [call.deal_pk for call in calls]
    table["started_at"] = pd.to_datetime([call.started_at for call in calls])
    table.index.name = "call_id"
    return table, has_moments, has_tracks


@dataclass(frozen=True)
class CallRead:
    """One call's features as a deal's score reads them (NaN for unknown), with its deal and start."""

    call_id: int
    deal_pk: int
    started_at: datetime | None
    features: dict[str, float]


def read_call_rows(catalog: Catalog, settings: Settings, deal_pks: Sequence[int]) -> tuple[list[CallRead], bool, bool]:
    """The deals' calls with utterances (in call id order), their features from the stored rows
    (missing and stale rows built first), track uses counted against the current tracks and
    zero objections where the catalog has moments; also: does it have moments, and talk tracks.
    Plain Python: a never-scored deal's few calls are read without a DataFrame."""
    with catalog.engine.connect() as connection:
        found = connection.execute(_DEALS_CALLS, {"deal_pks": [int(pk) for pk in deal_pks]}).all()
        by_status = _tracks_by_status(connection)
        has_moments = connection.scalar(_ANY_MOMENT) is not None
    stale = [c.id for c in found if c.row is None or (c.row_stage, c.row_moments_model, c.call_updated_at)
             != (c.stage, c.moments_model, c.updated_at)]
    fresh = {}
    if stale:
        rows = build_rows(catalog, settings, stale)
        STATS["built"] += len(rows)
        try:
            store_rows(catalog, rows)
        except SQLAlchemyError:  # e.g. a locked SQLite file: the rows are still right for this read
            logger.warning("could not store %d call feature rows; they are rebuilt when next read", len(rows))
        fresh = {row["call_id"]: row for row in rows}
    STATS["read"] += len(found) - len(stale)
    has_tracks = any(by_status.values())
    calls = []
    for call in found:
        features, answered = call.features, call.answers
        if call.id in fresh:
            features, answered = fresh[call.id]["features"], fresh[call.id]["answers"]
        if features is None:
            continue  # no utterances: the batch path has no row for it either
        row = {name: _loaded(features.get(name)) for name in CALL_FEATURES}
        if answered is not None and has_tracks:
            pairs = [(kind, tuple(moves)) for kind, moves in answered]
            # what conversation.track_uses counts, with each status's tracks sorted once
            row["approved_track_uses"] = float(sum(uses_track(o, moves, by_status["approved"]) for o, moves in pairs))
            row["mined_track_uses"] = float(sum(uses_track(o, moves, by_status["proposed"]) for o, moves in pairs))
        if has_moments:  # a call without moments then had zero objections, not unknown ones
            row.update({name: 0.0 for name in COUNT_COLUMNS if math.isnan(row[name])})
        calls.append(CallRead(call.id, call.deal_id, call.started_at, row))
    return calls, has_moments, has_tracks


# statements built once: a never-scored deal's score runs them, and building one costs more than running it
_DEALS_CALLS = (select(Call.id, Call.deal_id, Call.started_at, Call.stage, Call.moments_model, Call.updated_at,
                       CallFeatureRow.call_id.label("row"), CallFeatureRow.stage.label("row_stage"),
                       CallFeatureRow.moments_model.label("row_moments_model"), CallFeatureRow.call_updated_at,
                       CallFeatureRow.features, CallFeatureRow.answers)
                .outerjoin(CallFeatureRow, CallFeatureRow.call_id == Call.id)
                .where(Call.deal_id.in_(bindparam("deal_pks", expanding=True))).order_by(Call.id))
_TRACKS = (select(TalkTrack.objection_type, TalkTrack.moves, TalkTrack.status)
           .where(or_(TalkTrack.status == "approved", and_(TalkTrack.status == "proposed", TalkTrack.active.is_(True))))
           .order_by(TalkTrack.id))
_ANY_MOMENT = select(Moment.id).limit(1)


def _tracks_by_status(connection) -> dict[str, dict[str, list[tuple[str, ...]]]]:
    """The talk tracks :func:`load_calls` reads (approved, and proposed ones still active), per
    status as :func:`talktrack.models.features.conversation.tracks_by_type` groups them."""
    rows = connection.execute(_TRACKS).all()
    by_status: dict[str, dict[str, list[tuple[str, ...]]]] = {"approved": {}, "proposed": {}}
    for objection, moves, status in rows:
        by_status[status].setdefault(objection, []).append(tuple(moves or ()))
    return by_status


def _stored(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _loaded(value) -> float:
    return float("nan") if value is None else float(value)
