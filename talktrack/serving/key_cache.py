"""API keys checked against the catalog once per ``serving.key_cache_ttl_s`` per process, not per request.

Why: every request named its key, and checking it cost a trip to the thread pool and a catalog
query (about 0.3 ms on an idle machine, several ms on a busy 2-core one, with the GIL held for
part of it) — a body-carrying request paid it twice, in the auth gate and in the route's
dependency. At 500 scoring requests a second that was most of a cached score's cost. A caller
found within the time-to-live is answered from memory, on the event loop.

The price: a key revoked in the catalog is still accepted, by a process that saw it shortly
before, for at most ``key_cache_ttl_s`` seconds (0 checks every request). Only valid keys are
kept: an unknown or revoked key is looked up every time, so a key created after a failed try
works at once, and random keys cannot fill the memory. Entries are keyed by the key's SHA-256,
so the plain key is not kept.

Example::

    keys = KeyCache(lambda key: authenticate(catalog, key), ttl_s=5.0)
    keys.peek(key)   # a Caller seen within 5 s, else None (no query)
    keys.get(key)    # peek, else the catalog's answer (remembered when valid)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from talktrack.serving.keys import Caller, authenticate, hash_key

CACHE_KEY = "auth.key_cache"


class KeyCache:
    """Valid callers by key digest, each trusted for ``ttl_s`` seconds after its lookup."""

    def __init__(self, lookup: Callable[[str], Caller | None], ttl_s: float, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.lookup, self.ttl_s, self.max_keys, self.clock = lookup, ttl_s, max_keys, clock
        self._found: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def peek(self, key: str) -> Caller | None:
        """The caller of ``key`` if it was looked up less than ``ttl_s`` ago, else None (no query)."""
        seen = self._found.get(hash_key(key))
        if seen is None or self.clock() - seen[0] >= self.ttl_s:
            return None
        return seen[1]

    def get(self, key: str) -> Caller | None:
        """The caller of ``key``: from memory when fresh, else looked up (a catalog query)."""
        caller = self.peek(key)
        if caller is not None:
            return caller
        caller = self.lookup(key)
        if caller is not None and self.ttl_s > 0:
            with self._lock:
                if len(self._found) >= self.max_keys:
                    self._found.clear()  # thousands of distinct live keys: start over rather than grow
                self._found[hash_key(key)] = (self.clock(), caller)
        return caller


def key_cache(svc) -> KeyCache:
    """The service's key cache (its catalog is read when a lookup runs, so it may open later)."""
    return svc.shared(CACHE_KEY, lambda: KeyCache(lambda key: authenticate(svc.catalog, key),
                                                  svc.settings.serving.key_cache_ttl_s))
