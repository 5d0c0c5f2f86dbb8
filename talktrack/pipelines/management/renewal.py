"""The renewal model behind lifetime value: per region, the chance that a contract is renewed, fitted
on the contracts whose term has ended, with its uncertainty.

A contract signed at least ``renewal_term_days`` before ``as_of`` has had its chance to renew; it
counts as renewed when a later contract names it in ``renewal_of``. Per region (of the rep's team) the
chance ``p`` gets a Beta(renewed + ½, not renewed + ½) posterior (Jeffreys prior: no region's history
is pulled toward another's, since regions really do differ); a region without ended terms uses the
posterior of all regions pooled, and says so. A customer's expected number of contracts over ``H``
terms is ``1 + p + … + p^(H-1)``, so an interval on ``p`` is an interval on lifetime value.

Example::

    model = fit_renewals(contracts, as_of=date(2026, 12, 7), term_days=365)
    model["North America"].p, expected_contracts(model["North America"].p, horizon=5)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

POOLED = "(all regions)"


@dataclass(frozen=True)
class RenewalHistory:
    """One contract as the renewal model sees it."""

    contract_id: str
    region: str
    signed_at: date
    renewal_of: str


@dataclass(frozen=True)
class RenewalFit:
    region: str
    contracts: int  # ended terms
    renewed: int
    pooled: bool  # no ended term in the region: the pooled posterior stands in

    @property
    def alpha(self) -> float:
        return self.renewed + 0.5

    @property
    def beta(self) -> float:
        return self.contracts - self.renewed + 0.5

    @property
    def p(self) -> float:
        """Posterior mean of the renewal chance."""
        return self.alpha / (self.alpha + self.beta)

    def draws(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.beta(self.alpha, self.beta, size=n)


def fit_renewals(history: list[RenewalHistory], *, as_of: date, term_days: int,
                 regions: set[str] = frozenset()) -> dict[str, RenewalFit]:
    """Region -> fit, for every region with ended terms and every one in ``regions`` (pooled if none)."""
    renewed_ids = {c.renewal_of for c in history if c.renewal_of and c.signed_at <= as_of}
    cutoff = as_of - timedelta(days=term_days)
    ended = [c for c in history if c.signed_at <= cutoff]
    counts: dict[str, list[int]] = {}
    for contract in ended:
        cell = counts.setdefault(contract.region, [0, 0])
        cell[0] += 1
        cell[1] += contract.contract_id in renewed_ids
    pooled = RenewalFit(POOLED, len(ended), sum(c[1] for c in counts.values()), pooled=True)
    fits = {region: RenewalFit(region, n, r, pooled=False) for region, (n, r) in counts.items()}
    fits |= {region: RenewalFit(region, pooled.contracts, pooled.renewed, pooled=True)
             for region in regions if region not in fits}
    return dict(sorted(fits.items())) | {POOLED: pooled}


def expected_contracts(p: float | np.ndarray, horizon: int) -> float | np.ndarray:
    """1 + p + p² + … + p^(horizon-1): the contracts a customer signs over ``horizon`` terms."""
    return sum(np.power(p, k) for k in range(horizon))


def fit_rows(fits: dict[str, RenewalFit], interval: float) -> list[dict]:
    """The fits as JSON rows, each with its equal-tailed posterior interval of ``p``."""
    from scipy.stats import beta

    tail = (1 - interval) / 2
    return [{"region": f.region, "contracts": f.contracts, "renewed": f.renewed, "pooled": f.pooled,
             "p": f.p, "p_low": float(beta.ppf(tail, f.alpha, f.beta)),
             "p_high": float(beta.ppf(1 - tail, f.alpha, f.beta))} for f in fits.values()]
