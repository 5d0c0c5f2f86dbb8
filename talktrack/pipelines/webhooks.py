"""POSTing JSON to another system's webhook, with retries and exponential backoff.

A receiver that is restarting, overloaded or briefly unreachable should not lose a delivery, and one that
got the request but whose answer was lost must not act on it twice: every try carries the same
``Idempotency-Key`` header, so the receiver can recognise a repeat. What is retried: connection errors,
timeouts, 408, 425, 429 and 5xx answers; any other 4xx says the request itself is wrong and is given up
at once (retrying it would only repeat the refusal). The waits are ``backoff_s`` doubling per try, at most
``max_backoff_s``; a 429/503 with a ``Retry-After`` in seconds is honoured within that bound.

Example::

    delivery = post_json("https://hr.example/hooks/points", {"rows": []}, idempotency_key="MX-2026-11-ab12",
                         attempts=4, backoff_s=1.0, max_backoff_s=30.0, timeout_s=10.0)
    delivery.ok, delivery.attempts, delivery.error
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

RETRIED_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass
class Delivery:
    """What happened: ``ok`` when a 2xx came back; ``tries`` holds each try's status code or error."""

    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None
    tries: list[str] = field(default_factory=list)


def backoff_waits(attempts: int, backoff_s: float, max_backoff_s: float) -> list[float]:
    """The waits between ``attempts`` tries: ``[b, 2b, 4b, ...]`` capped at ``max_backoff_s``."""
    return [min(max_backoff_s, backoff_s * 2 ** i) for i in range(max(0, attempts - 1))]


def post_json(url: str, payload: dict, *, idempotency_key: str, attempts: int, backoff_s: float,
              max_backoff_s: float, timeout_s: float, headers: dict | None = None,
              sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """POST ``payload`` until a 2xx, a final 4xx, or ``attempts`` tries; never raises for the network."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    send = {"Idempotency-Key": idempotency_key, **(headers or {})}
    waits = backoff_waits(attempts, backoff_s, max_backoff_s)
    delivery = Delivery(ok=False, attempts=0)
    with httpx.Client(timeout=timeout_s) as client:
        for attempt in range(attempts):
            delivery.attempts = attempt + 1
            wait_hint = None
            try:
                response = client.post(url, json=payload, headers=send)
            except httpx.HTTPError as exc:
                delivery.status, delivery.error = None, f"{type(exc).__name__}: {exc}"
                delivery.tries.append(delivery.error)
            else:
                delivery.status = response.status_code
                delivery.tries.append(str(response.status_code))
                if response.is_success:
                    delivery.ok, delivery.error = True, None
                    return delivery
                delivery.error = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code not in RETRIED_STATUSES:
                    return delivery
                wait_hint = _retry_after(response)
            if attempt < len(waits):
                sleep(min(max_backoff_s, wait_hint) if wait_hint is not None else waits[attempt])
    return delivery


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None
