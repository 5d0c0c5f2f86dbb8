"""The decision sandbox: "move 20 % of the reps from product line A to B" — next quarter's gross margin,
customer churn and productivity, for the baseline and for the scenario, with intervals.

A Monte Carlo over models fitted on the catalog's history (``management.sandbox.history_days`` up to
``as_of``); each draw first draws the parameters from their posteriors, then the quarter:

- **deal flow**: seller r opens Poisson(lambda_r x H) deals in the H = ``horizon_days`` days,
  lambda_r ~ Gamma(deals opened in the window + 1/2, window days); a hire opens at the mean seller's rate;
- **cycle**: days from opening to close drawn from the Kaplan-Meier curve of the window's deals (open
  deals censored at as_of); a new deal opened at U(0, H) closes in time when opening + cycle <= H; a
  deal open today (age a) closes in the quarter with (S(a) - S(a + H)) / S(a), at the rep's win rate
  (a pace shift by its drawn cycle took the pipeline 24 % below the truth on a test world: old open
  deals are not simply slow ones);
- **win**: p_r ~ Beta(k p + wins_r, k (1 - p) + losses_r), shrunk toward the scope's rate p by
  k = ``win_prior_strength`` closed deals (a hire: the scope's posterior), its log-odds shifted by the
  window's drift in win odds projected to the quarter (:class:`WinDrift`) and by the deal's pace
  (:class:`PaceOdds`: the deals that close within a quarter are the fast ones, and fast deals win more);
- **value**: a won deal's value drawn from the rep's own won deals (from all won deals when the rep
  has fewer than ``min_value_samples``: bigger customers are better customers, so won deals are
  bigger than deals); an open deal keeps its own;
- **margin**: won value x gross margin of the line the rep sells in the plan (an open deal: the
  margin of the rep's past contract mix, in both plans);
- **renewals**: a contract whose ``renewal_term_days`` end in the quarter renews with its region's
  renewal chance (:mod:`renewal`, Beta posterior) at an amount ratio drawn from past renewals;
  churn = customers with a contract due and none renewed / customers with a contract due.

gross margin = new business + open deals closing + renewals; productivity = (new business + open
deals closing) margin per seller. The baseline and the scenario share every random number in a draw
(common random numbers), so the difference's interval holds only the scenario's own uncertainty.

Example::

    result = run_sandbox(catalog, settings, Scenario(move_share=0.2, from_line="order_hub",
                                                     to_line="insight_analytics"), as_of=date(2026, 12, 7))
    result["difference"]["gross_margin"]  # {"mean": ..., "low": ..., "high": ...}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from talktrack.core.catalog import Catalog
from talktrack.core.config import Settings
from talktrack.pipelines.management.renewal import RenewalHistory, fit_renewals
from talktrack.pipelines.management.sandbox_history import History, Scenario, load_history, resolve_plan

PACE_BUCKETS = 8  # at most; at least 40 closed deals per bucket
FIGURES = ("gross_margin", "churn", "productivity", "new_business_margin", "pipeline_margin", "renewal_margin")
LINEAGE: dict[str, tuple[str, ...]] = {
    "sandbox": ("reps.role", "reps.team_id", "deals.rep_id", "deals.created_at", "deals.closed_at", "deals.status",
                "deals.amount", "deals.currency", "contracts.amount", "contracts.currency", "contracts.product_line",
                "contracts.signed_at", "contracts.renewal_of", "product_lines.gross_margin", "teams.region"),
}


@dataclass(frozen=True)
class CycleCurve:
    """Kaplan-Meier curve of deal cycle days: ``times`` ascending, ``survival`` S(t) just after each."""

    times: np.ndarray
    survival: np.ndarray

    def survive(self, days: np.ndarray) -> np.ndarray:
        """S(days): the share of deals still open after ``days``."""
        index = np.searchsorted(self.times, days, side="right")
        return np.concatenate(([1.0], self.survival))[index]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Cycle days; inf for the mass the curve never closes (deals that outlast all history)."""
        u = rng.random(n)
        if not len(self.times):  # no deal of the window ever closed: none is expected to close in time
            return np.full(n, np.inf)
        index = np.searchsorted(-self.survival, -(1.0 - u), side="left")  # first t with S(t) <= 1 - u
        return np.where(index < len(self.times), self.times[np.minimum(index, len(self.times) - 1)], np.inf)


def kaplan_meier(durations: np.ndarray, closed: np.ndarray) -> CycleCurve:
    """The product-limit estimate over (duration, closed?) pairs; an open deal leaves the risk set."""
    order = np.lexsort((~closed, durations))
    durations, closed = durations[order], closed[order]
    times, survival, s, at_risk = [], [], 1.0, len(durations)
    for t in np.unique(durations[closed]):
        at_risk = int(np.sum(durations >= t))
        events = int(np.sum((durations == t) & closed))
        s *= 1.0 - events / at_risk
        times.append(t)
        survival.append(s)
    return CycleCurve(np.array(times, dtype=float), np.array(survival, dtype=float))


@dataclass(frozen=True)
class PaceOdds:
    """Win odds by how long a deal took, relative to all closed deals: fast deals win more (a stalled
    stage both slows a deal and lowers its chance), and only the fast ones close within a quarter.
    ``edges`` split closed deals' cycle days into equal-count buckets (up to PACE_BUCKETS, 40 deals or more
    each); ``log_odds[b]`` is bucket b's shift."""

    edges: np.ndarray
    log_odds: np.ndarray

    @classmethod
    def fit(cls, deals, history: History) -> PaceOdds:
        closed = [d for d in deals if d.closed_at is not None and d.status in ("won", "lost")]
        if len(closed) < 8:
            return cls(np.array([]), np.zeros(1))
        days = np.array([(d.closed_at - d.created_at).total_seconds() / 86400 for d in closed])
        won = np.array([d.status == "won" for d in closed])
        buckets = int(np.clip(len(closed) // 40, 2, PACE_BUCKETS))
        edges = np.quantile(days, np.arange(1, buckets) / buckets)
        bucket = np.searchsorted(edges, days, side="right")
        overall = _logit((won.sum() + 0.5) / (len(won) + 1))
        shifts = [_logit((won[bucket == b].sum() + 0.5) / ((bucket == b).sum() + 1)) - overall for b in range(buckets)]
        return cls(edges, np.array(shifts))

    def shift(self, cycle: np.ndarray) -> np.ndarray:
        if not len(self.edges):
            return np.zeros(len(cycle))
        return self.log_odds[np.searchsorted(self.edges, cycle, side="right")]

    def adjust(self, p: np.ndarray, cycle: np.ndarray) -> np.ndarray:
        return _shifted(p, self.shift(cycle))


@dataclass(frozen=True)
class WinDrift:
    """Win odds drift over time (reps learn, markets turn): logit p = a + slope x days, fitted on the
    window's closed deals by their opening day (Newton steps); the quarter's deals open about
    ``center_days`` + H/2 days after the closed deals' mean opening, and each draw takes its own slope
    ~ N(slope, se), so a trend the history cannot pin down widens the interval instead of biasing it."""

    slope: float
    se: float
    center_days: float

    @classmethod
    def fit(cls, deals, history: History, pace: PaceOdds) -> WinDrift:
        closed = [d for d in deals if d.closed_at is not None and d.status in ("won", "lost")]
        if len(closed) < 20:
            return cls(0.0, 0.0, 0.0)
        days = np.array([(d.created_at - history.end).total_seconds() / 86400 for d in closed])
        won = np.array([d.status == "won" for d in closed], dtype=float)
        cycle = np.array([(d.closed_at - d.created_at).total_seconds() / 86400 for d in closed])
        offset = pace.shift(cycle)  # late deals closed by now are fast ones: pace, not time, explains their wins
        x = np.column_stack([np.ones_like(days), days - days.mean()])
        beta = np.zeros(2)
        try:
            for _ in range(25):
                p = 1 / (1 + np.exp(-(x @ beta + offset)))
                hessian = x.T @ (x * (p * (1 - p))[:, None])
                beta += np.linalg.solve(hessian, x.T @ (won - p))
            p = 1 / (1 + np.exp(-(x @ beta + offset)))
            covariance = np.linalg.inv(x.T @ (x * (p * (1 - p))[:, None]))
        except np.linalg.LinAlgError:  # all won or all lost, or every deal opened the same day: no trend to fit
            return cls(0.0, 0.0, 0.0)
        slope, se = float(beta[1]), float(np.sqrt(covariance[1, 1]))
        if not (np.isfinite(slope) and np.isfinite(se)):
            return cls(0.0, 0.0, 0.0)
        return cls(slope, se, float(-days.mean()))

    def draws(self, rng: np.random.Generator, n: int, horizon: float) -> np.ndarray:
        """Log-odds shift of the quarter's deals against the history's average, per draw."""
        return rng.normal(self.slope, self.se, n) * (self.center_days + horizon / 2)


def _shifted(p: np.ndarray, shift: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(_logit(p) + shift)))


def _logit(p):
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def run_sandbox(catalog: Catalog, settings: Settings, scenario: Scenario, *, as_of: date,
                team: str | None = None, draws: int | None = None) -> dict:
    """Baseline, scenario and difference of next quarter's figures, each as mean and interval."""
    options = settings.management.sandbox
    history = load_history(catalog, settings.management.exchange_rates, as_of=as_of,
                           history_days=options.history_days, team=team)
    plan = resolve_plan(history, scenario)
    draws = draws or options.draws
    rng = np.random.default_rng(options.seed)
    base, scen = simulate(history, plan, settings, rng, draws)
    tail = (1 - options.interval) / 2
    names = {s.rep_id: s.name for s in history.sellers}
    return {
        "as_of": as_of.isoformat(), "quarter": [(as_of + timedelta(days=1)).isoformat(),
                                                (as_of + timedelta(days=options.horizon_days)).isoformat()],
        "team": team, "scenario": scenario.model_dump(mode="json"), "interval": options.interval, "draws": draws,
        "plan": {"moved": [{"rep_id": r, "name": names[r]} for r in plan["moved"]],
                 "removed": [{"rep_id": r, "name": names[r]} for r in plan["removed"]], "hires": plan["hires"],
                 "from_line_reps": plan["from_line_reps"],
                 "lines": {"baseline": plan["baseline"], "scenario": plan["scenario"]},
                 "sellers_per_line": {"baseline": _per_line(plan["baseline"], {}),
                                      "scenario": _per_line(plan["scenario"], plan["hires"])}},
        "baseline": {name: _summary(base[name], tail) for name in FIGURES},
        "scenario": {name: _summary(scen[name], tail) for name in FIGURES},
        "difference": {name: _summary(scen[name] - base[name], tail) for name in FIGURES},
        "fitted": {"window": [history.window_start.isoformat(), as_of.isoformat()], "sellers": len(history.sellers),
                   "deals": len(history.deals), "contracts": len(history.contracts), "margins": history.margins},
        "method": "Monte Carlo over fitted deal flow (Gamma-Poisson), Kaplan-Meier cycle times, shrunk Beta win "
                  "rates, empirical deal values, product-line margins and Beta renewal chances; common random "
                  "numbers for baseline and scenario; equal-tailed intervals",
    }


def _per_line(plan: dict[str, str], hires: dict[str, int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in plan.values():
        counts[line] = counts.get(line, 0) + 1
    for line, n in hires.items():
        counts[line] = counts.get(line, 0) + n
    return dict(sorted(counts.items()))


def _summary(values: np.ndarray, tail: float) -> dict:
    low, high = np.quantile(values, [tail, 1 - tail])
    return {"mean": float(values.mean()), "low": float(low), "high": float(high)}


def simulate(history: History, plan: dict, settings: Settings, rng: np.random.Generator,
             draws: int) -> tuple[dict, dict]:
    """Per figure, ``draws`` values for the baseline and the scenario (common random numbers)."""
    options = settings.management.sandbox
    horizon = float(options.horizon_days)
    fit = _Fit(history, options)
    margins = history.margins
    base_new = np.zeros(draws)
    scen_new = np.zeros(draws)
    rates = []
    drift = fit.drift.draws(rng, draws, horizon)
    for seller in history.sellers:
        rate = rng.gamma(fit.opened[seller.rep_id] + 0.5, 1.0 / fit.days, draws)
        p_win = _shifted(rng.beta(*fit.win_prior(seller.rep_id), draws), drift)
        rates.append(rate)
        won = _new_business(rng, rate, p_win, fit.values(seller.rep_id), fit.curve, fit.pace, horizon)
        base_new += won * margins[plan["baseline"][seller.rep_id]]
        if seller.rep_id in plan["scenario"]:
            scen_new += won * margins[plan["scenario"][seller.rep_id]]
    for line, count in plan["hires"].items():
        mean_rate = np.mean(rates, axis=0)
        for _ in range(count):
            p_win = _shifted(rng.beta(*fit.pooled_prior(), draws), drift)
            won = _new_business(rng, mean_rate, p_win, fit.all_values, fit.curve, fit.pace, horizon)
            scen_new += won * margins[line]
    pipeline = _pipeline(rng, history, fit, draws, horizon)
    renewal, churn = _renewals(rng, history, settings, draws)
    base_staff = len(plan["baseline"])
    scen_staff = len(plan["scenario"]) + sum(plan["hires"].values())
    base = {"new_business_margin": base_new, "pipeline_margin": pipeline, "renewal_margin": renewal, "churn": churn}
    scen = {"new_business_margin": scen_new, "pipeline_margin": pipeline, "renewal_margin": renewal, "churn": churn}
    for figures, staff in ((base, base_staff), (scen, scen_staff)):
        figures["gross_margin"] = figures["new_business_margin"] + pipeline + renewal
        figures["productivity"] = (figures["new_business_margin"] + pipeline) / max(staff, 1)
    return base, scen


class _Fit:
    """The sufficient statistics of the window: deals opened, won and lost per rep, won values, the cycle curve."""

    def __init__(self, history: History, options) -> None:
        start = history.window_start
        window = [d for d in history.deals if d.created_at.date() >= start]
        self.days = float((history.as_of - start).days + 1)
        self.opened = {s.rep_id: 0 for s in history.sellers}
        self.won = dict.fromkeys(self.opened, 0)
        self.lost = dict.fromkeys(self.opened, 0)
        self._values: dict[str, list[float]] = {rep: [] for rep in self.opened}
        for deal in window:
            self.opened[deal.rep_id] += 1
        for deal in history.deals:
            if deal.closed_at is not None and deal.closed_at.date() >= start and deal.status in ("won", "lost"):
                (self.won if deal.status == "won" else self.lost)[deal.rep_id] += 1
                if deal.status == "won":
                    self._values[deal.rep_id].append(deal.value)
        self.all_values = np.array([v for values in self._values.values() for v in values] or [0.0])
        self.min_values = options.min_value_samples
        self.strength = options.win_prior_strength
        wins, losses = sum(self.won.values()), sum(self.lost.values())
        self.p = (wins + 0.5) / (wins + losses + 1.0)
        self.curve = kaplan_meier(*_cycles(window, history))
        self.pace = PaceOdds.fit(window, history)
        self.drift = WinDrift.fit(window, history, self.pace)

    def win_prior(self, rep: str) -> tuple[float, float]:
        return (self.strength * self.p + self.won[rep] + 0.5 * (self.strength == 0),
                self.strength * (1 - self.p) + self.lost[rep] + 0.5 * (self.strength == 0))

    def pooled_prior(self) -> tuple[float, float]:
        return sum(self.won.values()) + 0.5, sum(self.lost.values()) + 0.5

    def values(self, rep: str) -> np.ndarray:
        own = self._values[rep]
        return np.array(own) if len(own) >= self.min_values else self.all_values


def _cycles(deals, history: History) -> tuple[np.ndarray, np.ndarray]:
    """(days from opening to close or to the end of as_of, closed?) of each deal."""
    durations = np.array([((d.closed_at or history.end) - d.created_at).total_seconds() / 86400 for d in deals])
    closed = np.array([d.closed_at is not None for d in deals], dtype=bool)
    return durations, closed


def _new_business(rng: np.random.Generator, rate: np.ndarray, p_win: np.ndarray, values: np.ndarray,
                  curve: CycleCurve, pace: PaceOdds, horizon: float) -> np.ndarray:
    """Won value per draw of the deals opened and won within the quarter. shape: (draws,)"""
    counts = rng.poisson(rate * horizon)
    owner = np.repeat(np.arange(len(rate)), counts)
    n = len(owner)
    cycle = curve.sample(rng, n)
    in_time = rng.uniform(0.0, horizon, n) + cycle <= horizon
    won = rng.random(n) < pace.adjust(p_win[owner], cycle)
    # the mean of a few won deals is itself uncertain: each draw scales the values by a bootstrap-like
    # factor N(1, cv / sqrt(n)), so a rep's interval holds their true average deal, not only the sample's
    spread = values.std() / values.mean() / np.sqrt(len(values)) if len(values) > 1 and values.mean() > 0 else 0.0
    scale = np.maximum(rng.normal(1.0, spread, len(rate)), 0.0)
    value = values[rng.integers(len(values), size=n)] * scale[owner]
    return np.bincount(owner, weights=value * (won & in_time), minlength=len(rate))


def _pipeline(rng: np.random.Generator, history: History, fit: _Fit, draws: int, horizon: float) -> np.ndarray:
    """Margin of the deals open at as_of that close won within the quarter. shape: (draws,)"""
    line_margin = _mix_margins(history)
    total = np.zeros(draws)
    for deal in history.deals:
        if deal.closed_at is not None:
            continue
        age = (history.end - deal.created_at).total_seconds() / 86400
        alive = float(fit.curve.survive(np.array([age]))[0])
        p_close = 0.0 if alive <= 0 else (alive - float(fit.curve.survive(np.array([age + horizon]))[0])) / alive
        p_win = rng.beta(*fit.win_prior(deal.rep_id), draws)
        won = (rng.random(draws) < p_close) & (rng.random(draws) < p_win)
        total += won * deal.value * line_margin[deal.rep_id]
    return total


def _mix_margins(history: History) -> dict[str, float]:
    """Seller -> value-weighted gross margin of their contracts (all lines' mean when they have none)."""
    value: dict[str, float] = {s.rep_id: 0.0 for s in history.sellers}
    margin = dict(value)
    for c in history.contracts:
        value[c.rep_id] += c.value
        margin[c.rep_id] += c.value * history.margins[c.line]
    mean = float(np.mean(list(history.margins.values())))
    return {rep: margin[rep] / value[rep] if value[rep] else mean for rep in value}


def _renewals(rng: np.random.Generator, history: History, settings: Settings, draws: int) -> tuple[np.ndarray, np.ndarray]:
    """Renewal margin and churn per draw, from the contracts whose term ends in the quarter."""
    term = settings.management.ltv_cac.renewal_term_days
    horizon = settings.management.sandbox.horizon_days
    fits = fit_renewals([RenewalHistory(c.contract_id, c.region, c.signed_at, c.renewal_of) for c in history.contracts],
                        as_of=history.as_of, term_days=term, regions={c.region for c in history.contracts})
    p = {region: fit.draws(rng, draws) for region, fit in fits.items()}
    first = history.as_of + timedelta(days=1) - timedelta(days=term)
    due = [c for c in history.contracts if first <= c.signed_at < first + timedelta(days=horizon)]
    ratios = _renewal_ratios(history)
    margin = np.zeros(draws)
    renewed_any: dict[str, np.ndarray] = {}
    for contract in due:
        renewed = rng.random(draws) < p[contract.region]
        ratio = ratios[rng.integers(len(ratios), size=draws)]
        margin += renewed * contract.value * ratio * history.margins[contract.line]
        renewed_any[contract.customer_id] = renewed_any.get(contract.customer_id, np.zeros(draws, bool)) | renewed
    if not renewed_any:
        return margin, np.zeros(draws)
    lost = np.sum([~renewed for renewed in renewed_any.values()], axis=0)
    return margin, lost / len(renewed_any)


def _renewal_ratios(history: History) -> np.ndarray:
    """Renewal amount / renewed contract's amount, over the renewals whose original is in the catalog; the
    outer tenths are dropped (a renegotiated mega-renewal of 10x says little about the next one)."""
    by_id = {c.contract_id: c for c in history.contracts}
    ratios = np.array([c.value / by_id[c.renewal_of].value for c in history.contracts
                       if c.renewal_of in by_id and by_id[c.renewal_of].value > 0])
    if not len(ratios):
        return np.array([1.0])
    low, high = np.quantile(ratios, [0.1, 0.9])
    return ratios[(ratios >= low) & (ratios <= high)]
