"""What the CRM says about a deal apart from its calls: the customer's signals, whether the
rep works in the customer's language, and whether a stage ran past its threshold.

Mining compares deals that used an answer with deals that did not; these columns keep a
good customer or a stalled pipeline from being credited to (or blamed on) an answer.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime

import numpy as np
from sqlalchemy import select

from talktrack.core.catalog.schema import Customer, Deal, Rep, StageEvent


def deal_context(session, thresholds_days: dict[str, float]) -> dict[int, dict[str, float]]:
    """deal primary key -> named numeric context (raw, not yet standardised)."""
    rows = session.execute(
        select(Deal.id, Deal.closed_at, Customer.employees, Customer.open_positions, Customer.purchase_frequency,
               Customer.sentiment, Customer.industry, Customer.language, Rep.language)
        .join(Customer, Deal.customer_id == Customer.id).join(Rep, Deal.rep_id == Rep.id)
    ).all()
    events: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for deal_id, stage, entered in session.execute(select(StageEvent.deal_id, StageEvent.stage, StageEvent.entered_at)):
        events[deal_id].append((entered, stage))
    context = {}
    for deal_id, closed_at, employees, positions, frequency, sentiment, industry, customer_lang, rep_lang in rows:
        context[deal_id] = {
            "log_employees": math.log(employees) if employees else float("nan"),
            "log1p_open_positions": math.log1p(positions) if positions is not None else float("nan"),
            "purchase_frequency": float(frequency) if frequency is not None else float("nan"),
            "sentiment": float(sentiment) if sentiment is not None else float("nan"),
            f"industry={industry or 'unknown'}": 1.0,
            "language_match": float(customer_lang == rep_lang),
            "stalled": float(_stalled(sorted(events.get(deal_id, [])), closed_at, thresholds_days)),
        }
    return context


def _stalled(events: list[tuple[datetime, str]], closed_at: datetime | None, thresholds: dict[str, float]) -> bool:
    for (entered, stage), following in zip(events, events[1:] + [(closed_at, None)], strict=True):
        left = following[0]
        if left is not None and stage in thresholds and (left - entered).total_seconds() > thresholds[stage] * 86400:
            return True
    return False


def context_matrix(contexts: list[dict[str, float]]) -> np.ndarray:
    """(deals, features): standardised, missing values at the mean, industries as 0/1 columns
    (one dropped as the reference); constant columns left out."""
    names = sorted({name for c in contexts for name in c})
    industries = [n for n in names if n.startswith("industry=")]
    names = [n for n in names if n != (industries[0] if industries else None)]
    matrix = np.array([[c.get(n, 0.0 if n.startswith("industry=") else float("nan")) for n in names]
                       for c in contexts], dtype=float).reshape(len(contexts), len(names))
    columns = []
    for j in range(matrix.shape[1]):
        column = matrix[:, j]
        mean = np.nanmean(column) if np.isfinite(column).any() else 0.0
        column = np.where(np.isfinite(column), column, mean)
        sd = column.std()
        if sd > 1e-9:
            columns.append((column - column.mean()) / sd)
    return np.column_stack(columns) if columns else np.zeros((len(contexts), 0))
