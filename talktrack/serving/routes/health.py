"""``/health`` (no key: is the service up, and which parts have their data/models) and ``/metrics``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from talktrack.core.catalog.store import head_revision
from talktrack.serving.auth import Allowed
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.state import CAPABILITY_MODEL, CUSTOMER_SCORER, Service
from talktrack.training import registry

router = APIRouter(tags=["service"])
MetricsReader = Allowed("admin", "ml")
AnyRole = Allowed("admin", "coach", "manager", "rep", "ml", "crm", "director")


@router.get("/health", summary="Which parts of the service are ready (no key needed)")
def health(svc: ServiceDep) -> JSONResponse:
    catalog = catalog_status(svc)
    parts = {
        "catalog": catalog,
        "index": {"ready": svc.utterances.is_built()},
        "moment_model": {"ready": _moment_model_trained(svc)},
        "champions": {name: champion_status(svc, name) for name in (CUSTOMER_SCORER, CAPABILITY_MODEL)},
    }
    status = "ok" if catalog["ready"] else "degraded"
    return JSONResponse({"status": status, "parts": parts}, status_code=200 if catalog["ready"] else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(svc: ServiceDep, _caller: MetricsReader) -> Response:
    return Response(svc.metrics.render(), media_type=svc.metrics.content_type)


@router.get("/v1/me", summary="Who this key is: role, and the rep or team it is scoped to")
async def me(caller: AnyRole) -> dict:
    return {"role": caller.role, "rep": caller.rep, "team": caller.team, "name": caller.name}


def catalog_status(svc: Service) -> dict:
    try:
        revision = svc.catalog.current_revision()
    except SQLAlchemyError as exc:
        return {"ready": False, "error": f"catalog unreachable: {type(exc).__name__}"}
    head = head_revision()
    return {"ready": revision == head, "revision": revision, "expected": head}


def _moment_model_trained(svc: Service) -> bool:
    from talktrack.pipelines.semantic.moments import model_dir

    return (model_dir(svc.workspace) / "params.json").is_file()


def champion_status(svc: Service, model_name: str) -> dict:
    """The champion version, without creating an MLflow store where none exists yet."""
    uri = registry.tracking_uri(svc.settings, svc.workspace)
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return {"ready": False, "version": None}
    version = svc.champion(model_name).champion_version()
    return {"ready": version is not None, "version": version}
