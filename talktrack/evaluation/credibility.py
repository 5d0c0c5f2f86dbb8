"""The data-credibility report graded against a world's truth (``truth.json`` ``management.credibility``).

The platform's counts per team, month and field (hand, captured) and per check (checked, passed) must
equal the truth's exactly; every rate of the report is a quotient of those counts, so equal counts
mean equal rates. A team-month the truth does not hold must hold nothing in ours either.
"""

from __future__ import annotations

import json
from pathlib import Path

from talktrack.core.catalog import Catalog
from talktrack.core.config import Settings
from talktrack.pipelines.management.credibility import CHECKS, count_cells, summarize


def evaluate_credibility(world_dir: Path, catalog: Catalog, settings: Settings) -> dict:
    """Cell by cell against the truth; ``catalog`` holds the world imported."""
    truth = json.loads((Path(world_dir) / "truth.json").read_text(encoding="utf-8"))["management"]["credibility"]
    ours = _flatten_ours(count_cells(catalog, settings))
    true = _flatten_truth(truth)
    wrong = sorted(key for key in set(ours) | set(true) if ours.get(key, 0) != true.get(key, 0))
    checked = {name: sum(v for k, v in true.items() if k[2] == name and k[3] == "checked") for name in CHECKS}
    passed = {name: sum(v for k, v in true.items() if k[2] == name and k[3] == "passed") for name in CHECKS}
    return {"counts": len(true), "mismatches": len(wrong), "exact": not wrong,
            "first_mismatches": [{"cell": list(k), "ours": ours.get(k, 0), "truth": true.get(k, 0)} for k in wrong[:10]],
            "pass_rate_truth": {name: passed[name] / checked[name] if checked[name] else None for name in CHECKS},
            "checked": checked}


def _flatten_ours(cells: dict) -> dict[tuple, int]:
    flat = {}
    for (team, month), cell in cells.items():
        summary = summarize(cell)
        for f in summary["fields"]:
            flat[(team, month, f["field"], "hand")] = f["hand"]
            flat[(team, month, f["field"], "captured")] = f["captured"]
        for name, c in summary["checks"].items():
            flat[(team, month, name, "checked")] = c["checked"]
            flat[(team, month, name, "passed")] = c["passed"]
    return {k: v for k, v in flat.items() if v}


def _flatten_truth(truth: dict) -> dict[tuple, int]:
    flat = {}
    for team, months in truth.items():
        for month, cell in months.items():
            for group in ("fields", "checks"):
                for name, counts in cell[group].items():
                    for kind, value in counts.items():
                        flat[(team, month, name, kind)] = value
    return {k: v for k, v in flat.items() if v}
