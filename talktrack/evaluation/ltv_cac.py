"""New-customer LTV/CAC graded against a world's truth (``truth.json`` ``management.ltv_cac``).

The platform's :func:`ltv_cac_report` runs on the imported world as of its last day under the
settings the truth names. Costs (marketing, sales hours, acquisitions) must agree with the truth's
to the last float bits: the same records and the same definitions. LTV/CAC is where they may differ:
the truth uses the generator's renewal probabilities, the platform a renewal model fitted on the
contracts it sees; per group the relative error ``|ours - truth| / truth`` is reported beside
whether the truth lies inside the reported interval. Target: within ``TARGET`` per lead source.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

from talktrack.core.catalog import Catalog
from talktrack.core.config import Settings
from talktrack.core.config.ltv import LtvCacSettings
from talktrack.pipelines.management.ltv import GROUPS, ltv_cac_report

TARGET = 0.10
COUNTS = ("leads", "deals", "acquisitions")
AMOUNTS = ("marketing", "sales_hours", "cost")


def evaluate_ltv_cac(world_dir: Path, catalog: Catalog, settings: Settings) -> dict:
    """Per source, team and region: costs exact?, LTV/CAC error and interval coverage."""
    truth = json.loads((Path(world_dir) / "truth.json").read_text(encoding="utf-8"))["management"]["ltv_cac"]
    rules = LtvCacSettings.model_validate(truth["settings"])
    as_of = date.fromisoformat(truth["as_of"])
    management = settings.management.model_copy(update={"ltv_cac": rules})
    report = ltv_cac_report(catalog, settings.model_copy(update={"management": management}), as_of=as_of)
    groups = {group: _compare(report["by"][group], truth["by"][group]) for group in GROUPS}
    sources = [row for row in groups["source"]["rows"] if row["relative_error"] is not None]
    return {"as_of": as_of.isoformat(), "target": TARGET, "groups": groups,
            "renewal_model": report["renewal_model"], "renewal_truth": truth["renewal_probability"],
            "costs_exact": all(g["costs_exact"] for g in groups.values()),
            "sources_within_target": sum(r["relative_error"] <= TARGET for r in sources),
            "sources": len(sources),
            "max_source_error": max((r["relative_error"] for r in sources), default=None)}


def _compare(ours: list[dict], truth: dict) -> dict:
    mine = {row["key"]: row for row in ours}
    rows = []
    for key in sorted(set(mine) | set(truth)):
        a, b = mine.get(key), truth.get(key)
        exact = a is not None and b is not None and all(a[k] == b[k] for k in COUNTS) \
            and all(math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-6) for k in AMOUNTS)
        ratio, true_ratio = (a or {}).get("ltv_cac"), (b or {}).get("ltv_cac")
        error = abs(ratio - true_ratio) / true_ratio if ratio is not None and true_ratio else None
        covered = None if error is None else a["ltv_cac_low"] <= true_ratio <= a["ltv_cac_high"]
        rows.append({"key": key, "costs_exact": exact, "acquisitions": (a or {}).get("acquisitions"),
                     "ltv_cac": ratio, "truth": true_ratio, "relative_error": error, "interval":
                     [a["ltv_cac_low"], a["ltv_cac_high"]] if a else None, "covered": covered})
    graded = [r for r in rows if r["relative_error"] is not None]
    return {"rows": rows, "costs_exact": all(r["costs_exact"] for r in rows),
            "within_target": sum(r["relative_error"] <= TARGET for r in graded), "graded": len(graded),
            "coverage": sum(r["covered"] for r in graded) / len(graded) if graded else None}
