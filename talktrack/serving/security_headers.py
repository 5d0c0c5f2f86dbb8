"""Headers that keep browsers safe with what the service answers.

Every response: ``X-Content-Type-Options: nosniff`` (a JSON answer or an uploaded-looking file
is never run as script or HTML), ``X-Frame-Options: DENY`` and ``Referrer-Policy: no-referrer``.
HTML pages get :data:`PAGE_CSP`: our own scripts and styles only (the pages have no inline
script; the taxonomy rides in a non-executable ``application/json`` block), audio from blob URLs,
calls to this origin only, no framing. Everything else gets :data:`API_CSP`, which lets nothing
load. The interactive API docs (``/docs``, ``/redoc``) load Swagger UI from a CDN with an inline
script, so they keep no CSP (but the other headers).
"""

from __future__ import annotations

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
          (b"referrer-policy", b"no-referrer"))
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})


class SecurityHeadersMiddleware:
    """Adds :data:`ALWAYS` and a content security policy to every HTTP response."""

    def __init__(self, app, *, docs_paths: frozenset[str] = DOCS_PATHS) -> None:
        self.app, self.docs_paths = app, docs_paths

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in self.docs_paths

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in ALWAYS if name not in names]
                if not docs and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", _policy(headers).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _policy(headers: list[tuple[bytes, bytes]]) -> str:
    content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
    return PAGE_CSP if content_type.lower().startswith(b"text/html") else API_CSP
