"""The hidden truth of a world (``truth.json``): the causal model, every rep's hidden
levels, every deal's true win probability and outcome, every call's act labels and
every note's authenticity. The platform never reads it; evaluations grade against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from talktrack.evaluation.world import causal
from talktrack.evaluation.world.credibility import credibility_truth
from talktrack.evaluation.world.ltv import ltv_cac_truth
from talktrack.evaluation.world.management import ManagementRecords, management_truth
from talktrack.evaluation.world.deals import month_index, planned_close, stalled_stages, world_end
from talktrack.evaluation.world.records import Call, Customer, Deal, Evidence, Rep
from talktrack.evaluation.world.spec import Taxonomy, WorldSpec

TRUTH_VERSION = 1


@dataclass(frozen=True)
class WorldRecords:
    """Everything generated, for the writer and the truth (read-only after generation)."""

    teams: list
    reps: list[Rep]
    customers: list[Customer]
    deals: list[Deal]
    calls: list[Call]
    evidence: list[Evidence]
    surveys: list
    courses: list
    audio_call_ids: list[str]
    management: ManagementRecords


def build_truth(spec: WorldSpec, taxonomy: Taxonomy, world: WorldRecords) -> dict:
    calls_by_deal: dict[str, list[str]] = {}
    for call in world.calls:
        calls_by_deal.setdefault(call.deal_id, []).append(call.call_id)
    return {
        "truth_version": TRUTH_VERSION,
        "seed": spec.seed,
        "spec": spec.model_dump(mode="json"),
        "world_end": spec.end.isoformat(),
        "dimensions": list(taxonomy.capabilities),
        **causal.model_card(),
        "reps": {rep.rep_id: rep_truth(spec, taxonomy, rep) for rep in world.reps},
        "customers": {c.customer_id: customer_truth(c) for c in world.customers},
        "deals": {d.deal_id: deal_truth(spec, taxonomy, d, calls_by_deal.get(d.deal_id, [])) for d in world.deals},
        "calls": {c.call_id: call_truth(c, c.call_id in world.audio_call_ids) for c in world.calls},
        "evidence": {e.evidence_id: evidence_truth(e) for e in world.evidence},
        "management": management_truth(spec, world.teams, world.reps, world.deals, world.management) | {
            "credibility": credibility_truth(taxonomy.stage_keys[0], world.reps, world.deals, world.calls, world.evidence,
                                             world.management.visits, world.management.contracts,
                                             world.management.field_entries)}
        | {"ltv_cac": ltv_cac_truth(spec, world.teams, world.reps, world.deals, world.calls, world.management)},
    }


def rep_truth(spec: WorldSpec, taxonomy: Taxonomy, rep: Rep) -> dict:
    periods = spec.periods()
    return {
        "role": rep.role,
        "team_id": rep.team_id,
        "language": rep.language,
        "general": rep.general,
        "levels": {period: {dim: float(rep.levels[m, d]) for d, dim in enumerate(taxonomy.capabilities)}
                   for m, period in enumerate(periods)},
        "track_use_propensity": {
            track.track_id: [round(_track_propensity(rep, taxonomy, track, m), 6) for m in range(spec.months)]
            for track in causal.PLANTED_TRACKS if not track.decoy
        },
    }


def _track_propensity(rep: Rep, taxonomy: Taxonomy, track: causal.PlantedTrack, month: int) -> float:
    level = float(rep.levels[month, taxonomy.capabilities.index(track.skill)])
    return causal.sigmoid(causal.TRACK_USE["intercept"] + causal.TRACK_USE["slope"] * level)


def customer_truth(customer: Customer) -> dict:
    return {
        "quality": customer.quality,
        "industry_effect": causal.INDUSTRY_EFFECTS[customer.industry],
        "account_rep_id": customer.account_rep_id,
        "pains": [{"pain_id": p.pain_id, "kind": p.kind, "slots": p.slots, "tokens": list(p.tokens)}
                  for p in customer.pains],
        "competitor": customer.competitor,
        "budget": customer.budget,
        "deadline": customer.deadline,
        "decision_maker": customer.decision_maker,
        "contacts": [{"name": c.name, "address": c.first_name, "title": c.title} for c in customer.contacts],
    }


def deal_truth(spec: WorldSpec, taxonomy: Taxonomy, deal: Deal, call_ids: list[str]) -> dict:
    current = dict(deal.stage_events).get(deal.stage)
    return {
        "p_win": deal.p_win,
        "logit": deal.logit,
        "features": deal.features,
        "outcome": deal.status if deal.status != "open" else None,
        "outcome_if_closed": deal.outcome_if_closed,
        "status": deal.status,
        "planned_durations_days": dict(zip(causal.PIPELINE, deal.durations_days, strict=True)),
        "planned_close": planned_close(deal).isoformat(timespec="seconds"),
        "stalled_stages": stalled_stages(deal, taxonomy),
        "overdue_at_end": deal.status == "open" and current is not None
        and world_end(spec) - current > timedelta(days=taxonomy.stage(deal.stage).threshold_days),
        "tracks_used": deal.tracks_used,
        "fake_progress": deal.fake_progress,
        "fake_mode": deal.fake_mode or None,
        "claimed_progress_level": deal.progress_level or None,
        "backed_progress_level": deal.backed_progress_level or None,
        "skill_month": spec.periods()[month_index(spec, deal.created_at)],
        "calls": call_ids,
    }


def call_truth(call: Call, rendered: bool) -> dict:
    utterances = [{"utt": i, "speaker": u.speaker, "speaker_role": u.role} | u.labels
                  for i, u in enumerate(call.utterances)]
    return {
        "deal_id": call.deal_id,
        "stage": call.stage,
        "customer_first": call.plan.customer_first,
        "customer_speakers": call.plan.n_contacts,
        "utterances": utterances,
        "objections": objection_truth(call),
        "key_questions": {"covered": call.plan.key_questions_covered, "missed": call.plan.key_questions_missed},
        "pains_mentioned": call.plan.pains_mentioned,
        "next_step": call.plan.next_step,
        "audio_rendered": rendered,
        "times": "real (from the audio)" if rendered else "estimated from text length",
    }


def objection_truth(call: Call) -> list[dict]:
    """Per objection: its type, the moves, the reaction and where each sits (utterance indices)."""
    records = []
    for index, episode in enumerate(call.plan.episodes):
        where = {"objection_utt": None, "answer_utts": [], "reaction_utt": None}
        for i, u in enumerate(call.utterances):
            _locate(where, i, u.labels, index)
        records.append({"index": index, "objection_type": episode.objection_type, "moves": list(episode.moves),
                        "reaction": episode.reaction, "tracks_used": list(episode.tracks_used), **where})
    return records


def _locate(where: dict, i: int, labels: dict, index: int) -> None:
    act, own = labels["act"], labels.get("objection_index") == index
    if act == "objection" and own:
        where["objection_utt"] = i
    elif act == "move" and own:
        where["answer_utts"].append(i)
    elif act == "reaction" and own:
        where["reaction_utt"] = i
    elif act == "objection" and labels.get("objection_index") == index + 1 and labels.get("reaction_to_previous"):
        where["reaction_utt"] = i


def evidence_truth(item: Evidence) -> dict:
    return {
        "deal_id": item.deal_id,
        "kind": item.kind,
        "authenticity": item.authenticity,
        "source_evidence_id": item.source_evidence_id or None,
        "call_id": item.call_id or None,
        "template_id": item.template_id or None,
    }
