"""One deal's stage gate as the deal page shows it: what leaving its stage owes, and how past changes fared.

The manager's list (:func:`talktrack.pipelines.stage_gates.gate_checks`) answers "which changes of my team
went through without evidence"; a manager or rep looking at *one* deal asks two other things: "can this
deal move on — is the evidence its stage requires there and verified?" and "were its earlier stage
changes backed?". Both answers come from the same rules as the gate itself: the requirements are the
current stage's ``required_evidence`` (what :func:`~talktrack.pipelines.stage_gates.check_stage_change`
will ask when the deal leaves it) and a document counts only when the evidence verifier finds it
authentic. A requirement is ``verified`` (an authentic document), ``present`` (documents, none verified:
their verdicts say why) or ``missing`` (none submitted).

    >>> gate = deal_gate(catalog, settings, "DEAL-00042", verdicts)                      # doctest: +SKIP
    >>> [(r["evidence_kinds"], r["status"]) for r in gate["requirements"]]                # doctest: +SKIP
    [(['pain_point_list'], 'verified'), (['competitor_comparison'], 'missing')]
"""

from __future__ import annotations

from talktrack.pipelines import stage_timers
from talktrack.pipelines.stage_gates import VERIFIED, Verdicts, gate_checks
from talktrack.pipelines.semantic.evidence.sources import EvidenceRow, load_evidence_rows

MAX_CHECKS = 200   # a deal's stage changes: far fewer in practice; the page lists them all


def deal_gate(catalog, settings, deal_id: str, verdicts: Verdicts) -> dict:
    """The deal's stage, its requirements with their evidence, and every recorded gate check of the deal.

    Raises :class:`~talktrack.pipelines.stage_timers.DealNotFound` for an unknown deal.
    """
    timeline = stage_timers.deal_timeline(catalog, settings, deal_id)
    stage = timeline.current.stage if timeline.current else None
    groups = _required_groups(settings, stage)
    wanted = {kind for group in groups for kind in group}
    rows = [r for r in load_evidence_rows(catalog, deal_id) if r.kind in wanted]
    labels = verdicts(rows) if rows else {}
    total, checks = gate_checks(catalog, status=None, deal=deal_id, limit=MAX_CHECKS)
    return {"deal_id": deal_id, "stage": stage, "status": timeline.status,
            "enforce": settings.stage_gates.enforce,
            "requirements": [_requirement(group, rows, labels) for group in groups],
            "checks": checks, "checks_total": total,
            "unverified": sum(c["status"] == "unverified" for c in checks)}


def _required_groups(settings, stage: str | None) -> list[tuple[str, ...]]:
    """What leaving ``stage`` owes (nothing for a deal without a stage)."""
    found = next((s for s in settings.stages if s.key == stage), None)
    return found.required_groups() if found else []


def _requirement(group: tuple[str, ...], rows: list[EvidenceRow], labels: dict[str, str]) -> dict:
    documents = [{"evidence_id": r.evidence_id, "kind": r.kind, "title": r.title,
                  "submitted_at": r.submitted_at.isoformat(timespec="seconds") if r.submitted_at else None,
                  "verdict": labels.get(r.evidence_id, "unchecked")} for r in rows if r.kind in group]
    if any(d["verdict"] == VERIFIED for d in documents):
        status = "verified"
    else:
        status = "present" if documents else "missing"
    return {"evidence_kinds": list(group), "status": status, "documents": documents}
