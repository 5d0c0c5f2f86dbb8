"""Every error the service returns is JSON: ``{"error": {"code", "message"}}`` (plus ``fields`` for 422).

Routes stay thin: domain code raises its own errors (``TrackNotFound``, ``ReviewError``,
``IndexNotBuiltError``, ``RegistryError``) and :func:`install_error_handlers` maps them to
HTTP here, so bad input and missing data never surface as a 500.
"""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from talktrack.pipelines.mining import ReviewError, TrackNotFound
from talktrack.pipelines.semantic.index import IndexNotBuiltError
from talktrack.training.registry import RegistryError

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "not_ready",
    413: "too_large",
    415: "unsupported_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal",
}


class ApiError(Exception):
    """An HTTP error with a stable machine-readable ``code`` and a message a person can act on."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers
        self.code = code or HTTP_CODES.get(status, "error")


class NotReady(ApiError):
    """The data or model a route needs does not exist yet in this workspace (409)."""

    def __init__(self, message: str, code: str = "not_ready"):
        super().__init__(409, message, code)


# Domain error type -> (status, code). The message is the domain error's own.
DOMAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {
    TrackNotFound: (404, "track_not_found"),
    ReviewError: (422, "invalid_review"),
    IndexNotBuiltError: (409, "index_not_built"),
    RegistryError: (409, "no_model"),
}


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


async def send_error(send, status: int, code: str, message: str, headers: tuple = ()) -> None:
    """An error answered straight over ASGI, from a middleware outside FastAPI's handlers."""
    body = json.dumps(error_body(code, message)).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def error_response(
    status: int, code: str, message: str, headers: dict | None = None, **extra
) -> JSONResponse:
    return JSONResponse(error_body(code, message, **extra), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for error_type in DOMAIN_ERRORS:
        app.add_exception_handler(error_type, _domain_error)


async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    status, code = next(v for t, v in DOMAIN_ERRORS.items() if isinstance(exc, t))
    return error_response(status, code, str(exc))


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return error_response(
        exc.status_code,
        HTTP_CODES.get(exc.status_code, "error"),
        str(exc.detail),
        getattr(exc, "headers", None),
    )


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each bad field (``body.deal_ids``, ``query.k``) and why."""
    fields = [
        {"field": ".".join(str(part) for part in err.get("loc", ())), "reason": err.get("msg", "invalid")}
        for err in exc.errors()
    ]
    message = "; ".join(f"{f['field']}: {f['reason']}" for f in fields) or "invalid request"
    return error_response(422, "invalid_input", message, fields=fields)
