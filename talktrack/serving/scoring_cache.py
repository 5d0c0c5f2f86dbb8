"""The scoring cache: a deal's feature row, and its answers per model version, kept for a while.

Building one deal's features reads its stage events, its calls' precomputed rows and its rep's
latest survey month (:mod:`talktrack.models.features.deal_rows`: about 1 ms on an idle machine,
tens of ms on a saturated one), and the champion scores it on a numpy vector. Both are pure functions of the catalog and the model version, so the service keeps them per
deal, and a request should find them ready:

- an entry is *fresh* for ``serving.feature_cache_ttl_s`` seconds after it was built (an open
  deal's features are "as of now", so even an untouched deal ages). A *stale* entry (up to
  ``serving.feature_cache_max_stale_s``) still answers, and the deal is handed to the
  :class:`Refresher`, a background thread that rebuilds stale deals in batches — so under load
  no request pays for a rebuild (stale-while-revalidate);
- a route that changes a deal's data calls :func:`invalidate_deal_features`: the entry is gone
  and the next score rebuilds it at once. A build that started before such an invalidation is
  not stored, so a slow build cannot put back what the invalidation removed;
- answers are keyed by model version: a promoted champion scores afresh from the same features;
- at start the refresher builds every open deal (``serving.feature_cache_warm_open_deals``).

With ``talktrack serve --workers N`` each process has its own cache; an invalidation reaches
the process that handled the change and the others within the time-to-live.

Example::

    cache = DealFeatureCache(ttl_s=30, max_deals=100_000, max_stale_s=600)
    usable, stale = cache.get_many(["D1", "D2"])   # deal id -> CacheEntry; ids to rebuild
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

from talktrack.serving.heap import settle_heap

CACHE_KEY = "scoring.feature_cache"
logger = logging.getLogger(__name__)


@dataclass
class CacheEntry:
    """One deal's features (its own columns: the one-hot industries of other deals are absent)
    and its answers by model version."""

    features: dict[str, float]
    built_at: float
    answers: dict[str, dict] = field(default_factory=dict)
    team: str | None = None  # the deal's team when built (a manager key's scope check needs no query)


class DealFeatureCache:
    """Thread-safe, bounded (least recently built first out), time-limited per-deal entries."""

    def __init__(self, ttl_s: float, max_deals: int, clock: Callable[[], float] = time.monotonic,
                 max_stale_s: float = 0.0) -> None:
        self.ttl_s, self.max_deals, self.clock = ttl_s, max_deals, clock
        self.max_stale_s = max(max_stale_s, ttl_s)
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

    def get_many(self, deal_ids: Iterable[str]) -> tuple[dict[str, CacheEntry], list[str]]:
        """The usable entries among ``deal_ids`` (fresh or stale), and the ids of the stale ones
        (to rebuild in the background). Entries past ``max_stale_s`` are dropped."""
        if not self.enabled:
            return {}, []
        now, found, stale = self.clock(), {}, []
        with self._lock:
            for deal_id in deal_ids:
                entry = self._entries.get(deal_id)
                if entry is None:
                    continue
                age = now - entry.built_at
                if age > self.max_stale_s:
                    del self._entries[deal_id]
                    continue
                found[deal_id] = entry
                if age > self.ttl_s:
                    stale.append(deal_id)
        return found, stale

    def put_table(self, features: pd.DataFrame, built_from: int,
                  teams: dict[str, str | None] | None = None) -> dict[str, CacheEntry]:
        """Entries for each row of ``features`` (index: deal id); stored unless the deal was
        invalidated after generation ``built_from``. Returns every entry, stored or not."""
        return self.store(self.entries_of(features.to_dict(orient="index"), teams), built_from)

    def entries_of(self, rows: dict[str, dict[str, float]],
                   teams: dict[str, str | None] | None = None) -> dict[str, CacheEntry]:
        """New entries (not stored yet) for each deal's feature row, built now, with each deal's team."""
        now, teams = self.clock(), teams or {}
        return {deal_id: CacheEntry(row, now, team=teams.get(deal_id)) for deal_id, row in rows.items()}

    def store(self, made: dict[str, CacheEntry], built_from: int) -> dict[str, CacheEntry]:
        """Put ``made`` in the cache (replacing older entries) unless a deal was invalidated after
        generation ``built_from``; returns ``made``."""
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


class Refresher:
    """A daemon thread that rebuilds the deals it is handed, in small batches, with ``rebuild(deal_ids)``.

    Asking twice for the same deal before it is rebuilt queues it once; a failing batch is
    logged and dropped (the deal stays stale, and is asked for again by its next request).
    """

    def __init__(self, rebuild: Callable[[list[str]], None], batch_size: int = 200, pause_s: float = 0.05) -> None:
        self.rebuild, self.batch_size, self.pause_s = rebuild, batch_size, pause_s
        self._pending: dict[str, None] = {}  # insertion-ordered set
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="talktrack-score-refresher", daemon=True)
        self.batches = 0

    def start(self) -> Refresher:
        self._thread.start()
        return self

    def stop(self, wait_s: float = 10.0) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=wait_s)

    def request(self, deal_ids: Iterable[str]) -> None:
        with self._wake:
            before = len(self._pending)
            self._pending.update(dict.fromkeys(deal_ids))
            if len(self._pending) > before:
                self._wake.notify()

    def pending(self) -> int:
        with self._wake:
            return len(self._pending)

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._stopped:
                    self._wake.wait()
                if self._stopped:
                    return
                batch = list(self._pending)[: self.batch_size]
                for deal_id in batch:
                    del self._pending[deal_id]
            try:
                self.rebuild(batch)
                self.batches += 1
            except Exception:  # noqa: BLE001 - a background refresh must never kill the thread
                logger.exception("rebuilding the scoring features of %d deals failed", len(batch))
            # batches with a pause between them: the rebuild holds the GIL while it runs, and
            # requests waiting behind a long run of batches would see all of it as latency
            time.sleep(self.pause_s)
            if self.pending() == 0:
                settle_heap()  # the rebuilt entries live on: see serving.heap


class RowKeeper:
    """A daemon thread that runs ``work`` at start and then every ``interval_s`` seconds: the
    service's keeper of the precomputed call feature rows
    (:func:`talktrack.models.features.call_rows.refresh_call_rows`), so rows that a CLI run,
    an import or an upload made stale are rebuilt before a score needs them. ``after_first``
    runs once the first pass is done (the cache's warm-up, which then reads ready rows)."""

    def __init__(self, work: Callable[[], int], interval_s: float, after_first: Callable[[], None] | None = None):
        self.work, self.interval_s, self.after_first = work, interval_s, after_first
        self.passes, self.rows_built = 0, 0
        self.first_pass_done = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="talktrack-call-rows", daemon=True)

    def start(self) -> RowKeeper:
        self._thread.start()
        return self

    def stop(self, wait_s: float = 10.0) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=wait_s)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            try:
                self.rows_built += self.work()
            except Exception:  # noqa: BLE001 - rows missing meanwhile are built on the read path
                logger.exception("refreshing the call feature rows failed")
            self.passes += 1
            if not self.first_pass_done.is_set():
                self.first_pass_done.set()
                if self.after_first is not None:
                    self.after_first()
            self._stopped.wait(self.interval_s)


def feature_cache(svc) -> DealFeatureCache:
    """The service's cache, sized and timed by ``settings.serving``."""
    serving = svc.settings.serving
    return svc.shared(
        CACHE_KEY,
        lambda: DealFeatureCache(
            serving.feature_cache_ttl_s, serving.feature_cache_max_deals, max_stale_s=serving.feature_cache_max_stale_s
        ),
    )


def invalidate_deal_features(svc, deal_ids: Iterable[str]) -> None:
    """Drop the cached features and scores of these deals (external ids): call it after writing
    a deal's stage events, calls, evidence or CRM fields, so its next score reads the change."""
    feature_cache(svc).invalidate(list(deal_ids))
