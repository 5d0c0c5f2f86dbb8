"""Stage gates graded by a generated world's truth: are changes without real evidence caught, and are
changes with real evidence let through?

Every recorded stage change of the world is checked by :func:`check_stage_change` with the evidence
verifier's verdicts. Its truth: each requirement of the stages it leaves has a document of a fitting
kind, submitted in time, that ``truth.json`` calls ``authentic`` (not a template, not a copy). A change
that lacks one should come out ``unverified`` (caught); one that has them all should be ``verified``
(otherwise a false refusal when gates are enforced). Changes are split by why they lack evidence:
``none`` (no document of the kind: caught by counting) and ``fake`` (documents exist but none is real:
the verifier's part).

Two sets of requirements are graded: the configured ones, and :data:`WORLD_REQUIREMENTS`, which asks
only for the kinds the generator writes (conversation notes and proposals), so every gated change
has documents to judge.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from talktrack.core.catalog import open_catalog
from talktrack.core.workspace import Workspace
from talktrack.pipelines.crm_import import import_directory
from talktrack.pipelines.semantic.evidence import open_verifier
from talktrack.pipelines.semantic.evidence.sources import load_evidence_rows
from talktrack.pipelines.stage_gates import check_stage_change, stages_left, verifier_verdicts

NOTES = ["call_summary", "meeting_notes"]
WORLD_REQUIREMENTS = {"qualification": [NOTES], "needs_diagnosis": [NOTES], "solution_presentation": [["proposal"]],
                      "negotiation": [NOTES], "contract_delivery": []}


def evaluate_gates(world: Path, settings, workdir: Path) -> dict:
    """Import ``world`` into a fresh workspace under ``workdir``, check every stage change, grade by its truth."""
    settings = settings.model_copy(update={"workspace": Path(workdir)})
    workspace = Workspace.at(workdir).ensure()
    catalog = open_catalog(workspace.catalog_url)
    try:
        import_directory(catalog, settings, Path(world))
        verifier = open_verifier(catalog, settings, workspace)
        verifier.load_all_facts()
        verdicts = verifier_verdicts(verifier)
        truth = json.loads((Path(world) / "truth.json").read_text(encoding="utf-8"))["evidence"]
        events = _events(catalog)
        rows = {deal: load_evidence_rows(catalog, deal) for deal in {e[0] for e in events}}
        return {"world": str(world), "stage_changes": len(events),
                "configured": _grade(catalog, settings, events, rows, truth, verdicts),
                "world_requirements": _grade(catalog, _with_requirements(settings, WORLD_REQUIREMENTS), events, rows,
                                             truth, verdicts)}
    finally:
        catalog.dispose()


def _grade(catalog, settings, events, rows, truth, verdicts) -> dict:
    counts: Counter = Counter()
    per_stage: dict[str, Counter] = {}
    for deal, from_stage, to_stage, entered_at in events:
        owed = [(s.key, g) for s in stages_left(settings, from_stage, to_stage) for g in s.required_groups()]
        if not owed:
            continue
        result = check_stage_change(catalog, settings, deal, to_stage, entered_at, verdicts, from_stage=from_stage,
                                    rows=rows[deal])
        lacking = _truth_lacking(owed, rows[deal], truth, entered_at + timedelta(
            hours=settings.stage_gates.evidence_grace_h))
        caught = result.status != "verified"
        key = "backed" if lacking is None else f"lacking_{lacking}"
        counts[key] += 1
        counts[f"{key}_flagged"] += caught
        stage = per_stage.setdefault(from_stage, Counter())
        stage[key] += 1
        stage[f"{key}_flagged"] += caught
    return _summary(counts) | {"per_stage_left": {s: _summary(c) for s, c in sorted(per_stage.items())}}


def _summary(counts: Counter) -> dict:
    lacking = counts["lacking_none"] + counts["lacking_fake"]
    caught = counts["lacking_none_flagged"] + counts["lacking_fake_flagged"]
    return {"gated": lacking + counts["backed"], "lacking": lacking, "caught": caught,
            "recall": _share(caught, lacking),
            "recall_fake_evidence": _share(counts["lacking_fake_flagged"], counts["lacking_fake"]),
            "lacking_fake": counts["lacking_fake"], "lacking_none": counts["lacking_none"],
            "backed": counts["backed"], "false_refusals": counts["backed_flagged"],
            "false_refusal_rate": _share(counts["backed_flagged"], counts["backed"])}


def _truth_lacking(owed, rows, truth: dict, until: datetime) -> str | None:
    """None when every requirement has a truly authentic document in time; else ``none`` (some requirement
    has no document of its kinds at all) or ``fake`` (documents, none of them real)."""
    worst = None
    for _, group in owed:
        fitting = [r for r in rows if r.kind in group and r.submitted_at and r.submitted_at <= until]
        if any(truth.get(r.evidence_id, {}).get("authenticity") == "authentic" for r in fitting):
            continue
        worst = "none" if not fitting else (worst or "fake")
    return worst


def _events(catalog) -> list[tuple[str, str | None, str, datetime]]:
    """Every stage change: (deal, stage before, stage entered, when)."""
    from sqlalchemy import select

    from talktrack.core.catalog.schema import Deal, StageEvent

    with catalog.session() as session:
        rows = session.execute(select(Deal.external_id, StageEvent.stage, StageEvent.entered_at)
                               .join(Deal, Deal.id == StageEvent.deal_id)
                               .order_by(Deal.external_id, StageEvent.entered_at)).all()
    events, previous = [], (None, None)
    for deal, stage, entered in rows:
        events.append((deal, previous[1] if previous[0] == deal else None, stage, entered))
        previous = (deal, stage)
    return events


def _with_requirements(settings, requirements: dict[str, list]):
    stages = [s.model_copy(update={"required_evidence": requirements.get(s.key, s.required_evidence)})
              for s in settings.stages]
    return settings.model_copy(update={"stages": stages})


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
