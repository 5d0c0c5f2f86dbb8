"""Teams, reps with hidden capability levels, and customers with a hidden quality score
and concrete pain points.

The pain points are drawn once per customer and reused by every call and every
authentic note about that customer, which is what makes a copied or templated note
detectable: it lacks (or has someone else's) specifics.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np

from talktrack.evaluation.world import causal
from talktrack.evaluation.world.lexicon import lexicon
from talktrack.evaluation.world.records import Contact, Customer, Pain, Rep, Team
from talktrack.evaluation.world.spec import WorldSpec, child_rng

STEP_TEAMS, STEP_REPS, STEP_CUSTOMERS = 1, 2, 3

INDUSTRIES = tuple(causal.INDUSTRY_EFFECTS)
# Number slots of each pain kind, drawn uniformly in [low, high).
PAIN_NUMBERS: dict[str, dict[str, tuple[int, int]]] = {
    "reconciliation": {"hours": (12, 46)},
    "order_errors": {"pct": (6, 20)},
    "slow_response": {"hours": (6, 72), "complaints": (15, 90)},
    "lost_accounts": {"n": (6, 19)},
    "onboarding": {"days": (9, 40)},
    "month_end": {"days": (6, 13)},
    "spreadsheets": {"n": (6, 28)},
    "downtime": {"hours": (8, 60)},
    "visibility": {"n": (15, 140)},
    "stockouts": {"n": (6, 30)},
    "audit": {"n": (6, 21)},
    "expansion": {"n": (6, 15)},
}
PAIN_KINDS = tuple(PAIN_NUMBERS)


def make_teams(spec: WorldSpec) -> list[Team]:
    """One team per ``team_size`` people; team i works in ``languages[i % len(languages)]``."""
    count = max(1, round(spec.reps / spec.team_size))
    teams = []
    for index in range(count):
        lex = lexicon(team_language(spec, index))
        name = lex.TEAM_FORMAT.format(name=lex.TEAM_NAMES[index % len(lex.TEAM_NAMES)])
        if index >= len(lex.TEAM_NAMES):
            name = f"{name} {index // len(lex.TEAM_NAMES) + 1}"
        teams.append(Team(f"TEAM-{index + 1:02d}", name, lex.REGIONS[index % len(lex.REGIONS)]))
    return teams


def team_language(spec: WorldSpec, team_index: int) -> str:
    return spec.languages[team_index % len(spec.languages)]


def make_reps(spec: WorldSpec, teams: list[Team], dimensions: tuple[str, ...]) -> list[Rep]:
    """People dealt round-robin over teams; the first person of each team is its manager."""
    width = max(3, len(str(spec.reps)))
    reps = []
    for index in range(spec.reps):
        team_index = index % len(teams)
        role = "manager" if index < len(teams) else "rep"
        rng = child_rng(spec.seed, STEP_REPS, index)
        rep = _make_rep(spec, rng, f"REP-{index + 1:0{width}d}", teams[team_index], role, team_index, dimensions)
        if role == "manager":
            teams[team_index].manager_id = rep.rep_id
        reps.append(rep)
    return reps


def _make_rep(spec: WorldSpec, rng: np.random.Generator, rep_id: str, team: Team, role: str, team_index: int,
              dimensions: tuple[str, ...]) -> Rep:
    language = team_language(spec, team_index)
    full, address, local = lexicon(language).make_person(rng, formal=False)
    general = rng.normal(0.0, causal.LEVEL_MODEL["general_sd"])
    general += causal.LEVEL_MODEL["manager_general_shift"] if role == "manager" else 0.0
    levels = hidden_levels(rng, general, spec.months, len(dimensions))
    hired = spec.start - timedelta(days=int(rng.integers(30, 2000)))
    email = f"{local}.{rep_id[4:]}@{lexicon(language).EMAIL_DOMAIN}"
    return Rep(rep_id, full, address, email, team.team_id, role, language, hired, round(general, 4), levels)


def hidden_levels(rng: np.random.Generator, general: float, months: int, n_dims: int) -> np.ndarray:
    """level[m, d] = general + deviation[d] + trend * m + random walk; z-scores, rounded to 1e-4.

    shape: (months, n_dims)
    """
    model = causal.LEVEL_MODEL
    deviation = rng.normal(0.0, model["deviation_sd"], n_dims)
    trend = rng.normal(model["trend_mean_per_month"], model["trend_sd_per_month"])
    steps = rng.normal(0.0, model["walk_sd_per_month"], (months, n_dims))
    steps[0] = 0.0
    walk = np.cumsum(steps, axis=0)
    levels = general + deviation[None, :] + trend * np.arange(months)[:, None] + walk
    return np.round(levels, 4)


def make_customers(spec: WorldSpec, reps: list[Rep]) -> list[Customer]:
    """Customers with CRM features, a hidden quality, an account rep and a concrete profile."""
    width = max(4, len(str(spec.customers)))
    sellers = [rep for rep in reps if rep.role == "rep"]
    used_names: set[str] = set()
    customers = []
    for index in range(spec.customers):
        rng = child_rng(spec.seed, STEP_CUSTOMERS, index)
        language = spec.languages[int(rng.integers(len(spec.languages)))]
        customer = _make_customer(spec, rng, f"CUS-{index + 1:0{width}d}", language, sellers, used_names)
        customers.append(customer)
    return customers


def _make_customer(spec: WorldSpec, rng: np.random.Generator, customer_id: str, language: str,
                   sellers: list[Rep], used_names: set[str]) -> Customer:
    lex = lexicon(language)
    industry = INDUSTRIES[int(rng.integers(len(INDUSTRIES)))]
    name, short = _unique_company(rng, lex, industry, used_names)
    raw, written = _crm_features(rng)
    budget_value = _budget_value(rng, written["employees"], language)
    return Customer(
        customer_id=customer_id, name=name, short_name=short, industry=industry, **written,
        region=lex.REGIONS[int(rng.integers(len(lex.REGIONS)))], language=language,
        created_at=spec.start - timedelta(days=int(rng.integers(0, 700))),
        quality=round(causal.customer_quality(raw, industry), 4),
        account_rep_id=_account_rep(rng, sellers, language).rep_id,
        contacts=_contacts(rng, lex), pains=_pains(rng, lex, customer_id),
        competitor=_pick(rng, lex.COMPETITORS), budget=lex.format_money(budget_value), budget_value=budget_value,
        deadline=_pick(rng, lex.DEADLINES), users=int(rng.integers(2, 40)) * 5,
        decision_maker=_pick(rng, lex.DECISION_MAKER_TITLES), committee_size=int(rng.integers(2, 7)),
    )


def _pick(rng: np.random.Generator, options: tuple) -> object:
    return options[int(rng.integers(len(options)))]


def _unique_company(rng: np.random.Generator, lex, industry: str, used: set[str]) -> tuple[str, str]:
    """A company name not used yet in this world (copied notes swap names, so names must differ)."""
    for _ in range(30):
        name, short = lex.make_company(rng, industry)
        if name not in used:
            break
    else:
        name = f"{name} {len(used) + 1}"
    used.add(name)
    return name, short


def _crm_features(rng: np.random.Generator) -> tuple[dict[str, float], dict]:
    """CRM/ERP/outside signals as written to customers.csv, and the raw values quality is built on."""
    employees = max(5, int(round(math.exp(rng.normal(5.7, 1.2)))))
    purchase_frequency = round(float(rng.gamma(2.0, 3.0)), 1)
    open_positions = int(rng.poisson(employees * 0.02 * math.exp(rng.normal(0.0, 0.6))))
    sentiment = round(float(np.tanh(rng.normal(0.1, 0.5))), 2)
    written = {"employees": employees, "purchase_frequency": purchase_frequency,
               "open_positions": open_positions, "sentiment": sentiment}
    raw = {"log_employees": math.log(employees), "purchase_frequency": purchase_frequency,
           "log1p_open_positions": math.log1p(open_positions), "sentiment": sentiment}
    return raw, written


def _budget_value(rng: np.random.Generator, employees: int, language: str) -> float:
    """The budget the customer names in calls: grows with company size; CNY for zh (about 7x USD)."""
    usd = math.exp(rng.normal(math.log(40000.0) + 0.35 * math.log(employees / 300.0), 0.4))
    return round(usd * (7.0 if language == "zh" else 1.0), -3)


def _account_rep(rng: np.random.Generator, sellers: list[Rep], language: str) -> Rep:
    """The rep who owns the account: one speaking the customer's language 85% of the time."""
    same = [rep for rep in sellers if rep.language == language]
    pool = same if same and rng.random() < 0.85 else sellers
    return pool[int(rng.integers(len(pool)))]


def _contacts(rng: np.random.Generator, lex) -> tuple[Contact, ...]:
    contacts = []
    for _ in range(int(rng.integers(1, 4))):
        full, address, _ = lex.make_person(rng, formal=True)
        contacts.append(Contact(full, address, _pick(rng, lex.CONTACT_TITLES)))
    return tuple(contacts)


def _pains(rng: np.random.Generator, lex, customer_id: str) -> tuple[Pain, ...]:
    """Two or three distinct pain kinds with this customer's own numbers and entities."""
    kinds = rng.choice(len(PAIN_KINDS), size=int(rng.integers(2, 4)), replace=False)
    pains = []
    for number, kind_index in enumerate(sorted(int(k) for k in kinds)):
        kind = PAIN_KINDS[kind_index]
        numbers = {slot: str(int(rng.integers(low, high))) for slot, (low, high) in PAIN_NUMBERS[kind].items()}
        entities = {slot: _pick(rng, options) for slot, options in lex.PAIN_ENTITIES.get(kind, {}).items()}
        pains.append(Pain(f"{customer_id}/P{number + 1}", kind, numbers | entities, tuple(numbers.values())))
    return tuple(pains)
