"""Which deal a message belongs to, and the stage that deal was in when it was sent.

A customer may have several deals, one after another or side by side. A message goes to the deal of its
customer that was open at that moment (created, not yet closed), preferring the deal whose owner is the
rep in the conversation, then the one whose title the message names (an e-mail subject often does);
failing that, the deal whose open period is nearest in time. Two deals still tied (one customer, one rep,
both open) make the choice ambiguous: it goes to the most recent and the import report counts it. The stage is the
last stage the deal entered at or before the message (its first stage for a message sent before it).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from talktrack.core.catalog.schema import Deal, StageEvent


@dataclass(frozen=True)
class DealSpan:
    id: int
    rep_id: int
    created_at: datetime
    closed_at: datetime | None
    stage: str
    title: str | None
    events: tuple[tuple[datetime, str], ...]  # (entered_at, stage), in time order

    def distance_s(self, at: datetime) -> float:
        """0 inside the deal's open period, else seconds to its nearer end."""
        if at < self.created_at:
            return (self.created_at - at).total_seconds()
        if self.closed_at is not None and at > self.closed_at:
            return (at - self.closed_at).total_seconds()
        return 0.0

    def rank(self, at: datetime, rep_id: int | None) -> tuple[bool, bool]:
        """Lower is likelier: open at that moment first, then owned by the rep in the conversation."""
        return self.distance_s(at) > 0, self.rep_id != rep_id

    def stage_at(self, at: datetime) -> str:
        if not self.events:
            return self.stage
        index = bisect_right([entered for entered, _ in self.events], at)
        return self.events[max(index - 1, 0)][1]


class DealFinder:
    """Deals of each customer with their stage history, read once per import."""

    def __init__(self, session: Session) -> None:
        events: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
        for deal_id, entered_at, stage in session.execute(
            select(StageEvent.deal_id, StageEvent.entered_at, StageEvent.stage).order_by(StageEvent.entered_at)
        ):
            events[deal_id].append((entered_at, stage))
        self.by_customer: dict[int, list[DealSpan]] = defaultdict(list)
        for deal in session.scalars(select(Deal)):
            span = DealSpan(deal.id, deal.rep_id, deal.created_at, deal.closed_at, deal.stage, deal.title,
                            tuple(events.get(deal.id, ())))
            self.by_customer[deal.customer_id].append(span)

    def find(self, customer_id: int | None, rep_id: int | None, at: datetime,
             text: str = "") -> tuple[DealSpan | None, bool]:
        """(the deal, whether another deal was as likely); a deal whose title the text names wins a tie."""
        candidates = self.by_customer.get(customer_id, []) if customer_id is not None else []
        if not candidates:
            return None, False
        best = min(span.rank(at, rep_id) for span in candidates)
        tied = [span for span in candidates if span.rank(at, rep_id) == best]
        named = [span for span in tied if span.title and span.title in text]
        pool = named or tied
        chosen = min(pool, key=lambda span: (span.distance_s(at), -span.created_at.timestamp()))
        return chosen, len(named) != 1 and len(tied) > 1
