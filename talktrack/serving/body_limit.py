"""Refuse a request body past ``serving.max_upload_mb`` before it is read, not after.

FastAPI parses a multipart upload (spooling it to disk) before the route can count its bytes,
so without this a 2 GB upload is written out in full and only then answered 413. This plain
ASGI middleware answers 413 at once when ``Content-Length`` declares too much, and stops a
chunked body (no length declared) as soon as the bytes received pass the limit.

The limit is the upload limit plus :data:`FORM_OVERHEAD_BYTES` for the multipart framing and
the form's other fields; the routes still check the file itself against the exact limit.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException

from talktrack.serving.errors import send_error

FORM_OVERHEAD_BYTES = 1024 * 1024


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a chunked body passes the limit. An ``HTTPException``, so that
    FastAPI's body parsing passes it on (it turns other errors into a 400) and the service's
    error handler answers it as the usual JSON 413."""

    def __init__(self, message: str) -> None:
        super().__init__(status_code=413, detail=message)


class BodyLimitMiddleware:
    def __init__(self, app, *, limit_mb: float) -> None:
        self.app, self.limit_mb = app, limit_mb
        self.max_bytes = int(limit_mb * 1024 * 1024) + FORM_OVERHEAD_BYTES

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        received, started = 0, False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.message)
            return message

        async def tracked_send(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(send)

    @property
    def message(self) -> str:
        return (f"the request body is larger than serving.max_upload_mb ({self.limit_mb:g} MB); "
                "send a shorter or compressed file")

    async def _refuse(self, send) -> None:
        await send_error(send, 413, "too_large", self.message, headers=((b"connection", b"close"),))


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None
