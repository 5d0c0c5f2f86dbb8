"""Moments read from a world's truth instead of detected: the upper bound of mining.

Mining graded with true moments measures the statistics alone; graded with detected
moments it measures the whole chain. The difference is what detection errors cost.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import delete, select, update

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Moment, Utterance

ORACLE_MODEL = "truth-oracle"


def write_truth_moments(world_dir: Path, catalog: Catalog, truth: dict | None = None) -> int:
    """Replace every call's moments with the world's true objection and move labels; returns rows written."""
    truth = truth or json.loads((Path(world_dir) / "truth.json").read_text(encoding="utf-8"))
    written = 0
    with catalog.session() as session:
        calls = dict(session.execute(select(Call.external_id, Call.id)).all())
        session.execute(delete(Moment))
        for call_external, call_truth in truth["calls"].items():
            call_pk = calls.get(call_external)
            if call_pk is None:
                continue
            ids = dict(session.execute(select(Utterance.seq, Utterance.id).where(Utterance.call_id == call_pk)).all())
            rows = [row for u in call_truth["utterances"] for row in _moment_rows(call_pk, ids.get(u["utt"]), u)]
            session.add_all(rows)
            written += len(rows)
        session.execute(update(Call).where(Call.id.in_(calls.values())).values(moments_model=ORACLE_MODEL))
    return written


def _moment_rows(call_pk: int, utterance_pk: int | None, labels: dict) -> list[Moment]:
    if utterance_pk is None:
        return []
    if labels["act"] == "objection":
        return [Moment(call_id=call_pk, utterance_id=utterance_pk, sentence=0, kind="objection",
                       label=labels["objection_type"], score=1.0)]
    if labels["act"] == "move":
        return [Moment(call_id=call_pk, utterance_id=utterance_pk, sentence=i, kind="move", label=move, score=1.0)
                for i, move in enumerate(labels["moves"])]
    return []
