"""Structured request logs: one JSON line per request, tied together by a request id.

The id comes from the caller's ``X-Request-ID`` header when it is a sane token, else a new
one; it is echoed back on every response (500s included) and put on every log line written
while the request runs (:data:`request_id`). :class:`RequestContextMiddleware` is a plain ASGI
middleware (cheaper per request than ``BaseHTTPMiddleware``) and calls a hook
``on_done(method, route, status, seconds)`` after each request: the metrics plug in there.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from talktrack.serving.errors import send_error

LOGGER = logging.getLogger("talktrack.serving")
request_id: ContextVar[str | None] = ContextVar("talktrack_request_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
RequestHook = Callable[[str, str, int, float], None]


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id", ...extra fields}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send the service's logs to stderr as JSON lines (once; later calls only set the level)."""
    LOGGER.setLevel(level)
    if not any(isinstance(h.formatter, JsonFormatter) for h in LOGGER.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        LOGGER.addHandler(handler)
        LOGGER.propagate = False


class RequestContextMiddleware:
    """Request id in and out, one access log line, the hook, and a JSON 500 for anything unhandled."""

    def __init__(self, app, on_done: RequestHook | None = None) -> None:
        self.app, self.on_done = app, on_done

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or uuid.uuid4().hex
        token = request_id.set(rid)
        started, state = time.perf_counter(), {"status": 500, "sent": False}

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["sent"] = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            LOGGER.exception("unhandled error", extra={"fields": {"path": scope.get("path")}})
            if not state["sent"]:
                await send_error(send_with_id, 500, "internal",
                                 f"internal error (request id {rid}); see the service log")
        finally:
            self._finish(scope, state["status"], time.perf_counter() - started, rid)
            request_id.reset(token)

    def _finish(self, scope, status: int, seconds: float, rid: str) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        LOGGER.info(
            "request",
            extra={
                "fields": {
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "ms": round(seconds * 1000, 2),
                    "caller": _caller_id(scope),
                }
            },
        )
        if self.on_done is not None:
            self.on_done(scope["method"], route, status, seconds)


def _incoming_id(scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SANE_ID.match(text) else None
    return None


def _caller_id(scope) -> int | None:
    """The API key id :func:`talktrack.serving.auth.current_caller` left on the request state."""
    state = scope.get("state")
    return getattr(state.get("caller"), "key_id", None) if isinstance(state, dict) else None
