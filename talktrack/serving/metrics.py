"""Prometheus metrics of one app: request counts and latency by route template and status, and
the scoring cache's hits and misses.

One process (the default, and tests): each app gets its own ``CollectorRegistry``, so that
several apps in one process do not share counters. Several worker processes (``talktrack serve
--workers N`` sets ``PROMETHEUS_MULTIPROC_DIR``): every process writes its values to files in
that folder, and ``/metrics``, whichever worker answers it, sums them over all workers
(prometheus_client's multiprocess mode) — otherwise each scrape would see one worker's share.

Every label comes from a fixed set, so no request can add series: routes are labelled by their
template (``/v1/tracks/{track_id}``) and unmatched paths as ``unmatched``, methods outside
:data:`METHODS` (``FOO``, ``PROPFIND``) as ``other``.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

# Seconds; fine steps below 100 ms where scoring latency targets lie.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def multiprocess_dir() -> str | None:
    """The folder shared by the worker processes, when the service runs several."""
    return os.environ.get(MULTIPROC_ENV) or None


class HttpMetrics:
    """Counters and histograms; :meth:`observe` is the request hook, :meth:`render` the /metrics body."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.shared_dir = multiprocess_dir()
        # in multiprocess mode the values live in the shared files; a registry of our own would
        # report this process's values a second time beside the collector's sums
        self.registry = None if self.shared_dir else CollectorRegistry()
        self.requests = Counter(
            "talktrack_http_requests",
            "HTTP requests by route and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "talktrack_http_request_duration_seconds",
            "HTTP request latency.",
            ("method", "route", "status"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.feature_cache = Counter(
            "talktrack_score_feature_cache",
            "Deals scored from cached features (hit) or with features built for the request (miss).",
            ("result",),
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)

    def count_feature_cache(self, hits: int, misses: int) -> None:
        if hits:
            self.feature_cache.labels("hit").inc(hits)
        if misses:
            self.feature_cache.labels("miss").inc(misses)

    def render(self) -> bytes:
        if self.shared_dir is None:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.shared_dir)
        return generate_latest(registry)
