"""Anomaly-breaker rules (``management.anomalies``): data, not code, so a director can add a rule
("calls +50 % while new leads fall") in YAML without a release.

A rule compares one team's (or region's) metrics in a complete month with the month before; it fires
when *every* condition holds. A condition bounds a metric's month-over-month change (``min_change``:
at least this rise, e.g. 0.40 = +40 %; ``max_change``: at most this, e.g. -0.15 = a fall of 15 % or
more) and/or its value this month (``min_value``/``max_value``); a change needs the month before to
hold at least ``min_previous`` (a change from 0 or 1 says nothing).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from talktrack.core.config.base import Strict
from talktrack.core.config.domain import STAGE_KEYS

# The metrics a rule may name; their definitions are in talktrack/pipelines/management/anomalies.py.
ANOMALY_METRICS = ("visits", "visits_by_hand", "confirmed_needs", "calls", "new_leads", "invalid_leads",
                   "deals_created")


class AnomalyCondition(Strict):
    metric: str
    min_change: float | None = Field(None, ge=-1, description="fires only if the MoM change is at least this")
    max_change: float | None = Field(None, ge=-1, description="fires only if the MoM change is at most this")
    min_value: float | None = Field(None, ge=0)
    max_value: float | None = Field(None, ge=0)
    min_previous: int = Field(1, ge=1, description="the month before must hold at least this for a change")

    @model_validator(mode="after")
    def _bounded(self) -> AnomalyCondition:
        if self.metric not in ANOMALY_METRICS:
            raise ValueError(f"metric {self.metric!r} is not among: {', '.join(ANOMALY_METRICS)}")
        if all(v is None for v in (self.min_change, self.max_change, self.min_value, self.max_value)):
            raise ValueError(f"condition on {self.metric!r} bounds nothing: give min_change, max_change, "
                             "min_value or max_value")
        for low, high in ((self.min_change, self.max_change), (self.min_value, self.max_value)):
            if low is not None and high is not None and low > high:
                raise ValueError(f"condition on {self.metric!r}: a lower bound {low} above the upper {high}")
        return self


class AnomalyRule(Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    name_en: str = ""
    name_zh: str = ""
    scope: Literal["team", "region"] = "team"
    when: tuple[AnomalyCondition, ...] = Field(min_length=1)


class AnomalySettings(Strict):
    confirmed_needs_stage: str = Field("needs_diagnosis", min_length=1,
                                       description="a deal entering this stage counts as a confirmed need")
    freeze: str = Field("travel_reimbursement", min_length=1, description="what a fired rule freezes next month")
    rules: tuple[AnomalyRule, ...] = (
        AnomalyRule(key="visit_padding", name_en="Visits up while confirmed needs fall",
                    name_zh="拜访量大增而确认需求下降", scope="team",
                    when=(AnomalyCondition(metric="visits", min_change=0.40, min_previous=3),
                          AnomalyCondition(metric="confirmed_needs", max_change=-0.15))),
    )

    @model_validator(mode="after")
    def _unique_keys(self) -> AnomalySettings:
        if self.confirmed_needs_stage not in STAGE_KEYS:
            raise ValueError(f"confirmed_needs_stage {self.confirmed_needs_stage!r} is not a stage: "
                             f"{', '.join(STAGE_KEYS)}")
        keys = [rule.key for rule in self.rules]
        duplicated = sorted({k for k in keys if keys.count(k) > 1})
        if duplicated:
            raise ValueError(f"anomaly rule keys must be unique: {', '.join(duplicated)}")
        return self
