"""The decision sandbox (``management.sandbox``): how far ahead it simulates, how much history it fits
on, how many Monte Carlo draws it takes and how wide its intervals are."""

from __future__ import annotations

from pydantic import Field

from talktrack.core.config.base import Strict


class SandboxSettings(Strict):
    """Structure (horizon, history) and the knobs of the Monte Carlo; the world's forward truth uses the
    same horizon, so a changed default changes both sides alike."""

    horizon_days: int = Field(90, ge=7, le=366, description="the 'next quarter' simulated: days after as_of")
    history_days: int = Field(365, ge=30, le=1830, description="deals and contracts of these days are fitted on")
    draws: int = Field(2000, ge=50, le=100_000, description="Monte Carlo draws (parameters and outcomes)")
    interval: float = Field(0.9, gt=0, lt=1, description="width of the equal-tailed intervals")
    win_prior_strength: float = Field(2.0, ge=0, description="closed deals' worth of the team-wide win rate "
                                      "each rep's win rate is shrunk toward")
    min_value_samples: int = Field(5, ge=1, description="a rep with fewer won deals draws won values from all")
    seed: int = Field(0, ge=0, description="seed of the draws, so an answer is reproducible")
