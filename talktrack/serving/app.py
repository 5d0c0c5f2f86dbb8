"""The app factory: ``create_app(settings)`` → the TalkTrack HTTP service.

``talktrack serve`` runs :func:`app_from_environment` under uvicorn (a factory, so every
worker process builds its own app); the CLI hands it the resolved settings through the
file named by :data:`SETTINGS_ENV`.

Example::

    app = create_app(load_settings())
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import json
import os
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from talktrack.core.catalog import open_catalog
from talktrack.core.config import ServingSettings, Settings, load_settings
from talktrack.core.workspace import Workspace
from talktrack.serving.auth_gate import AuthGateMiddleware
from talktrack.serving.body_limit import BodyLimit, BodyLimitMiddleware, BodyLimits
from talktrack.serving.errors import install_error_handlers
from talktrack.serving.heap import settle_heap
from talktrack.serving.key_cache import key_cache
from talktrack.serving.logging import RequestContextMiddleware, configure_logging
from talktrack.serving.routes import ROUTE_MODULES, ROUTERS
from talktrack.serving.security_headers import SecurityHeadersMiddleware
from talktrack.serving.state import Service
from talktrack.serving.web import install_web

# Not TALKTRACK_*: that prefix is read as setting overrides by load_settings.
SETTINGS_ENV = "TT_SERVE_SETTINGS_FILE"


def create_app(settings: Settings) -> FastAPI:
    """The service for ``settings.workspace``; the catalog opens (and migrates) when it starts."""
    service = Service(settings, Workspace.at(settings.workspace))

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        service.workspace.ensure()
        service.catalog = open_catalog(
            settings.catalog.url or service.workspace.catalog_url, echo=settings.catalog.echo_sql
        )
        for module in ROUTE_MODULES:
            if hasattr(module, "on_startup"):
                module.on_startup(service)
        settle_heap()  # what start-up loaded lives as long as the service (see serving.heap)
        try:
            yield
        finally:
            for module in reversed(ROUTE_MODULES):
                if hasattr(module, "on_shutdown"):
                    module.on_shutdown(service)
            service.catalog.dispose()

    app = FastAPI(
        title="TalkTrack",
        version=_version(),
        lifespan=lifespan,
        description="Conversation intelligence for sales teams: search, talk tracks, scoring. "
        "Every route but /health and /docs needs `Authorization: Bearer KEY`.",
    )
    app.state.service = service
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    if settings.serving.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.serving.cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
        )
    # Outermost last: headers on every answer; the request's id and log line; the key checked,
    # then the body's size, before any body is read.
    app.add_middleware(BodyLimitMiddleware, limits=body_limits(settings.serving))
    app.add_middleware(AuthGateMiddleware, keys=key_cache(service))
    app.add_middleware(RequestContextMiddleware, on_done=service.metrics.observe)
    app.add_middleware(SecurityHeadersMiddleware)
    install_web(app)
    return app


def body_limits(serving: ServingSettings) -> BodyLimits:
    """Uploads up to serving.max_upload_mb, documents to verify up to max_document_mb, JSON to max_json_mb."""
    return BodyLimits(
        multipart=BodyLimit("serving.max_upload_mb", serving.max_upload_mb),
        other=BodyLimit("serving.max_json_mb", serving.max_json_mb, multipart=False),
        by_path={"/v1/evidence/verify-file": BodyLimit("serving.max_document_mb", serving.max_document_mb)},
    )


def app_from_environment() -> FastAPI:
    """uvicorn's factory: settings from the file the CLI wrote, else the usual config layers."""
    configure_logging()
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return create_app(Settings.model_validate(json.loads(Path(path).read_text(encoding="utf-8"))))
    return create_app(load_settings())


def settings_json(settings: Settings) -> str:
    """The resolved settings as JSON that :func:`app_from_environment` validates back."""
    return settings.model_dump_json(by_alias=True)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("talktrack")
    except PackageNotFoundError:
        return "0"
