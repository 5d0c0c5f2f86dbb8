"""The scoring cache: a deal's feature row, and its answers per model version, kept for a while.

Building one deal's features reads its stage events, calls and surveys (tens of ms); the
champion's predict on one row costs several more. Both are pure functions of the catalog and
the model version, so the service keeps them per deal under one freshness rule:

- an entry is used for at most ``serving.feature_cache_ttl_s`` seconds after it was built
  (an open deal's features are "as of now", so even an untouched deal ages);
- a route that changes a deal's data calls :func:`invalidate_deal_features` and the next score
  rebuilds it. A build that started before such an invalidation is not stored, so a slow
  request cannot put back what the invalidation removed;
- answers are keyed by model version: a promoted champion scores afresh from the same features.

With ``talktrack serve --workers N`` each process has its own cache; an invalidation reaches
the process that handled the change and the others within the time-to-live.

Example::

    cache = svc.shared("scoring.cache", lambda: DealFeatureCache(ttl_s=30, max_deals=100_000))
    fresh = cache.get_many(["D1", "D2"])     # deal id -> CacheEntry, only fresh ones
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

CACHE_KEY = "scoring.feature_cache"


@dataclass
class CacheEntry:
    """One deal's features (its own columns: the one-hot industries of other deals are absent)
    and its answers by model version."""

    features: dict[str, float]
    built_at: float
    answers: dict[str, dict] = field(default_factory=dict)


class DealFeatureCache:
    """Thread-safe, bounded (least recently built first out), time-limited per-deal entries."""

    def __init__(self, ttl_s: float, max_deals: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.max_deals, self.clock = ttl_s, max_deals, clock
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._invalidated_at: dict[str, int] = {}
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def generation(self) -> int:
        """A stamp to take before building features; :meth:`put_table` refuses what was invalidated since."""
        with self._lock:
            return self._generation

    def get_many(self, deal_ids: Iterable[str]) -> dict[str, CacheEntry]:
        """The fresh entries among ``deal_ids`` (expired ones are dropped)."""
        if not self.enabled:
            return {}
        now, found = self.clock(), {}
        with self._lock:
            for deal_id in deal_ids:
                entry = self._entries.get(deal_id)
                if entry is None:
                    continue
                if now - entry.built_at > self.ttl_s:
                    del self._entries[deal_id]
                else:
                    found[deal_id] = entry
        return found

    def put_table(self, features: pd.DataFrame, built_from: int) -> dict[str, CacheEntry]:
        """Entries for each row of ``features`` (index: deal id); stored unless the deal was
        invalidated after generation ``built_from``. Returns every entry, stored or not."""
        now = self.clock()
        rows = features.to_dict(orient="index")  # one call: a row per deal, fast for 10k deals
        made = {deal_id: CacheEntry(row, now) for deal_id, row in rows.items()}
        if not self.enabled:
            return made
        with self._lock:
            for deal_id, entry in made.items():
                if self._invalidated_at.get(deal_id, -1) > built_from:  # changed while it was built
                    continue
                self._entries[deal_id] = entry
                self._entries.move_to_end(deal_id)
            while len(self._entries) > self.max_deals:
                self._entries.popitem(last=False)
        return made

    def invalidate(self, deal_ids: Iterable[str]) -> None:
        with self._lock:
            self._generation += 1
            for deal_id in deal_ids:
                self._entries.pop(deal_id, None)
                self._invalidated_at[deal_id] = self._generation

    def __len__(self) -> int:
        return len(self._entries)


def feature_cache(svc) -> DealFeatureCache:
    """The service's cache, sized and timed by ``settings.serving``."""
    serving = svc.settings.serving
    return svc.shared(
        CACHE_KEY, lambda: DealFeatureCache(serving.feature_cache_ttl_s, serving.feature_cache_max_deals)
    )


def invalidate_deal_features(svc, deal_ids: Iterable[str]) -> None:
    """Drop the cached features and scores of these deals (external ids): call it after writing
    a deal's stage events, calls, evidence or CRM fields, so its next score reads the change."""
    feature_cache(svc).invalidate(list(deal_ids))
