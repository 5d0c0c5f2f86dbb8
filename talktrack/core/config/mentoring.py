"""Mentoring points (``management.mentoring``): who may mentor, what a session must hold, what it earns,
and where the monthly HR export goes.

A senior rep replays a recorded call with a mentee and annotates its key points; the mentee's manager
confirms the session (or rejects it with a note) and only a confirmed session earns points. The rules
are settings, not code, because HR and sales operations change them (a cap per month, the points) far
more often than releases happen.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from talktrack.core.config.base import Strict


class SeniorRule(Strict):
    """Who counts as senior: a person of one of ``roles`` hired at least ``min_tenure_months`` ago (on the
    day the session is created). A rep without a hiring date is not senior: tenure must be shown, not assumed."""

    min_tenure_months: int = Field(24, ge=0, le=600)
    roles: tuple[str, ...] = Field(("rep",), min_length=1,
                                   description="CRM roles that may mentor (a manager's coaching is their job already)")


class WebhookSettings(Strict):
    """Where the HR export is POSTed, and how hard to try: ``attempts`` tries with waits of ``backoff_s``,
    doubling, at most ``max_backoff_s`` apart. An unset ``url`` means CSV only."""

    url: str | None = Field(None, pattern=r"^https?://\S+$")
    attempts: int = Field(4, ge=1, le=20)
    backoff_s: float = Field(1.0, ge=0, le=600)
    max_backoff_s: float = Field(30.0, ge=0, le=3600)
    timeout_s: float = Field(10.0, gt=0, le=300)


class MentoringSettings(Strict):
    points_per_session: int = Field(10, ge=1, le=10_000)
    monthly_cap: int = Field(40, ge=1, le=1_000_000, description="points a mentor may earn per calendar month")
    min_annotations: int = Field(3, ge=1, le=200, description="key points a session needs before it is submitted")
    call_of_mentor_team: bool = Field(True, description="the replayed call must be of a rep of the mentor's team")
    max_note_chars: int = Field(2000, ge=20, le=20_000)
    senior: SeniorRule = SeniorRule()
    webhook: WebhookSettings = WebhookSettings()

    @model_validator(mode="after")
    def _cap_fits_a_session(self) -> MentoringSettings:
        if self.monthly_cap < self.points_per_session:
            raise ValueError(f"monthly_cap ({self.monthly_cap}) is below points_per_session "
                             f"({self.points_per_session}): no session could ever earn its points")
        if self.webhook.max_backoff_s < self.webhook.backoff_s:
            raise ValueError(f"webhook.max_backoff_s ({self.webhook.max_backoff_s}) is below webhook.backoff_s "
                             f"({self.webhook.backoff_s})")
        return self
