"""Deal scoring with the registry champion: one deal, or a batch of up to ``serving.max_batch_rows``.

Each answer carries the win probability, tier (A/B/C), top reasons and the model name and
version that produced it. The champion alias is re-resolved at most every
``serving.champion_ttl_s`` seconds (see :mod:`talktrack.serving.champion`).

A deal's features and its answer per model version are cached (see
:mod:`talktrack.serving.scoring_cache` for the freshness rule); a route that changes a deal
calls :func:`invalidate_deal_features` (re-exported here).
"""

from __future__ import annotations

import json

import pandas as pd
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from talktrack.core.catalog.schema import Deal, Rep, Team
from talktrack.models.features.deal import build_deal_table
from talktrack.serving.auth import Allowed
from talktrack.serving.champion import LoadedModel
from talktrack.serving.errors import ApiError, NotReady
from talktrack.serving.keys import Caller
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.scoring_cache import CacheEntry, feature_cache, invalidate_deal_features
from talktrack.serving.state import CUSTOMER_SCORER, Service

router = APIRouter(prefix="/v1/score", tags=["scoring"])
# build_deal_table one-hot encodes the industries present among the deals it is given; a deal
# whose industry column is absent from a small request is certainly not of that industry.
ONE_HOT_PREFIXES = ("industry__",)
Scorer = Allowed("admin", "crm", "manager", "ml")
MAX_BATCH = 10000
__all__ = ["router", "score_deals", "invalidate_deal_features"]


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
    """Check scope, resolve the champion, take each deal's features from the cache or build them
    as of now, predict the deals without an answer of this champion version."""
    champion = svc.champion(CUSTOMER_SCORER).current()  # 409 first: nothing can be scored without it
    check_deals(svc, deal_ids, caller)
    entries = deal_entries(svc, deal_ids)
    unanswered = [deal_id for deal_id in deal_ids if champion.version not in entries[deal_id].answers]
    if unanswered:
        predict_into(entries, unanswered, champion)
    return [entries[deal_id].answers[champion.version] for deal_id in deal_ids]


def deal_entries(svc: Service, deal_ids: list[str]) -> dict[str, CacheEntry]:
    """Each deal's cache entry: the fresh cached ones, the others built now (and cached)."""
    cache = feature_cache(svc)
    entries = cache.get_many(deal_ids)
    missing = [deal_id for deal_id in deal_ids if deal_id not in entries]
    svc.metrics.count_feature_cache(hits=len(entries), misses=len(missing))
    if not missing:
        return entries
    generation = cache.generation()
    try:
        table = build_deal_table(svc.catalog, svc.settings, deal_ids=missing)
    except ValueError as exc:  # an empty catalog: nothing dated to score as of
        raise NotReady(str(exc), code="no_data") from None
    return entries | cache.put_table(table.features, built_from=generation)


def predict_into(entries: dict[str, CacheEntry], deal_ids: list[str], champion: LoadedModel) -> None:
    """The champion's answers for ``deal_ids``, stored in their entries under its version."""
    rows = pd.DataFrame.from_dict({deal_id: entries[deal_id].features for deal_id in deal_ids}, orient="index")
    features = align_to_model(rows, champion.model)
    # the pyfunc's output may carry a fresh index: rows come back in the order given
    predicted = champion.predict(features).set_axis(features.index)
    model = {"name": champion.name, "version": champion.version}
    for row in predicted.itertuples():
        entries[row.Index].answers[champion.version] = {
            "deal_id": row.Index,
            "probability": float(row.p_win),
            "tier": row.tier,
            "reasons": json.loads(row.reasons),
            "model": model,
        }


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


def align_to_model(features: pd.DataFrame, model) -> pd.DataFrame:
    """The model's input columns in its order, as floats: one-hot columns a deal lacks are 0,
    other missing ones NaN (unknown, as the scorer's contract says), columns it was not
    trained on dropped."""
    names = model.metadata.get_input_schema().input_names()
    aligned = features.reindex(columns=names).astype(float)
    one_hot = [name for name in names if name.startswith(ONE_HOT_PREFIXES)]
    aligned[one_hot] = aligned[one_hot].fillna(0.0)
    return aligned
