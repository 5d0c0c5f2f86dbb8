"""``GET /v1/management/process-health`` and ``GET /v1/management/lineage``.

Process health is team data: a manager key is pinned to its own team (asking for another is a 403),
a director or an admin sees every team or the one named. Lineage is the shape of the platform, not
anyone's data, so every role that reads management figures or models may read it. The figures are
:func:`talktrack.pipelines.management.process_health.process_health`'s; the graph is
:func:`talktrack.pipelines.management.lineage.lineage_graph`'s.
"""

from __future__ import annotations

from datetime import date, datetime, time

from fastapi import APIRouter, Query

from talktrack.pipelines.management.lineage import LineageError, lineage_graph
from talktrack.pipelines.management.process_health import process_health, sop_coverage
from talktrack.pipelines.semantic import sop
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN

router = APIRouter(prefix="/v1/management", tags=["management"])
HealthReader = Allowed("admin", "director", "manager")
LineageReader = Allowed("admin", "coach", "director", "manager", "ml")
EARLIEST, LATEST = date(1900, 1, 1), date(2200, 12, 31)   # months are counted with pandas periods (1677-2262)


@router.get("/process-health", summary="Stage funnel, key-action completion and team efficiency per team and month")
def process_health_view(
    caller: HealthReader,
    svc: ServiceDep,
    team: str | None = Query(None, min_length=1, max_length=64, pattern=ID_PATTERN,
                             description="Only this team (external id); a manager key is pinned to its own."),
    months: int = Query(3, ge=1, le=24, description="How many months, ending with as_of's."),
    as_of: date | None = Query(None, description="The last day counted (YYYY-MM-DD; default: the catalog's latest event)."),
) -> dict:
    team = Access(svc.catalog, caller).team_filter(team)
    if as_of is not None and not EARLIEST <= as_of <= LATEST:
        raise ApiError(422, f"query.as_of: {as_of.isoformat()} is outside {EARLIEST.isoformat()} .. {LATEST.isoformat()}")
    until = None if as_of is None else datetime.combine(as_of, time.max).replace(microsecond=0)
    try:
        report = process_health(svc.catalog, svc.settings, coverage=sop_coverage(svc.catalog, svc.settings, svc.workspace),
                                team=team, as_of=until, months=months)
    except sop.SopNotFoundError as exc:
        raise ApiError(409, f"key-question coverage needs an SOP: {exc}", code="sop_missing") from None
    except ValueError as exc:  # an empty catalog has no "now" to count back from
        raise ApiError(409, str(exc), code="not_ready") from None
    names = {a.key: {"en": a.name_en, "zh": a.name_zh} for a in svc.settings.process_health.key_actions}
    return report | {"key_action_names": names}


@router.get("/lineage", summary="Which imported fields feed which features, models and metrics")
def lineage_view(
    caller: LineageReader,
    node: str | None = Query(None, min_length=1, max_length=100,
                             description="A field (customers.industry), feature, model or metric: only what feeds "
                                         "it and what it feeds, with the chains through it."),
) -> dict:
    graph = lineage_graph()
    try:
        view = graph.subgraph(node)
        chains = graph.chains(node) if node else []
    except LineageError as exc:
        raise ApiError(404, str(exc), code="lineage_node_not_found") from None
    return view | {"chains": [chain for chain in chains if len(chain) > 1]}
