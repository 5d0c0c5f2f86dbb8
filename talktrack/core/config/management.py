"""Management metrics: which contracts count as healthy, how revenue is brought to one currency,
and the limits over which revenue concentration is flagged.

The world generator reads the same embedded defaults to plant its truth, so a changed default
changes both sides alike; a deployment overrides them in its own YAML.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from talktrack.core.config.anomalies import AnomalySettings
from talktrack.core.config.base import Strict
from talktrack.core.config.brief import BriefSettings
from talktrack.core.config.ltv import LtvCacSettings
from talktrack.core.config.mentoring import MentoringSettings
from talktrack.core.config.sandbox import SandboxSettings

CONTRACT_TYPES = ("standard", "non_standard")


class HealthyContractSettings(Strict):
    """A contract counts in healthy contract value only when every condition holds."""

    max_payment_terms_days: int = Field(90, ge=0)
    max_discount_pct: float = Field(15.0, ge=0, le=100)
    contract_types: tuple[str, ...] = Field(("standard",), min_length=1)

    @model_validator(mode="after")
    def _known_types(self) -> HealthyContractSettings:
        unknown = sorted(set(self.contract_types) - set(CONTRACT_TYPES))
        if unknown:
            raise ValueError(f"contract_types {unknown} are not among: {', '.join(CONTRACT_TYPES)}")
        return self


class ConcentrationSettings(Strict):
    """Limits over which a region's (or team's) trailing-year revenue is flagged."""

    top_customers: int = Field(3, ge=1, description="N in 'share of revenue from the top N customers'")
    max_top_share: float = Field(0.5, gt=0, le=1)
    max_renewal_share: float = Field(0.7, gt=0, le=1)
    max_new_business_drop: float = Field(0.2, gt=0, le=1, description="flag when new business fell more, YoY")


class ManagementSettings(Strict):
    reporting_currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    exchange_rates: dict[str, float] = Field(
        default_factory=lambda: {"CNY": 1.0, "USD": 7.0},
        description="units of the reporting currency per unit of each currency",
    )
    healthy_contract: HealthyContractSettings = HealthyContractSettings()
    concentration: ConcentrationSettings = ConcentrationSettings()
    anomalies: AnomalySettings = AnomalySettings()
    brief: BriefSettings = BriefSettings()
    ltv_cac: LtvCacSettings = LtvCacSettings()
    mentoring: MentoringSettings = MentoringSettings()
    sandbox: SandboxSettings = SandboxSettings()

    @model_validator(mode="after")
    def _reporting_rate_is_one(self) -> ManagementSettings:
        if self.exchange_rates.get(self.reporting_currency) != 1.0:
            raise ValueError(f"exchange_rates must map the reporting currency {self.reporting_currency} to 1.0")
        if any(rate <= 0 for rate in self.exchange_rates.values()):
            raise ValueError("exchange_rates must be positive")
        return self
