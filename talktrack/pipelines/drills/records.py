"""A drill as the API answers it, and the summary stored when it ends."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import numpy as np
from sqlalchemy import select

from talktrack.core.catalog.schema import Drill
from talktrack.models.drills import REACTIONS
from talktrack.pipelines.drills.errors import DrillNotFound


def find_drill(session, drill_id: str) -> Drill:
    """The drill row of ``drill_id``; :class:`DrillNotFound` (a 404) when there is none."""
    row = session.scalars(select(Drill).where(Drill.external_id == drill_id)).first()
    if row is None:
        raise DrillNotFound(f"drill {drill_id!r}: not found (list yours with GET /v1/drills)")
    return row


def summarise(row: Drill) -> dict:
    """What the rep and their manager see: scores, moves missed most, how the customer reacted."""
    turns = list(row.turns)
    scores = [t.score for t in turns]
    missing = Counter(m for t in turns for m in (t.breakdown or {}).get("moves_missing", []))
    covered = Counter(m for t in turns for m in (t.breakdown or {}).get("moves_covered", []))
    reactions = Counter(t.reaction for t in turns)
    return {
        "turns": len(turns),
        "mean_score": round(float(np.mean(scores)), 1) if scores else None,
        "best_score": max(scores) if scores else None,
        "scores": scores,
        "reactions": {r: reactions.get(r, 0) for r in REACTIONS},
        "objections_raised": list((row.state or {}).get("raised", [row.objection_type])),
        "moves_covered": dict(covered),
        "moves_missing_most": [m for m, _ in missing.most_common(3)],
        "advice": turn_advice(turns) or advice(missing, scores),
    }


def turn_advice(turns: list) -> str | None:
    """The advice the turns gave most often (in the drill's language); None for turns scored before
    turns carried feedback."""
    given = [f for t in turns if (f := (t.breakdown or {}).get("feedback")) and f.get("add")]
    if not given:
        return None
    most = Counter(f["add"] for f in given).most_common(1)[0][0]
    return next(f["advice"] for f in given if f["add"] == most)


def advice(missing: Counter, scores: list[float]) -> str:
    if not scores:
        return "No answer was given: start a drill and answer the customer at least once."
    if missing:
        moves = ", ".join(m.replace("_", " ") for m, _ in missing.most_common(2))
        return f"Top sellers' answers to this objection also {moves}: try working that into your answer."
    return "Your answers made every move of the reference track; compare your wording with the closest answers."


def drill_dict(row: Drill, *, with_turns: bool = False) -> dict:
    data = {
        "drill_id": row.external_id, "rep_id": row.rep_external_id, "team_id": row.team_external_id,
        "objection_type": row.objection_type, "persona": row.persona, "language": row.language,
        "status": row.status, "opening": row.opening, "summary": row.summary, "created_by": row.created_by,
        "created_at": _iso(row.created_at), "ended_at": _iso(row.ended_at),
    }
    if with_turns:
        data["turns"] = [{"seq": t.seq, "rep_text": t.rep_text, "score": t.score, "breakdown": t.breakdown,
                          "answers": t.answers, "reaction": t.reaction, "customer_line": t.customer_line,
                          "created_at": _iso(t.created_at)} for t in row.turns]
    return data


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
