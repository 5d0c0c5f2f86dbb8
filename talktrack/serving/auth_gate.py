"""Check the API key of a request with a body before any of the body is read.

FastAPI reads and parses a request's body (spooling a multipart upload to disk) before the
route's dependencies run, so the key check of :func:`talktrack.serving.auth.current_caller`
comes only after an anonymous client has sent its whole upload. This plain ASGI middleware
answers 401 from the headers alone for every ``/v1/...`` request that carries a body (a
``Content-Length`` above 0, or ``Transfer-Encoding``), with ``Connection: close`` since the body
is left unread; requests without a body go on to the routes, which check the key as before.
Roles are still the routes' to check (a valid key of the wrong role is read, then 403).

A key seen within ``serving.key_cache_ttl_s`` is checked from memory on the event loop; only a
lookup in the catalog goes to the thread pool (see :mod:`talktrack.serving.key_cache`).

Example::

    app.add_middleware(AuthGateMiddleware, keys=KeyCache(lambda key: authenticate(catalog, key), ttl_s=5))
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from talktrack.serving.errors import send_error
from talktrack.serving.key_cache import KeyCache

# The same answers as auth.current_caller gives once the body is read.
MISSING_KEY = "missing API key: send `Authorization: Bearer KEY`"
INVALID_KEY = "invalid or revoked API key"
_REFUSAL_HEADERS = ((b"www-authenticate", b"Bearer"), (b"connection", b"close"))


class AuthGateMiddleware:
    """401 for a body-carrying request under ``prefix`` whose bearer key ``keys`` refuses."""

    def __init__(self, app, *, keys: KeyCache, prefix: str = "/v1/") -> None:
        self.app, self.keys, self.prefix = app, keys, prefix

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix) and _has_body(scope):
            refusal = await self._refusal(scope)
            if refusal is not None:
                await send_error(send, 401, "unauthorized", refusal, headers=_REFUSAL_HEADERS)
                return
        await self.app(scope, receive, send)

    async def _refusal(self, scope) -> str | None:
        """Why the request's key is refused; None when it is a valid key."""
        scheme, _, key = (_header(scope, b"authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return MISSING_KEY
        key = key.strip()
        caller = self.keys.peek(key) or await run_in_threadpool(self.keys.get, key)  # get: a catalog query
        return None if caller is not None else INVALID_KEY


def _has_body(scope) -> bool:
    length = _header(scope, b"content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return _header(scope, b"transfer-encoding") is not None


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None
