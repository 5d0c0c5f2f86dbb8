"""The anomaly breaker's rules against planted visit padding on worlds they were not tuned on.

Each world plants one team padding its visits in at most two months (``truth.json``
``management.gaming``), so one world says little; this generates several unseen worlds (seeds other
than 5, the world the default rule was checked on), grades the configured rules on each with
``talktrack eval management``'s own function (fresh import, cases really opened) and pools recall
and precision.

    nice .venv/bin/python bench/anomalies.py     # ~3 min on 2 shared cores

Writes ``bench/results/anomalies.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

from talktrack.core.config import load_settings
from talktrack.evaluation.management import evaluate_management, pool_anomalies
from talktrack.evaluation.world import WorldSpec, generate_world

SIZES = {"small": dict(reps=12, customers=40, deals=60), "medium": dict(reps=36, customers=120, deals=240)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, nargs="*", default=list(range(101, 109)), help="seeds of 12-rep worlds")
    parser.add_argument("--medium", type=int, nargs="*", default=list(range(201, 205)), help="seeds of 36-rep worlds")
    parser.add_argument("--as-of", default="2026-12-07")
    parser.add_argument("--out", type=Path, default=Path("bench/results/anomalies.json"))
    args = parser.parse_args()
    settings = load_settings()
    worlds = []
    with tempfile.TemporaryDirectory(prefix="anomalies-") as tmp:
        for size, seeds in (("small", args.small), ("medium", args.medium)):
            for seed in seeds:
                started = time.perf_counter()
                world = Path(tmp) / f"{size}-{seed}"
                generate_world(WorldSpec(seed=seed, calls=10, audio=0, as_of=date.fromisoformat(args.as_of),
                                         **SIZES[size]), world)
                report = evaluate_management(world, settings, Path(tmp) / f"ws-{size}-{seed}")["anomalies"]
                report.update(world=f"{size} seed {seed}", seconds=round(time.perf_counter() - started, 1))
                teams = json.loads((world / "truth.json").read_text(encoding="utf-8"))["management"]["gaming"]
                report["teams"] = len(teams["team_months"])
                worlds.append(report)
                print(f"{report['world']}: {report['teams']} teams, caught {report['caught']}/{len(report['planted'])}, "
                      f"right cases {report['right_cases']}/{report['cases']}", flush=True)
    result = {"rules": [r.model_dump(mode="json") for r in settings.management.anomalies.rules],
              "tuned_on": "seed 5, 12 reps (not among these)", "pooled": pool_anomalies(worlds),
              "by_size": {size: pool_anomalies([w for w in worlds if w["world"].startswith(size)]) for size in SIZES},
              "worlds": worlds}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result["pooled"]))


if __name__ == "__main__":
    main()
