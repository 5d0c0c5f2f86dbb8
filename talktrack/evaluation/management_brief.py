"""The daily brief graded on a world's ``brief_truth.json`` (written by
:mod:`talktrack.evaluation.world.brief_world`), on a catalog that holds the world imported.

- **lead pool**: per team, pool / new / invalid counts must be *exact*;
- **breakpoints**: per team, the set of open deals over their stage timer must be exact;
- **surprise clustering**: the world's answers are posted as reps would (channel ``import``); a planted
  new topic is *found* when a cluster shown as a possible market signal for its team has a majority of
  that topic's answers; recall = found ÷ planted, precision = signals whose majority is a planted new
  topic ÷ signals.

Capability shortfalls are not graded here: they read the capability model's estimates, which an
evaluation on a fresh import has not trained.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np

from talktrack.core.catalog import Catalog
from talktrack.pipelines.management import brief as daily
from talktrack.pipelines.management import surprises


def evaluate_brief(world_dir: Path, catalog: Catalog, settings, embedder) -> dict:
    truth = json.loads((Path(world_dir) / "brief_truth.json").read_text(encoding="utf-8"))
    as_of = date.fromisoformat(truth["as_of"])
    topic_of = _post_answers(Path(world_dir) / "surprise_answers.jsonl", catalog, settings)
    known = surprises.known_examples(settings, embedder)
    teams = sorted(truth["lead_pool"])
    briefs = {t: daily.daily_brief(catalog, settings, team=t, as_of=as_of, estimates=None, embedder=embedder, known=known)
              for t in teams}
    return {"as_of": as_of.isoformat(), "teams": len(teams),
            "lead_pool": _lead_pool(briefs, truth["lead_pool"]),
            "breakpoints": _breakpoints(briefs, truth["breakpoints"]),
            "surprises": _surprises(briefs, truth["planted_new_topics"], topic_of)}


def _post_answers(path: Path, catalog: Catalog, settings) -> dict[int, str]:
    """Store each answer; returns the catalog id -> its planted topic."""
    topic_of = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        stored = surprises.record_answer(catalog, settings, row["rep_id"], row["text"], actor="eval", channel="import",
                                         answered_on=date.fromisoformat(row["answered_on"]), language=row["language"])
        topic_of[stored["id"]] = row["topic"]
    return topic_of


def _lead_pool(briefs: dict, truth: dict) -> dict:
    wrong = [team for team, expected in truth.items()
             if {k: briefs[team]["lead_pool"][k] for k in ("pool", "new", "invalid")} != expected]
    unhealthy = sorted(team for team, b in briefs.items() if b["checks"]["lead_pool"] is False)
    return {"exact": not wrong, "mismatched_teams": wrong, "teams_flagged": unhealthy}


def _breakpoints(briefs: dict, truth: dict) -> dict:
    ours = {team: sorted(d["deal_id"] for d in b["breakpoints"]["deals"]) for team, b in briefs.items()}
    wrong = [team for team in truth if ours.get(team) != truth[team]]
    return {"exact": not wrong, "deals": sum(map(len, truth.values())), "mismatched_teams": wrong}


def _surprises(briefs: dict, planted: list[dict], topic_of: dict[int, str]) -> dict:
    signals = [(team, s) for team, b in briefs.items() for s in b["surprises"]["signals"]]
    majority = {id(s): _majority([topic_of[i] for i in s["answer_ids"]]) for _, s in signals}
    found = [p for p in planted if any(team == p["team"] and majority[id(s)] == f"new:{p['topic']}" for team, s in signals)]
    right = [s for _, s in signals if majority[id(s)].startswith("new:")]
    return {"planted": len(planted), "found": len(found), "signals": len(signals),
            "recall": len(found) / len(planted) if planted else None,
            "precision": len(right) / len(signals) if signals else None,
            "missed": [f"{p['team']}:{p['topic']}" for p in planted if p not in found],
            "false_signals": [{"team": team, "example": s["example"], "majority": majority[id(s)]}
                              for team, s in signals if not majority[id(s)].startswith("new:")]}


def _majority(labels: list[str]) -> str:
    return max(sorted(set(labels)), key=labels.count)


def evaluate_real_surprises(settings, embedder, split: str = "test") -> dict:
    """The same clustering on the hand-written answers (``real_phrasing/surprise_answers.yaml``), week by
    week: recall of the planted new topics, precision of the signals, and how each answer was judged."""
    from talktrack.evaluation.real_phrasing import load

    items = load("surprise_answers", split=split)
    known = surprises.known_examples(settings, embedder)
    options = settings.management.brief.surprises
    weeks = sorted({item["week"] for item in items})
    planted, found, signals, right, judged = 0, 0, 0, 0, {"known": [0, 0], "new": [0, 0]}
    for week in weeks:
        rows = [{"id": item["id"], "rep": item["rep"], "text": item["text"], "topic": item["topic"]}
                for item in items if item["week"] == week]
        vectors = np.asarray(embedder.encode([row["text"] for row in rows]))
        result = surprises.cluster_answers(rows, vectors, known, options)
        topic_of = {row["id"]: row["topic"] for row in rows}
        new_topics = {row["topic"] for row in rows if row["topic"].startswith("new:")}
        majorities = [_majority([topic_of[i] for i in s["answer_ids"]]) for s in result["signals"]]
        planted += len(new_topics)
        found += len(new_topics & set(majorities))
        signals += len(majorities)
        right += sum(m.startswith("new:") for m in majorities)
        fresh = {a["id"] for s in result["signals"] for a in s["answers"]} | _unknown_ids(rows, vectors, known, options)
        for row in rows:
            kind = "known" if row["topic"].startswith("known:") else "new" if row["topic"].startswith("new:") else None
            if kind:
                judged[kind][0] += (row["id"] in fresh) == (kind == "new")
                judged[kind][1] += 1
    return {"split": split, "weeks": len(weeks), "answers": len(items), "planted": planted, "found": found,
            "recall": found / planted if planted else None, "signals": signals,
            "precision": right / signals if signals else None,
            "known_judged_known": judged["known"][0] / max(1, judged["known"][1]),
            "new_judged_new": judged["new"][0] / max(1, judged["new"][1])}


def _unknown_ids(rows: list[dict], vectors, known, options) -> set[str]:
    best = (vectors @ known.vectors.T).max(axis=1)
    return {row["id"] for row, b in zip(rows, best) if b < options.known_similarity}
