"""The world's management files (contracts, collections, leads, spend, visits, field entries), the
truth planted in them, and ``--as-of``: the world ends on a given day, reproducibly."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest

from talktrack.evaluation.world import WorldSpec, generate_world

AS_OF = date(2026, 12, 7)
SEEDS = (7, 11)


def small_spec(seed: int, **extra) -> WorldSpec:
    return WorldSpec(seed=seed, reps=12, customers=40, deals=60, calls=30, audio=0, as_of=AS_OF, **extra)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> dict[int, Path]:
    out = {}
    for seed in SEEDS:
        out[seed] = tmp_path_factory.mktemp(f"mgmt-world-{seed}")
        generate_world(small_spec(seed), out[seed])
    return out


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.*"))}


def test_as_of_fixes_the_last_day_and_the_months():
    spec = WorldSpec(as_of=AS_OF, months=12)
    assert (spec.start, spec.end) == (date(2026, 1, 1), date(2026, 12, 8))
    assert spec.periods()[0] == "2026-01" and spec.periods()[-1] == "2026-12"
    assert WorldSpec().start == date(2025, 1, 1) and WorldSpec().as_of is None  # the library default is unchanged
    with pytest.raises(ValueError, match="start or as_of"):
        WorldSpec(as_of=AS_OF, start=date(2025, 1, 1))


def test_same_seed_and_as_of_give_identical_worlds_another_day_does_not(tmp_path, worlds):
    generate_world(small_spec(7), tmp_path / "again")
    assert digests(tmp_path / "again") == digests(worlds[7])
    generate_world(WorldSpec(seed=7, reps=12, customers=40, deals=60, calls=30, audio=0, as_of=date(2026, 6, 30)),
                   tmp_path / "june")
    assert digests(tmp_path / "june")["contracts.csv"] != digests(worlds[7])["contracts.csv"]


def test_nothing_happens_after_as_of_and_open_deals_are_recent(worlds):
    folder = worlds[7]
    moments = [r["entered_at"] for r in rows(folder, "stage_events")] + [r["started_at"] for r in rows(folder, "calls")]
    moments += [r["signed_at"] for r in rows(folder, "contracts")] + [r["received_at"] for r in rows(folder, "collections")]
    moments += [r["created_at"] for r in rows(folder, "leads")] + [r["visited_on"] for r in rows(folder, "visits")]
    assert max(datetime.fromisoformat(m).date() for m in moments) <= AS_OF
    open_deals = [d for d in rows(folder, "deals") if d["status"] == "open"]
    assert open_deals and all(datetime.fromisoformat(d["created_at"]).date() >= date(2026, 1, 1) for d in open_deals)


@pytest.mark.parametrize("seed", SEEDS)
def test_contracts_reference_deals_customers_and_renewed_contracts(worlds, seed):
    folder = worlds[seed]
    contracts = {c["contract_id"]: c for c in rows(folder, "contracts")}
    won = {d["deal_id"]: d for d in rows(folder, "deals") if d["status"] == "won"}
    assert {c["deal_id"] for c in contracts.values() if c["deal_id"]} == set(won)
    for c in contracts.values():
        if c["deal_id"]:
            deal = won[c["deal_id"]]
            assert (c["amount"], c["customer_id"], c["signed_at"]) == (deal["amount"], deal["customer_id"],
                                                                       deal["closed_at"][:10])
        if c["renewal_of"]:
            renewed = contracts[c["renewal_of"]]
            assert renewed["customer_id"] == c["customer_id"] and renewed["signed_at"] < c["signed_at"]
    paid = defaultdict(float)
    for p in rows(folder, "collections"):
        paid[p["contract_id"]] += float(p["amount"])
        assert p["currency"] == contracts[p["contract_id"]]["currency"]
    assert all(paid[cid] <= float(contracts[cid]["amount"]) for cid in paid)
    assert {r["product_line"] for r in rows(folder, "product_lines")} >= {c["product_line"] for c in contracts.values()}


@pytest.mark.parametrize("seed", SEEDS)
def test_healthy_value_in_truth_is_the_policy_applied_to_the_contracts_file(worlds, seed):
    folder, t = worlds[seed], truth(worlds[seed])["management"]
    rule, rates = t["policy"]["healthy_contract"], t["policy"]["exchange_rates"]
    team_of = {r["rep_id"]: r["team_id"] for r in rows(folder, "reps")}
    expected = defaultdict(float)
    excluded = 0
    for c in rows(folder, "contracts"):
        healthy = (int(c["payment_terms_days"]) <= rule["max_payment_terms_days"]
                   and float(c["discount_pct"]) <= rule["max_discount_pct"] and c["contract_type"] in rule["contract_types"])
        if healthy:
            expected[(team_of[c["rep_id"]], c["signed_at"][:7])] += float(c["amount"]) * rates[c["currency"]]
        excluded += not healthy
    planted = {(team, month): value for team, months in t["healthy_value"]["team"].items()
               for month, value in months.items()}
    assert planted == dict(expected)
    assert t["excluded"]["count"] == excluded > 0
    assert set(t["excluded"]["by_reason"]) == {"payment_terms", "discount", "contract_type"}


@pytest.mark.parametrize("seed", SEEDS)
def test_one_region_is_planted_concentrated_and_only_it_is_flagged(worlds, seed):
    t = truth(worlds[seed])["management"]["concentration"]
    planted = t["planted_region"]
    region = t["region"][planted]
    assert set(region["flags"]) == {"top_customers", "renewals", "new_business_drop"}
    assert region["renewal_share"] >= 0.8 and region["new_yoy_change"] <= -0.35
    assert {c["customer_id"] for c in region["top_customers"]} == set(t["planted_customers"])
    # elsewhere new business holds and renewals stay a minority; a region with few won deals may still
    # pass the top-3 limit on its own (seeds 1-11 at this size: 0.36-0.86), which is the data, not a plant
    others = [other for name, other in t["region"].items() if name != planted]
    assert others and all(not {"renewals", "new_business_drop"} & set(other["flags"]) for other in others)
    assert all(-0.2 <= other["new_yoy_change"] <= 0.2 for other in others)


@pytest.mark.parametrize("seed", SEEDS)
def test_visit_padding_rule_fires_exactly_on_the_planted_months(worlds, seed):
    folder, gaming = worlds[seed], truth(worlds[seed])["management"]["gaming"]
    team_of = {r["rep_id"]: r["team_id"] for r in rows(folder, "reps")}
    deal_team = {d["deal_id"]: team_of[d["rep_id"]] for d in rows(folder, "deals")}
    visits = Counter((team_of[v["rep_id"]], v["visited_on"][:7]) for v in rows(folder, "visits"))
    needs = Counter((deal_team[e["deal_id"]], e["entered_at"][:7]) for e in rows(folder, "stage_events")
                    if e["stage"] == "needs_diagnosis")
    months = gaming["complete_months"]
    fired = {(team, m) for team in set(team_of.values()) for prev, m in zip(months, months[1:])
             if visits[(team, prev)] and visits[(team, m)] >= 1.4 * visits[(team, prev)]
             and needs[(team, prev)] and needs[(team, m)] <= 0.85 * needs[(team, prev)]}
    assert fired == {(p["team_id"], p["month"]) for p in gaming["planted"]} and fired


@pytest.mark.parametrize("seed", SEEDS)
def test_field_entry_and_lead_truth_count_the_files(worlds, seed):
    folder, t = worlds[seed], truth(worlds[seed])["management"]
    team_of = {r["rep_id"]: r["team_id"] for r in rows(folder, "reps")}
    owner = {("deal", d["deal_id"]): (team_of[d["rep_id"]], d["created_at"][:7]) for d in rows(folder, "deals")}
    owner |= {("contract", c["contract_id"]): (team_of[c["rep_id"]], c["signed_at"][:7])
              for c in rows(folder, "contracts")}
    counted = Counter()
    for e in rows(folder, "field_entries"):
        team, month = owner[(e["entity"], e["record_id"])]
        counted[(team, f"{e['entity']}.{e['field']}", month, e["entry"])] += 1
        assert (e["entry"] == "captured") == bool(e["captured_from"])
    planted = Counter({(team, field, month, entry): n for team, fields in t["field_entries"].items()
                       for field, months in fields.items() for month, cell in months.items()
                       for entry, n in cell.items() if n})
    assert planted == counted
    shares = [sum(c["hand"] for c in f.values()) / sum(c["hand"] + c["captured"] for c in f.values())
              for fields in t["field_entries"].values() for f in fields.values()]
    assert min(shares) < 0.4 < max(shares)  # fields differ in how often they are typed by hand
    leads = rows(folder, "leads")
    assert {lead["status"] for lead in leads} == {"valid", "invalid"}
    assert {lead["deal_id"] for lead in leads if lead["deal_id"]} == {d["deal_id"] for d in rows(folder, "deals")}
    assert sum(n for months in t["leads"].values() for cell in months.values() for n in cell.values()) == len(leads)
