"""Import of the revenue files (contracts, collections, spend, leads, visits, field entries): a
generated world goes in whole, re-importing changes nothing, and bad rows are reported by line."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from talktrack.core.catalog.schema import Collection, Contract, FieldEntry, Lead, MarketingSpend, Visit
from talktrack.evaluation.world import WorldSpec, generate_world
from talktrack.pipelines.crm_import import import_directory

REVENUE_FILES = ("product_lines", "contracts", "collections", "marketing_spend", "leads", "visits", "field_entries")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("revenue-world")
    generate_world(WorldSpec(seed=3, reps=8, customers=20, deals=30, calls=6, audio=0, as_of=date(2026, 12, 7)), out)
    return out


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) - 1


def test_a_generated_world_imports_whole_and_again_changes_nothing(catalog, settings, world):
    first = import_directory(catalog, settings, world)
    counts = {c.entity: c for c in first.counts}
    assert not [p for p in first.problems if p.severity == "error"]
    for name in REVENUE_FILES:
        assert counts[name].inserted == lines(world / f"{name}.csv") > 0, name
    with catalog.session() as session:
        renewals = session.scalar(select(func.count()).select_from(Contract).where(Contract.renewal_of.is_not(None)))
        assert renewals > 0
        assert session.scalar(select(func.count()).select_from(Collection)) == lines(world / "collections.csv")
    again = {c.entity: c for c in import_directory(catalog, settings, world).counts}
    for name in REVENUE_FILES:
        assert (again[name].inserted, again[name].updated, again[name].rejected) == (0, 0, 0), name
        assert again[name].unchanged == counts[name].inserted


def test_bad_revenue_rows_are_reported_by_line_and_the_rest_go_in(catalog, settings, world, tmp_path):
    source = tmp_path / "crm"
    shutil.copytree(world, source)
    contracts = (source / "contracts.csv").read_text(encoding="utf-8").splitlines()
    good = contracts[1].split(",")
    bad_rows = {
        "unknown customer": [*good[:1], "", "CUS-9999", *good[3:]],
        "negative amount": ["CON-X2", "", good[2], good[3], "-5", *good[5:]],
        "odd contract type": ["CON-X3", "", good[2], good[3], good[4], good[5], good[6], good[7], "handshake",
                              *good[9:]],
        "unknown renewal": ["CON-X4", "", good[2], good[3], good[4], good[5], good[6], good[7], good[8], good[9],
                            "CON-NOPE", good[11]],
    }
    bad_rows["unknown customer"][0] = "CON-X1"
    n = len(contracts)
    text = "\n".join(contracts + [",".join(row) for row in bad_rows.values()]) + "\n"
    (source / "contracts.csv").write_text(text, encoding="utf-8")
    with open(source / "field_entries.csv", "a", encoding="utf-8") as handle:
        handle.write("deal,DEAL-00001,amount_typed,hand,call\ncontract,CON-NONE,amount,captured,system\n")
    with open(source / "visits.csv", "a", encoding="utf-8") as handle:
        handle.write("VIS-X1,REP-002,,2026-05-04,guessed\n")
    report = import_directory(catalog, settings, source)
    problems = {(p.file, p.line): p.reason for p in report.problems if p.severity == "error"}
    assert "unknown customer_id 'CUS-9999'" in problems[("contracts.csv", n + 1)]
    assert "amount = '-5'" in problems[("contracts.csv", n + 2)]
    assert "contract_type = 'handshake'" in problems[("contracts.csv", n + 3)]
    assert "renewal_of 'CON-NOPE'" in problems[("contracts.csv", n + 4)]
    fields = lines(source / "field_entries.csv")
    assert "captured_from is for captured values" in problems[("field_entries.csv", fields)]
    assert "unknown contract record_id 'CON-NONE'" in problems[("field_entries.csv", fields + 1)]
    assert "logged = 'guessed'" in problems[("visits.csv", lines(source / "visits.csv") + 1)]
    counts = {c.entity: c for c in report.counts}
    assert (counts["contracts"].inserted, counts["contracts"].rejected) == (n - 1, 4)
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Contract)) == n - 1
        assert session.scalar(select(func.count()).select_from(Visit)) == lines(world / "visits.csv")
        assert session.scalar(select(func.count()).select_from(FieldEntry)) == lines(world / "field_entries.csv")
        assert session.scalar(select(func.count()).select_from(Lead)) == lines(world / "leads.csv")
        assert session.scalar(select(func.count()).select_from(MarketingSpend)) == lines(world / "marketing_spend.csv")
