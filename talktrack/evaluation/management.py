"""Management figures graded against a seeded world's truth (``truth.json`` ``management``).

The world plants its truth under the default policy and writes it beside the files; here a fresh
catalog holds the world imported, the platform's own :func:`revenue_report` runs on it (under the
policy the truth names, whatever the deployment configured) as of the world's last day, and every
figure is compared:

- **healthy contract value** per team, region, rep and product line and month: must be *exact*
  (amounts are whole units; the sums are the same numbers in any order);
- **exclusions**: count and value per reason;
- **concentration**: per region and team, the flags must equal the truth's, and the planted region
  must be flagged on all three (recall and precision of "flagged regions" against the planted one).
- **LTV/CAC** per lead source, team and region (:mod:`talktrack.evaluation.ltv_cac`): costs exact,
  LTV/CAC within 10 % of the truth's (which uses the generator's renewal probabilities);
- **anomaly breaker**: the configured rules run on the imported world (cases really opened); a case
  is right when its team and month are a planted visit-padding month (a region case: when a team of
  that region padded that month); recall = planted months caught ÷ planted, precision = right cases ÷
  cases. One world plants at most two months, so judge the rules on several unseen worlds.
- **decision sandbox** (:mod:`talktrack.evaluation.sandbox`): the predicted margin change of 24 scenarios
  against the world's counterfactual quarter; the truth inside the 90 % interval on >= 85 % of them.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from talktrack.core.catalog import Catalog, open_catalog
from talktrack.core.config import Settings
from talktrack.core.config.management import ManagementSettings
from talktrack.core.workspace import Workspace
from talktrack.evaluation.credibility import evaluate_credibility
from talktrack.evaluation.ltv_cac import evaluate_ltv_cac
from talktrack.evaluation.management_brief import evaluate_brief
from talktrack.evaluation.sandbox import evaluate_sandbox
from talktrack.pipelines.crm_import import import_directory
from talktrack.pipelines.management.anomalies import list_cases, run_rules
from talktrack.pipelines.management.revenue import DIMENSIONS, revenue_report
from talktrack.pipelines.semantic.moments import moment_embedder

SHARE_TOLERANCE = 1e-9  # shares are quotients of exact sums; only the last bit may differ


def evaluate_management(world_dir: Path, settings: Settings, workdir: Path) -> dict:
    """Import ``world_dir`` into a fresh workspace under ``workdir`` and grade each management part."""
    workspace = Workspace.at(Path(workdir) / "workspace").ensure()
    settings = settings.model_copy(update={"workspace": workspace.root,
                                           "catalog": settings.catalog.model_copy(update={"url": None})})
    catalog = open_catalog(workspace.catalog_url)
    try:
        imported = import_directory(catalog, settings, Path(world_dir)).totals()
        return {"world": str(world_dir), "imported": imported,
                "revenue": evaluate_revenue(world_dir, catalog, settings),
                "ltv_cac": evaluate_ltv_cac(world_dir, catalog, settings),
                "anomalies": evaluate_anomalies(world_dir, catalog, settings),
                "credibility": evaluate_credibility(world_dir, catalog, settings),
                "brief": evaluate_brief(world_dir, catalog, settings, moment_embedder(settings, workspace)),
                "sandbox": evaluate_sandbox(world_dir, catalog, settings)}
    finally:
        catalog.dispose()


def load_truth(world_dir: Path) -> dict:
    return json.loads((Path(world_dir) / "truth.json").read_text(encoding="utf-8"))


def evaluate_revenue(world_dir: Path, catalog: Catalog, settings: Settings) -> dict:
    """Healthy value, exclusions and concentration flags against the truth; ``catalog`` holds the world."""
    truth = load_truth(world_dir)
    planted = truth["management"]
    policy = ManagementSettings.model_validate(planted["policy"])
    as_of = date.fromisoformat(truth["world_end"]) - timedelta(days=1)
    report = revenue_report(catalog, settings.model_copy(update={"management": policy}), as_of=as_of)
    return {"world": str(world_dir), "as_of": as_of.isoformat(),
            "healthy_value": healthy_value(report, planted),
            "excluded": excluded(report, planted),
            "concentration": concentration(report, planted)}


def healthy_value(report: dict, planted: dict) -> dict:
    """Cell by cell: (dimension, key, month) -> value, ours against the truth's; exact or not."""
    ours = {(dim, row["key"], row["month"]): row["healthy_value"] for dim in DIMENSIONS
            for row in report["healthy_value"][dim] if row["contracts"]}
    true = {(dim, key, month): value for dim in DIMENSIONS for key, months in planted["healthy_value"][dim].items()
            for month, value in months.items()}
    wrong = sorted(cell for cell in set(ours) | set(true) if ours.get(cell) != true.get(cell))
    return {"cells": len(true), "mismatches": len(wrong), "exact": not wrong,
            "first_mismatches": [{"cell": list(c), "ours": ours.get(c), "truth": true.get(c)} for c in wrong[:10]],
            "total": sum(v for (dim, _, _), v in ours.items() if dim == "team"),
            "truth_total": sum(v for (dim, _, _), v in true.items() if dim == "team")}


def excluded(report: dict, planted: dict) -> dict:
    ours = {reason: (entry["count"], entry["value"]) for reason, entry in report["excluded"]["by_reason"].items()}
    true = {reason: (entry["count"], entry["value"]) for reason, entry in planted["excluded"]["by_reason"].items()}
    return {"ours": report["excluded"]["count"], "truth": planted["excluded"]["count"],
            "exact": ours == true and report["excluded"]["count"] == planted["excluded"]["count"],
            "by_reason": {reason: {"ours": ours.get(reason), "truth": true.get(reason)} for reason in sorted(true)}}


def concentration(report: dict, planted: dict) -> dict:
    """Flags per region and team against the truth's, and the planted region found."""
    truth = planted["concentration"]
    rows = {}
    for dim in ("region", "team"):
        for row in report["concentration"][dim]:
            expected = truth[dim].get(row["key"], {})
            rows[f"{dim}:{row['key']}"] = {
                "flags": row["flags"], "truth_flags": expected.get("flags"),
                "agree": row["flags"] == expected.get("flags")
                and abs(row["top_share"] - expected.get("top_share", -1)) <= SHARE_TOLERANCE
                and abs(row["renewal_share"] - expected.get("renewal_share", -1)) <= SHARE_TOLERANCE,
                "top_share": row["top_share"], "renewal_share": row["renewal_share"],
                "new_yoy_change": row["new_yoy_change"]}
    flagged = {row["key"] for row in report["concentration"]["region"]
               if {"top_customers", "renewals", "new_business_drop"} <= set(row["flags"])}
    target = {truth["planted_region"]}
    return {"planted_region": truth["planted_region"], "flagged_regions": sorted(flagged),
            "recall": len(flagged & target) / len(target), "precision": len(flagged & target) / len(flagged)
            if flagged else 0.0, "all_agree": all(r["agree"] for r in rows.values()), "rows": rows}


def evaluate_anomalies(world_dir: Path, catalog: Catalog, settings: Settings) -> dict:
    """The configured anomaly rules against the planted visit padding (``management.gaming``)."""
    truth = load_truth(world_dir)
    gaming = truth["management"]["gaming"]
    as_of = date.fromisoformat(truth["world_end"]) - timedelta(days=1)
    run_rules(catalog, settings, as_of=as_of, actor="eval")
    cases = list_cases(catalog, settings, with_events=False)
    planted = {(p["team_id"], p["month"]) for p in gaming["planted"]}
    region_of = {p["team_id"]: p["region"] for p in gaming["planted"]}
    planted_regions = {(region_of[t], m) for t, m in planted}
    right = lambda c: (c["key"], c["month"]) in (planted if c["scope"] == "team" else planted_regions)  # noqa: E731
    caught = {(t, m) for t, m in planted for c in cases if c["month"] == m
              and c["key"] == (t if c["scope"] == "team" else region_of[t])}
    return {"as_of": as_of.isoformat(), "planted": sorted(map(list, planted)), "cases": len(cases),
            "right_cases": sum(map(right, cases)), "caught": len(caught),
            "recall": len(caught) / len(planted) if planted else None,
            "precision": sum(map(right, cases)) / len(cases) if cases else None,
            "false_cases": [{"rule": c["rule"], "scope": c["scope"], "key": c["key"], "month": c["month"],
                             "metrics": c["evidence"]["metrics"]} for c in cases if not right(c)],
            "missed": sorted(map(list, planted - caught))}


def pool_anomalies(reports: list[dict]) -> dict:
    """Recall and precision over several worlds' anomaly reports (each world plants only a month or two)."""
    planted = sum(len(r["planted"]) for r in reports)
    cases = sum(r["cases"] for r in reports)
    return {"worlds": len(reports), "planted": planted, "caught": sum(r["caught"] for r in reports),
            "cases": cases, "right_cases": sum(r["right_cases"] for r in reports),
            "recall": sum(r["caught"] for r in reports) / planted if planted else None,
            "precision": sum(r["right_cases"] for r in reports) / cases if cases else None}
