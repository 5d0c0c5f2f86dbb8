"""Capability views: a rep's radar, a team's shortfall heatmap (JSON or PNG) and coaching recommendations.

Reads the estimates that ``talktrack train capability`` saves (``models/capability/estimates.csv``);
they are parsed once and re-read when training rewrites the file. Scope: admin, coach and ml see
everyone; a manager only their team; a rep only their own radar and recommendations.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path as FilePath
from typing import Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from talktrack.pipelines import coaching
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.disclosure import redact_calls
from talktrack.serving.errors import ApiError, NotReady
from talktrack.serving.keys import Caller
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN
from talktrack.serving.state import Service

router = APIRouter(prefix="/v1/capability", tags=["capability"])
RepViewer = Allowed("admin", "coach", "ml", "manager", "rep")
TeamViewer = Allowed("admin", "coach", "ml", "manager")
RepId = Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="The rep's external id, e.g. REP-001.")
TeamId = Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="The team's external id, e.g. TEAM-01.")
Month = Query(None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM (default: the latest month).")
Format = Query("json", alias="format", description="json, or png for the picture.")
PNG_RESPONSE = {200: {"content": {"image/png": {}}, "description": "JSON, or a PNG with format=png."}}


class EstimatesCache:
    """The capability estimates, re-read when the training run rewrites the file (by mtime)."""

    def __init__(self, directory: FilePath) -> None:
        self.path = directory / "estimates.csv"
        self._directory = directory
        self._stamp: float | None = None
        self._frame = None
        self._lock = threading.Lock()

    def get(self):
        """The estimates frame; 409 when the capability model was never trained."""
        from talktrack.models.capability import read_estimates

        try:
            stamp = self.path.stat().st_mtime
        except FileNotFoundError:
            raise NotReady("no capability estimates: train the model first (`talktrack train capability`)",
                           code="no_model") from None
        with self._lock:
            if stamp != self._stamp:
                self._frame, self._stamp = read_estimates(self._directory), stamp
            if self._frame.empty:
                raise NotReady("the capability estimates are empty: retrain (`talktrack train capability`)",
                               code="no_model")
            return self._frame


@router.get("/reps/{rep_id}/radar", summary="A rep's 12 capability dimensions vs the team mean",
            responses=PNG_RESPONSE, response_model=None)
def radar(caller: RepViewer, svc: ServiceDep, rep_id: str = RepId, month: str | None = Month,
          image_format: Literal["json", "png"] = Format) -> dict | Response:
    check_rep(svc, caller, rep_id)
    return _chart(svc, coaching.rep_radar, coaching.draw_radar, rep_id, month, image_format, as_json=dict)


@router.get("/teams/{team_id}/heatmap", summary="Reps x dimensions gap to the team mean, shortfalls flagged",
            responses=PNG_RESPONSE, response_model=None)
def heatmap(caller: TeamViewer, svc: ServiceDep, team_id: str = TeamId, month: str | None = Month,
            image_format: Literal["json", "png"] = Format) -> dict | Response:
    check_team(svc, caller, team_id)
    return _chart(svc, coaching.team_heatmap, coaching.draw_heatmap, team_id, month, image_format,
                  as_json=coaching.Heatmap.to_dict)


@router.get("/reps/{rep_id}/recommendations", summary="A course, a coach session and examples per shortfall")
def rep_recommendations(caller: RepViewer, svc: ServiceDep, rep_id: str = RepId,
                        month: str | None = Month) -> dict:
    team = check_rep(svc, caller, rep_id)
    flagged = [f for f in _flagged(svc, team, month) if f["rep"] == rep_id]
    return {"rep": rep_id, "team": team,
            "recommendations": redact_calls(Access(svc.catalog, caller), _recommend(svc, flagged))}


@router.get("/teams/{team_id}/recommendations", summary="Recommendations for every shortfall of a team")
def team_recommendations(caller: TeamViewer, svc: ServiceDep, team_id: str = TeamId,
                         month: str | None = Month) -> dict:
    check_team(svc, caller, team_id)
    return {"team": team_id,
            "recommendations": redact_calls(Access(svc.catalog, caller), _recommend(svc, _flagged(svc, team_id, month)))}


def estimates(svc: Service):
    directory = svc.workspace.models_dir / "capability"
    return svc.shared("capability.estimates", lambda: EstimatesCache(directory)).get()


def check_rep(svc: Service, caller: Caller, rep_id: str) -> str | None:
    """The rep's team; 404 unknown rep, 403 out of the caller's reach (see :mod:`talktrack.serving.access`)."""
    owner = Access(svc.catalog, caller).rep(rep_id)
    return next(iter(owner.teams), None)


def check_team(svc: Service, caller: Caller, team_id: str) -> None:
    """404 unknown team; 403 another team for a manager key."""
    access = Access(svc.catalog, caller)
    access.pin_team(team_id)  # a manager asking for another team: 403 whether or not it exists
    access.team(team_id)


def _flagged(svc: Service, team: str, month: str | None) -> list[dict]:
    return _coaching(coaching.team_heatmap, svc.catalog, svc.settings, estimates(svc), team, month).flagged()


def _recommend(svc: Service, flagged: list[dict]) -> list[dict]:
    return _coaching(coaching.recommendations, svc.catalog, svc.settings, estimates(svc), flagged)


def _chart(svc: Service, build, draw, subject: str, month: str | None, image_format: str, *, as_json):
    """The coaching view ``build`` makes of ``subject`` (a rep or a team) in ``month``: ``as_json(view)``,
    or the view drawn by ``draw`` as a PNG."""
    view = _coaching(build, svc.catalog, svc.settings, estimates(svc), subject, month)
    if image_format == "png":
        return _png(svc, lambda path: draw(view, path))
    return as_json(view)


def _coaching(function, *args):
    """A coaching view; an unknown month or a rep/team without estimates is a 404 naming it."""
    try:
        return function(*args)
    except coaching.CoachingError as exc:
        raise ApiError(404, str(exc), code="no_estimates") from None


def _png(svc: Service, draw) -> Response:
    """Draw into a temporary file and answer its bytes; one drawing at a time (pyplot is not thread-safe)."""
    lock = svc.shared("capability.draw_lock", threading.Lock)
    with lock, tempfile.TemporaryDirectory(prefix="tt-chart-") as folder:
        path = draw(FilePath(folder) / "chart.png")
        content = FilePath(path).read_bytes()
    return Response(content, media_type="image/png")
