"""Deal scoring with the registry champion: one deal, or a batch of up to ``serving.max_batch_rows``.

Each answer carries the win probability, tier (A/B/C), top reasons and the model name and
version that produced it. The champion alias is re-resolved on every request (see
:mod:`talktrack.serving.champion`).
"""

from __future__ import annotations

import json

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from talktrack.core.catalog.schema import Deal, Rep, Team
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError, NotReady
from talktrack.serving.keys import Caller
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.state import CUSTOMER_SCORER, Service

router = APIRouter(prefix="/v1/score", tags=["scoring"])
# build_deal_table one-hot encodes the industries present among the deals it is given; a deal
# whose industry column is absent from a small request is certainly not of that industry.
ONE_HOT_PREFIXES = ("industry__",)
Scorer = Allowed("admin", "crm", "manager", "ml")
MAX_BATCH = 10000


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deal_id: str = Field(min_length=1, max_length=64, description="The deal's external (CRM) id.")


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deal_ids: list[str] = Field(min_length=1, max_length=MAX_BATCH, description="Deal external ids.")


@router.post("", summary="Score one deal")
def score(body: ScoreRequest, caller: Scorer, svc: ServiceDep) -> dict:
    return score_deals(svc, [body.deal_id], caller)[0]


@router.post("/batch", summary="Score a batch of deals")
def score_batch(body: BatchRequest, caller: Scorer, svc: ServiceDep) -> dict:
    if len(body.deal_ids) > svc.settings.serving.max_batch_rows:
        raise ApiError(
            422,
            f"body.deal_ids: {len(body.deal_ids)} deals; at most "
            f"{svc.settings.serving.max_batch_rows} per batch",
        )
    return {"scores": score_deals(svc, list(dict.fromkeys(body.deal_ids)), caller)}


def score_deals(svc: Service, deal_ids: list[str], caller: Caller) -> list[dict]:
    """Check scope, resolve the champion, build features as of now, predict."""
    from talktrack.models.features.deal import build_deal_table

    champion = svc.champion(CUSTOMER_SCORER).current()  # 409 first: nothing can be scored without it
    check_deals(svc, deal_ids, caller)
    try:
        table = build_deal_table(svc.catalog, svc.settings, deal_ids=deal_ids)
    except ValueError as exc:  # an empty catalog: nothing dated to score as of
        raise NotReady(str(exc), code="no_data") from None
    # rows come back in the order given (the pyfunc's output may carry a fresh index)
    features = align_to_model(table.features, champion.model)
    predicted = champion.model.predict(features).set_axis(features.index)
    rows = {row.Index: row for row in predicted.itertuples()}
    model = {"name": champion.name, "version": champion.version}
    return [
        {
            "deal_id": deal_id,
            "probability": float(rows[deal_id].p_win),
            "tier": rows[deal_id].tier,
            "reasons": json.loads(rows[deal_id].reasons),
            "model": model,
        }
        for deal_id in deal_ids
    ]


def check_deals(svc: Service, deal_ids: list[str], caller: Caller) -> None:
    """404 for deals not in the catalog; 403 when a manager asks for another team's deals."""
    query = (
        select(Deal.external_id, Team.external_id)
        .join(Rep, Rep.id == Deal.rep_id)
        .outerjoin(Team, Team.id == Rep.team_id)
        .where(Deal.external_id.in_(deal_ids))
    )
    with svc.catalog.session() as session:
        teams = dict(session.execute(query).all())
    missing = [deal_id for deal_id in deal_ids if deal_id not in teams]
    if missing:
        raise ApiError(
            404,
            f"deals not in the catalog: {', '.join(missing[:5])}"
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""),
            code="deal_not_found",
        )
    if caller.role == "manager":
        foreign = [deal_id for deal_id, team in teams.items() if team != caller.team]
        if foreign:
            raise ApiError(
                403, f"a manager key sees only its team ({caller.team}); not: {', '.join(foreign[:5])}"
            )


def align_to_model(features, model):
    """The model's input columns in its order: missing one-hot columns 0, other missing ones NaN
    (unknown, as the scorer's contract says), columns it was not trained on dropped."""
    names = model.metadata.get_input_schema().input_names()
    aligned = features.reindex(columns=names)
    one_hot = [name for name in names if name.startswith(ONE_HOT_PREFIXES) and name not in features.columns]
    aligned[one_hot] = 0.0
    return aligned
