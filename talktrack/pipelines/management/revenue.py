"""Revenue a director can trust: healthy contract value, renewal vs new business, concentration.

- **Healthy contract value** = the sum, over contracts signed in a month, of ``amount × exchange rate``
  for the contracts within policy (``settings.management.healthy_contract``: payment terms ≤
  ``max_payment_terms_days``, discount ≤ ``max_discount_pct``, type in ``contract_types``); per team,
  region (of the rep's team), rep, product line and month, beside what was excluded and why (a contract
  breaking two rules is listed under both reasons and counted once in the total).
- **Renewal vs new** over the trailing year (the 365/366 days up to ``as_of``): a contract with
  ``renewal_of`` is renewal revenue, any other is new business.
- **Top-N share** = revenue of the N customers with the most revenue in the trailing year ÷ all revenue
  in it (N = ``concentration.top_customers``).
- **New business YoY** = (new business this trailing year − the year before) ÷ the year before; per
  month, ``by_month`` splits new and renewal revenue and compares the total with the same month a year
  earlier.
- **Flags** when top-N share > ``max_top_share``, renewal share > ``max_renewal_share`` or new
  business fell by more than ``max_new_business_drop``.

Revenue here is contract value (all contracts, healthy or not) in the reporting currency; a contract
in a currency without an exchange rate is excluded (reason ``currency``) and reported.

Example::

    report = revenue_report(catalog, settings, as_of=date(2026, 12, 7), team="TEAM-01")
    report["concentration"]["region"][0]["flags"]
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Contract, Customer, ProductLine, Rep, Team
from talktrack.core.config import Settings
from talktrack.core.config.management import ManagementSettings

DIMENSIONS = ("team", "region", "rep", "product_line")
NO_KEY = "(none)"

# Which imported fields (``<import file>.<column>``) each figure reads (for the lineage graph).
LINEAGE: dict[str, tuple[str, ...]] = {
    "healthy_contract_value": ("contracts.amount", "contracts.currency", "contracts.payment_terms_days",
                               "contracts.discount_pct", "contracts.contract_type", "contracts.signed_at",
                               "contracts.rep_id", "contracts.product_line", "reps.team_id", "teams.region"),
    "renewal_share": ("contracts.amount", "contracts.currency", "contracts.renewal_of", "contracts.signed_at",
                      "contracts.rep_id", "reps.team_id", "teams.region"),
    "top_customer_share": ("contracts.amount", "contracts.currency", "contracts.customer_id",
                           "contracts.signed_at", "contracts.rep_id", "reps.team_id", "teams.region"),
    "new_business_yoy": ("contracts.amount", "contracts.currency", "contracts.renewal_of", "contracts.signed_at",
                         "contracts.rep_id", "reps.team_id", "teams.region"),
}


@dataclass(frozen=True)
class ContractFact:
    """One contract as the metrics see it: its value in the reporting currency and whether it is healthy."""

    contract_id: str
    value: float
    healthy: bool
    reasons: tuple[str, ...]
    kind: str  # "new" | "renewal"
    customer: str
    rep: str
    team: str
    region: str
    product_line: str
    month: str
    signed_at: date


def year_before(day: date, years: int = 1) -> date:
    """The same day ``years`` years earlier (28 February for a 29th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def trailing_years(as_of: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """(this year, the year before) as [first, end) day ranges ending the day after ``as_of``."""
    end = as_of + timedelta(days=1)
    return (year_before(end), end), (year_before(end, 2), year_before(end))


def exclusion_reasons(policy: ManagementSettings, currency: str, terms_days: int, discount_pct: float,
                      contract_type: str) -> tuple[str, ...]:
    """Why a contract is outside policy; empty when it is healthy."""
    rule = policy.healthy_contract
    checks = (("currency", currency not in policy.exchange_rates),
              ("payment_terms", terms_days > rule.max_payment_terms_days),
              ("discount", discount_pct > rule.max_discount_pct),
              ("contract_type", contract_type not in rule.contract_types))
    return tuple(reason for reason, broken in checks if broken)


def load_contracts(catalog: Catalog, settings: Settings, as_of: date, team: str | None = None) -> list[ContractFact]:
    """Contracts signed up to ``as_of`` (of one team's reps when ``team`` is given), as facts."""
    policy = settings.management
    query = (select(Contract.external_id, Contract.amount, Contract.currency, Contract.discount_pct,
                    Contract.payment_terms_days, Contract.contract_type, Contract.renewal_of, Contract.signed_at,
                    Customer.external_id, Rep.external_id, Team.external_id, Team.region, ProductLine.external_id)
             .join(Customer, Customer.id == Contract.customer_id).join(Rep, Rep.id == Contract.rep_id)
             .outerjoin(Team, Team.id == Rep.team_id).outerjoin(ProductLine, ProductLine.id == Contract.product_line_id)
             .where(Contract.signed_at <= as_of).order_by(Contract.signed_at, Contract.external_id))
    if team is not None:
        query = query.where(Team.external_id == team)
    with catalog.session() as session:
        rows = session.execute(query).all()
    return [_fact(policy, *row) for row in rows]


def _fact(policy: ManagementSettings, contract_id, amount, currency, discount, terms, kind, renewal_of, signed,
          customer, rep, team, region, line) -> ContractFact:
    reasons = exclusion_reasons(policy, currency, terms, discount, kind)
    return ContractFact(contract_id, amount * policy.exchange_rates.get(currency, 0.0), not reasons, reasons,
                        "renewal" if renewal_of else "new", customer, rep, team or NO_KEY, region or NO_KEY,
                        line or NO_KEY, signed.strftime("%Y-%m"), signed)


def revenue_report(catalog: Catalog, settings: Settings, *, as_of: date, team: str | None = None) -> dict:
    """Every revenue figure of one scope (all teams, or one), as of a day."""
    facts = load_contracts(catalog, settings, as_of, team)
    policy = settings.management
    current, previous = trailing_years(as_of)
    concentration = {dim: [concentration_row(facts, dim, key, current, previous, policy)
                           for key in sorted({getattr(f, dim) for f in facts})] for dim in ("region", "team")}
    return {
        "as_of": as_of.isoformat(),
        "scope": {"team": team},
        "currency": policy.reporting_currency,
        "policy": policy.healthy_contract.model_dump(mode="json"),
        "limits": policy.concentration.model_dump(mode="json"),
        "healthy_value": {dim: healthy_value_rows(facts, dim) for dim in DIMENSIONS},
        "excluded": excluded_summary(facts),
        "by_month": {dim: monthly_split(facts, dim) for dim in ("region", "team")},
        "windows": {"current": [d.isoformat() for d in current], "previous": [d.isoformat() for d in previous]},
        "concentration": concentration,
        "flags": [{"dimension": dim, "key": row["key"], "flag": flag}
                  for dim, rows in concentration.items() for row in rows for flag in row["flags"]],
    }


def healthy_value_rows(facts: list[ContractFact], dimension: str) -> list[dict]:
    """Per (key, month): healthy value and count, and the excluded value and count beside them."""
    cells: dict = defaultdict(lambda: {"healthy_value": 0.0, "contracts": 0, "excluded_value": 0.0, "excluded": 0})
    for fact in facts:
        cell = cells[(getattr(fact, dimension), fact.month)]
        if fact.healthy:
            cell["healthy_value"] += fact.value
            cell["contracts"] += 1
        else:
            cell["excluded_value"] += fact.value
            cell["excluded"] += 1
    return [{"key": key, "month": month, **cell} for (key, month), cell in sorted(cells.items())]


def monthly_split(facts: list[ContractFact], dimension: str) -> list[dict]:
    """Per (key, month): new and renewal revenue, and the total's change against the same month a year earlier."""
    cells: dict = defaultdict(lambda: {"new": 0.0, "renewal": 0.0})
    for fact in facts:
        if "currency" not in fact.reasons:
            cells[(getattr(fact, dimension), fact.month)][fact.kind] += fact.value
    rows = []
    for (key, month), cell in sorted(cells.items()):
        total = cell["new"] + cell["renewal"]
        before = cells.get((key, f"{int(month[:4]) - 1:04d}{month[4:]}"))
        base = before["new"] + before["renewal"] if before else 0.0
        rows.append({"key": key, "month": month, **cell, "total": total,
                     "yoy_change": (total - base) / base if base else None})
    return rows


def excluded_summary(facts: list[ContractFact]) -> dict:
    by_reason: dict = defaultdict(lambda: {"count": 0, "value": 0.0, "contracts": []})
    for fact in facts:
        for reason in fact.reasons:
            entry = by_reason[reason]
            entry["count"] += 1
            entry["value"] += fact.value
            entry["contracts"].append(fact.contract_id)
    dropped = [f for f in facts if not f.healthy]
    return {"count": len(dropped), "value": sum(f.value for f in dropped), "by_reason": dict(sorted(by_reason.items()))}


def concentration_row(facts: list[ContractFact], dimension: str, key: str, current: tuple[date, date],
                      previous: tuple[date, date], policy: ManagementSettings) -> dict:
    """Trailing-year revenue of one region or team: the split, the top customers, YoY and the flags."""
    mine = [f for f in facts if getattr(f, dimension) == key and "currency" not in f.reasons]
    this_year = [f for f in mine if current[0] <= f.signed_at < current[1]]
    total = sum(f.value for f in this_year)
    renewal = sum(f.value for f in this_year if f.kind == "renewal")
    new = total - renewal
    new_before = sum(f.value for f in mine if previous[0] <= f.signed_at < previous[1] and f.kind == "new")
    per_customer: Counter = Counter()
    for fact in this_year:
        per_customer[fact.customer] += fact.value
    limits = policy.concentration
    top = sorted(per_customer.items(), key=lambda item: (-item[1], item[0]))[:limits.top_customers]
    top_share = sum(value for _, value in top) / total if total else 0.0
    renewal_share = renewal / total if total else 0.0
    change = (new - new_before) / new_before if new_before else None
    flags = [name for name, hit in (("top_customers", top_share > limits.max_top_share),
                                    ("renewals", renewal_share > limits.max_renewal_share),
                                    ("new_business_drop", change is not None and -change > limits.max_new_business_drop))
             if hit]
    return {"key": key, "total": total, "renewal": renewal, "new": new, "new_previous_year": new_before,
            "renewal_share": renewal_share, "top_customers": [{"customer_id": c, "value": v} for c, v in top],
            "top_share": top_share, "new_yoy_change": change, "flags": flags}


def contract_facts(facts: list[ContractFact]) -> list[dict]:
    """The facts as JSON-ready rows (for an export or a drill-down)."""
    return [asdict(f) | {"signed_at": f.signed_at.isoformat(), "reasons": list(f.reasons)} for f in facts]
