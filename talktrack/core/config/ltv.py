"""New-customer LTV/CAC (``management.ltv_cac``): what a rep's hour costs, how long a visit and a
day in a stage take of it, and how the renewal model is fitted and read.

The world generator plants its LTV/CAC truth under these embedded defaults, so a changed default
changes both sides alike; a deployment sets its own cost rate in its YAML.
"""

from __future__ import annotations

from pydantic import Field

from talktrack.core.config.base import Strict


class LtvCacSettings(Strict):
    """Acquisition cost = marketing spend of the leads + sales time × ``sales_hour_cost``;
    lifetime value = contract value × gross margin × expected contracts over ``horizon_terms`` terms."""

    window_months: int = Field(12, ge=1, le=60, description="leads created in these months (to as_of) count")
    sales_hour_cost: float = Field(400.0, ge=0, description="reporting currency per hour of a rep's time")
    visit_hours: float = Field(3.0, ge=0, description="a customer visit, travel included")
    stage_day_hours: float = Field(0.5, ge=0, description="follow-up and admin per day a deal is open")
    renewal_term_days: int = Field(365, ge=1, description="a contract enters the renewal model once this has passed")
    horizon_terms: int = Field(5, ge=1, le=50, description="contract terms a customer's lifetime is counted over")
    interval: float = Field(0.9, gt=0, lt=1, description="width of the LTV/CAC interval (renewal uncertainty)")
    draws: int = Field(2000, ge=100, le=100_000, description="posterior draws behind the interval")
    seed: int = Field(0, ge=0, description="seed of the draws, so a report is reproducible")
