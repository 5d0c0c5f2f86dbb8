"""Refuse a request body past its limit before it is read, not after.

FastAPI parses a multipart upload (spooling it to disk) or a JSON body (into Python objects)
before the route can count its bytes, so without this a 2 GB upload is written out in full, or a
190 MB JSON list of strings parsed into memory, and only then answered 413 or 422. This plain ASGI
middleware answers 413 at once when ``Content-Length`` declares too much, and stops a chunked body
(no length declared) as soon as the bytes received pass the limit.

Which limit: a path may have its own (the document upload: ``serving.max_document_mb``); else a
multipart body has the upload limit (``serving.max_upload_mb``) and any other body, JSON, the
JSON limit (``serving.max_json_mb``). A multipart limit is the file's limit plus
:data:`FORM_OVERHEAD_BYTES` for the framing and the form's other fields; the routes still check
the file itself against the exact limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.exceptions import HTTPException

from talktrack.serving.errors import send_error

FORM_OVERHEAD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class BodyLimit:
    """A body limit and the setting that sets it (named in the 413)."""

    setting: str
    mb: float
    multipart: bool = True

    @property
    def max_bytes(self) -> int:
        return int(self.mb * 1024 * 1024) + (FORM_OVERHEAD_BYTES if self.multipart else 0)

    @property
    def message(self) -> str:
        advice = "send a shorter or compressed file" if self.multipart else "send fewer or shorter items"
        return f"the request body is larger than {self.setting} ({self.mb:g} MB); {advice}"


@dataclass(frozen=True)
class BodyLimits:
    """The limit of a request: its path's own, else by whether its body is a multipart form."""

    multipart: BodyLimit
    other: BodyLimit
    by_path: dict[str, BodyLimit] = field(default_factory=dict)

    def of(self, scope) -> BodyLimit:
        if scope.get("path") in self.by_path:
            return self.by_path[scope["path"]]
        content_type = _header(scope, b"content-type") or ""
        return self.multipart if content_type.lower().startswith("multipart/") else self.other


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a chunked body passes the limit. An ``HTTPException``, so that
    FastAPI's body parsing passes it on (it turns other errors into a 400) and the service's
    error handler answers it as the usual JSON 413."""

    def __init__(self, message: str) -> None:
        super().__init__(status_code=413, detail=message)


class BodyLimitMiddleware:
    def __init__(self, app, *, limits: BodyLimits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.of(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit.max_bytes:
            await _refuse(send, limit)
            return
        received, started = 0, False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    raise BodyTooLarge(limit.message)
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
            await _refuse(send, limit)


async def _refuse(send, limit: BodyLimit) -> None:
    await send_error(send, 413, "too_large", limit.message, headers=((b"connection", b"close"),))


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _content_length(scope) -> int | None:
    text = (_header(scope, b"content-length") or "").strip()
    return int(text) if text.isascii() and text.isdigit() else None
