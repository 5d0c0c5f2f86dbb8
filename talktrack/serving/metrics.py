"""Prometheus metrics of one app: request counts and latency by route template and status.

Each app gets its own ``CollectorRegistry`` so that several apps in one process (tests) do
not share counters. Routes are labelled by their template (``/v1/tracks/{track_id}``), and
unmatched paths as ``unmatched``, so label cardinality stays bounded.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

# Seconds; fine steps below 100 ms where scoring latency targets lie.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HttpMetrics:
    """Counters and histograms; :meth:`observe` is the request hook, :meth:`render` the /metrics body."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
