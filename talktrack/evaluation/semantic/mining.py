"""Grade a mining report against the world's planted tracks.

A planted (non-decoy) track is found when a reported track has the same objection type
and the same ordered moves; precision is the share of reported tracks that are planted
ones (a decoy or any other pattern reported counts against it). Each found track's
rep-adjusted effect is set beside the true logit effect.
"""

from __future__ import annotations


def grade_mining(report: dict, truth: dict) -> dict:
    planted = {t["track_id"]: t for t in _planted(truth) if not t["decoy"]}
    decoys = {t["track_id"] for t in _planted(truth) if t["decoy"]}
    reported = [track for block in report["objection_types"] for track in block["tracks"]]
    keys = [t["key"] for t in reported]
    hits = [k for k in keys if k in planted]
    effects = {
        k: {"true_logit_effect": planted[k]["logit_effect"],
            "estimated_logit_effect": t["stats"]["adjusted_effect_logit"],
            "estimated_ci": t["stats"]["adjusted_effect_ci"],
            "true_inside_ci": t["stats"]["adjusted_effect_ci"][0] <= planted[k]["logit_effect"]
            <= t["stats"]["adjusted_effect_ci"][1],
            "lift_win_rate": t["stats"]["lift"], "lift_ci": t["stats"]["lift_ci"]}
        for k, t in ((t["key"], t) for t in reported) if k in planted
    }
    return {
        "planted": sorted(planted), "reported": keys,
        "precision": round(len(hits) / len(keys), 4) if keys else None,
        "recall": round(len(set(hits)) / len(planted), 4) if planted else None,
        "decoys_reported": sorted(set(keys) & decoys),
        "missed": sorted(set(planted) - set(hits)),
        "not_planted": sorted(set(keys) - set(planted)),
        "effects": effects,
    }


def _planted(truth: dict) -> list[dict]:
    tracks = truth.get("planted_tracks", [])
    return [t | {"track_id": t.get("track_id") or f"{t['objection_type']}:{'>'.join(t['moves'])}"} for t in tracks]
