"""Keep what the service holds for long out of Python's full garbage-collection passes.

The service keeps large, long-lived heaps: loaded models (and the libraries they import on
first use) and the scoring cache. Every so often the cyclic collector walks all of it in a
full pass; measured under 200 requests/s, each pass stalled every request for 0.2-0.3 s and
put the scoring p99 at 35-200 ms. After such a heap has grown (start-up, a model loaded, the
cache warmed) :func:`settle_heap` collects once and moves the survivors to the collector's
permanent generation (``gc.freeze``), so later passes only walk what requests allocate.
Frozen objects are still freed by reference counting when dropped (a replaced cache entry);
only cyclic garbage among them would wait, and it was collected just before freezing.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()


def settle_heap() -> None:
    """One full collection, then freeze what is left (cheap to call again: one pass each time)."""
    with _lock:
        gc.collect()
        gc.freeze()
