"""A cheap open-loop HTTP/1.1 load generator: raw asyncio protocols over keep-alive connections.

Why not httpx: at 500 requests/s its per-request Python (request and response models, header
objects, the connection pool's bookkeeping) costs the generator a large share of one core, and
on a 2-core machine that core is one the server under test needs; the server's latency then
measures the generator. Here a request is pre-built bytes written to an idle connection and a
response is read by finding the header end and ``Content-Length``: tens of microseconds.

Open loop without coordinated omission: request ``i`` is due at ``start + i / rate`` whatever
the earlier ones did, and its latency counts from that due time (a server that falls behind,
or a generator that wakes late, shows as latency). The generator's own CPU time over the run
and how late it woke (``send_lag``) come with the figures, so a reader can tell whether it
kept up.

Leaf module: imports nothing of TalkTrack.

Example::

    async with LoadClient("127.0.0.1", 8000, {"Authorization": "Bearer tt_..."}) as client:
        figures = await open_loop(client, lambda i: ("GET", "/v1/me", None), rate_per_s=500, duration_s=30)
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable

import numpy as np

RequestFor = Callable[[int], tuple[str, str, dict | None]]


class HttpProtocolError(ConnectionError):
    """An answer this client cannot read (no ``Content-Length``, a malformed status line)."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        try:
            answer = self._answer()
        except HttpProtocolError as exc:
            self.waiter.set_exception(exc)
            return
        if answer is not None:
            self.waiter.set_result(answer)

    def _answer(self) -> tuple[int, bytes, bool] | None:
        """``(status, body, keep_alive)`` once the whole answer is in the buffer, else None."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end]).lower()
        if not head.startswith(b"http/1.1 ") or len(head) < 12:
            raise HttpProtocolError(f"not an HTTP/1.1 status line: {head[:40]!r}")
        marker = head.find(b"\r\ncontent-length:")
        if marker < 0:
            raise HttpProtocolError("an answer without Content-Length (chunked answers are not read here)")
        line_end = head.find(b"\r\n", marker + 2)
        length = int(head[marker + 17:line_end if line_end > 0 else len(head)])
        total = end + 4 + length
        if len(self.buffer) < total:
            return None
        body = bytes(self.buffer[end + 4:total])
        del self.buffer[:total]
        return int(head[9:12]), body, b"\r\nconnection: close" not in head

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection closed before the answer: {exc}"))

    async def exchange(self, request: bytes) -> tuple[int, bytes, bool]:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


class LoadClient:
    """Keep-alive connections to one host, opened as needed (at most ``max_connections``)."""

    def __init__(self, host: str, port: int, headers: dict[str, str], max_connections: int = 256) -> None:
        self.host, self.port = host, port
        self._headers = "".join(f"{name}: {value}\r\n" for name, value in
                                ({"Host": f"{host}:{port}"} | headers).items())
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(max_connections)
        self.opened = 0

    async def __aenter__(self) -> LoadClient:
        return self

    async def __aexit__(self, *exc) -> None:
        for connection in self._idle:
            connection.transport.close()
        self._idle.clear()

    def build(self, method: str, path: str, body: dict | None) -> bytes:
        """The request's bytes (JSON body as ``json.dumps`` writes it)."""
        payload = b"" if body is None else json.dumps(body).encode()
        extra = ("" if body is None
                 else f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n")
        return f"{method} {path} HTTP/1.1\r\n{self._headers}{extra}\r\n".encode("latin-1") + payload

    async def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        """``(status, body)`` of one request over an idle (or new) connection."""
        async with self._slots:
            connection = await self._connection()
            try:
                status, answer, keep = await connection.exchange(self.build(method, path, body))
            except BaseException:
                connection.transport.close()
                raise
            if keep and not connection.closed:
                self._idle.append(connection)
            else:
                connection.transport.close()
            return status, answer

    async def _connection(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        _, connection = await asyncio.get_running_loop().create_connection(_Connection, self.host, self.port)
        self.opened += 1
        return connection


async def open_loop(client: LoadClient, request_for: RequestFor, rate_per_s: float,
                    duration_s: float) -> dict:
    """Requests due every ``1/rate`` s for ``duration_s``; latency from each one's due time.
    Figures: latency percentiles, errors (non-200 or transport), throughput, how late the
    generator sent (``send_lag_*``), its CPU seconds and share of one core, load average."""
    total = max(1, int(rate_per_s * duration_s))
    load_before, cpu_before = os.getloadavg()[0], time.process_time()
    started = time.perf_counter()
    tasks, lags = [], np.empty(total)
    for index in range(total):
        due = started + index / rate_per_s
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lags[index] = time.perf_counter() - due
        tasks.append(asyncio.create_task(_timed(client, *request_for(index), due)))
    results = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_before
    figures = summary(results, elapsed, rate_per_s)
    figures["send_lag_p99_ms"] = round(float(np.percentile(lags, 99)) * 1000.0, 2)
    figures["load_generator"] = {"cpu_s": round(cpu_s, 2), "cpu_share_of_one_core": round(cpu_s / elapsed, 3),
                                 "connections_opened": client.opened}
    figures["load_average_1m"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    return figures


async def _timed(client: LoadClient, method: str, path: str, body: dict | None,
                 due: float) -> tuple[float, bool]:
    try:
        status, _ = await client.request(method, path, body)
        ok = status == 200
    except (OSError, HttpProtocolError):
        ok = False
    return time.perf_counter() - due, ok


def summary(results: list[tuple[float, bool]], elapsed_s: float, rate_per_s: float) -> dict:
    """Latency percentiles (ms), errors and throughput of ``(seconds, ok)`` results."""
    latencies = np.array([seconds for seconds, _ in results]) * 1000.0
    errors = sum(not ok for _, ok in results)
    return {
        "requests": len(results), "errors": errors, "offered_rate_per_s": rate_per_s,
        "throughput_per_s": round((len(results) - errors) / elapsed_s, 1),
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p90_ms": round(float(np.percentile(latencies, 90)), 2),
        "p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "max_ms": round(float(latencies.max()), 2),
    }
