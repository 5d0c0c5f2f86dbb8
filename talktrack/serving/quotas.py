"""Per-key quotas: at most N requests of one kind of work per API key per minute.

Uploads (``POST /v1/calls``, an audio voice note) and drills (``POST /v1/drills``, turns) cost
seconds of CPU each, so one key cannot queue them without bound: past
``serving.quotas.<kind>_per_minute`` in the last 60 seconds (a sliding window) the answer is 429
with ``Retry-After`` (whole seconds until the oldest request leaves the window). A refused
request is not counted.

The windows live in the process (thread-safe): with ``talktrack serve --workers N`` each worker
process counts alone, so a key may make up to N times the quota before every worker refuses it.

Use as a dependency after the route's caller, so that only callers the role check let in count::

    def upload_call(caller: Uploader, _quota: UploadQuota, svc: ServiceDep, ...): ...

or charge by hand where only some requests of a route count (:func:`charge`).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Annotated, Literal

from fastapi import Depends, Request

from talktrack.serving.auth import current_caller
from talktrack.serving.errors import ApiError
from talktrack.serving.keys import Caller
from talktrack.serving.state import Service

Kind = Literal["uploads", "drills"]
WINDOW_S = 60.0


class SlidingWindow:
    """At most ``limit`` events per ``window_s`` seconds per key.

    >>> window = SlidingWindow(2, clock=iter([0.0, 1.0, 2.0, 61.0]).__next__)
    >>> [window.take("k") for _ in range(4)]
    [0.0, 0.0, 58.0, 0.0]
    """

    def __init__(self, limit: int, window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._events: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: Hashable) -> float:
        """Count one event of ``key``: 0.0 when allowed, else the seconds until it would be (not counted)."""
        now = self.clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                return events[0] + self.window_s - now
            events.append(now)
            return 0.0


def charge(svc: Service, caller: Caller, kind: Kind) -> None:
    """Count one request of ``kind`` for the caller's key; 429 with Retry-After past its quota."""
    limit = getattr(svc.settings.serving.quotas, f"{kind}_per_minute")
    window = svc.shared(f"quotas.{kind}", lambda: SlidingWindow(limit))
    wait = window.take(caller.key_id)
    if wait > 0:
        retry_after = max(1, math.ceil(wait))
        raise ApiError(429, f"this API key made {limit} {kind} requests in the last minute, its quota "
                            f"(serving.quotas.{kind}_per_minute); retry in {retry_after} s",
                       headers={"Retry-After": str(retry_after)})


def quota(kind: Kind):
    """A dependency charging ``kind`` to the request's caller (see :func:`charge`)."""

    def dependency(request: Request, caller: Annotated[Caller, Depends(current_caller)]) -> None:
        charge(request.app.state.service, caller, kind)

    return Depends(dependency)


UploadQuota = Annotated[None, quota("uploads")]
DrillQuota = Annotated[None, quota("drills")]
