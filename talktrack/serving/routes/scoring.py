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
from typing import Annotated

import numpy as np
import pandas as pd
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from talktrack.core.catalog.schema import Deal, Rep, Team
from talktrack.models.features.call_rows import refresh_call_rows
from talktrack.models.features.deal_rows import deal_feature_rows
from talktrack.serving.access import Owner, may_read
from talktrack.serving.auth import Allowed
from talktrack.serving.champion import LoadedModel
from talktrack.serving.errors import ApiError, NotReady
from talktrack.serving.heap import settle_heap
from talktrack.serving.keys import Caller
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.scoring_cache import (
    CacheEntry,
    Refresher,
    RowKeeper,
    feature_cache,
    invalidate_deal_features,
)
from talktrack.serving.state import CUSTOMER_SCORER, Service
from talktrack.training.registry import RegistryError

router = APIRouter(prefix="/v1/score", tags=["scoring"])
# build_deal_table one-hot encodes the industries present among the deals it is given; a deal
# whose industry column is absent from a small request is certainly not of that industry.
ONE_HOT_PREFIXES = ("industry__",)
Scorer = Allowed("admin", "crm", "manager", "ml")
MAX_BATCH = 10000
NAN = float("nan")
REFRESHER_KEY = "scoring.refresher"
ROW_KEEPER_KEY = "scoring.call_rows"
ROWS_EVERY_S = 30.0  # how often the service looks for call feature rows made stale by other writers
SETTLE_AFTER_ROWS = 1000
__all__ = ["router", "score_deals", "invalidate_deal_features"]


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deal_id: str = Field(min_length=1, max_length=64, description="The deal's external (CRM) id.")


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deal_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_BATCH, description="Deal external ids.")


@router.post("", summary="Score one deal", response_model=dict)
async def score(body: ScoreRequest, caller: Scorer, svc: ServiceDep) -> JSONResponse:
    """A cached answer of the current champion is given on the event loop: no thread hop, no
    query. Anything else (features to build, a model to predict with or to load) runs in the
    thread pool."""
    answer = cached_answer(svc, body.deal_id, caller)
    if answer is None:
        answer = (await run_in_threadpool(score_deals, svc, [body.deal_id], caller))[0]
    return json_answer(answer)


@router.post("/batch", summary="Score a batch of deals", response_model=dict)
def score_batch(body: BatchRequest, caller: Scorer, svc: ServiceDep) -> JSONResponse:
    if len(body.deal_ids) > svc.settings.serving.max_batch_rows:
        raise ApiError(
            422,
            f"body.deal_ids: {len(body.deal_ids)} deals; at most "
            f"{svc.settings.serving.max_batch_rows} per batch",
        )
    return json_answer({"scores": score_deals(svc, list(dict.fromkeys(body.deal_ids)), caller)})


def json_answer(answer: dict) -> JSONResponse:
    """The answer written as FastAPI's default wrote it (the same bytes), without its encoder's
    walk over every value first: ~0.2 ms for one deal's answer on a busy machine, the largest
    part of a cached score. Not orjson: it writes 1e-05 as 0.00001 and refuses numpy floats."""
    return JSONResponse(answer)


def score_deals(svc: Service, deal_ids: list[str], caller: Caller) -> list[dict]:
    """Check scope, resolve the champion, take each deal's features from the cache or build them
    as of now, predict the deals without an answer of this champion version."""
    champion = svc.champion(CUSTOMER_SCORER).current()  # 409 first: nothing can be scored without it
    entries = deal_entries(svc, deal_ids, caller)
    unanswered = [deal_id for deal_id in deal_ids if champion.version not in entries[deal_id].answers]
    if unanswered:
        predict_into(entries, unanswered, champion)
    return [entries[deal_id].answers[champion.version] for deal_id in deal_ids]


def cached_answer(svc: Service, deal_id: str, caller: Caller) -> dict | None:
    """The deal's cached answer of the loaded champion, after the caller's scope is checked
    (403); None when answering needs work that may block (then :func:`score_deals` does it all)."""
    champion = svc.champion(CUSTOMER_SCORER).loaded_now()
    if champion is None:
        return None
    cached, stale = feature_cache(svc).get_many([deal_id])
    answer = cached[deal_id].answers.get(champion.version) if deal_id in cached else None
    if answer is None:
        return None
    check_team(caller, {deal_id: cached[deal_id].team})
    if stale:
        refresher(svc).request(stale)
    svc.metrics.count_feature_cache(hits=1, misses=0)
    return answer


def deal_entries(svc: Service, deal_ids: list[str], caller: Caller) -> dict[str, CacheEntry]:
    """Each deal's cache entry, after the caller's scope is checked: the cached ones (stale ones
    are queued for a background rebuild; their team is in the entry, so no query), the others
    checked against the catalog (404, 403), built now and cached."""
    cache = feature_cache(svc)
    entries, stale = cache.get_many(deal_ids)
    check_team(caller, {deal_id: entry.team for deal_id, entry in entries.items()})
    if stale:
        refresher(svc).request(stale)
    missing = [deal_id for deal_id in deal_ids if deal_id not in entries]
    svc.metrics.count_feature_cache(hits=len(entries), misses=len(missing))
    if not missing:
        return entries
    teams = check_deals(svc, missing, caller)
    return entries | build_entries(svc, missing, teams)


def build_entries(svc: Service, deal_ids: list[str], teams: dict[str, str | None]) -> dict[str, CacheEntry]:
    """The deals' features as of now, put in the cache (unless invalidated meanwhile)."""
    cache = feature_cache(svc)
    generation = cache.generation()
    entries = cache.store(cache.entries_of(deal_rows(svc, deal_ids), teams), built_from=generation)
    if len(entries) >= SETTLE_AFTER_ROWS:
        settle_heap()  # thousands of entries that stay: see serving.heap
    return entries


def deal_rows(svc: Service, deal_ids: list[str]) -> dict[str, dict[str, float]]:
    """The deals' feature rows as of now, in plain Python (equal to the batch table's rows:
    :mod:`talktrack.models.features.deal_rows`)."""
    try:
        return deal_feature_rows(svc.catalog, svc.settings, deal_ids)
    except ValueError as exc:  # an empty catalog: nothing dated to score as of
        raise NotReady(str(exc), code="no_data") from None


def rebuild_in_background(svc: Service, deal_ids: list[str]) -> None:
    """The refresher's work: rebuild the deals' features and, when there is a champion, their
    answers, and only then swap them into the cache, so requests never meet an entry without
    its answer (and predict one row at a time)."""
    teams = deal_teams(svc, deal_ids)
    known = [deal_id for deal_id in deal_ids if deal_id in teams]
    if not known:
        return
    cache = feature_cache(svc)
    generation = cache.generation()
    entries = cache.entries_of(deal_rows(svc, known), teams)
    try:
        champion = svc.champion(CUSTOMER_SCORER).current()
    except RegistryError:
        champion = None  # nothing to score with yet: the features alone are cached
    if champion is not None:
        predict_into(entries, list(entries), champion)
    cache.store(entries, built_from=generation)


def refresher(svc: Service) -> Refresher:
    """The service's background rebuilder of stale deals (started on first use)."""
    return svc.shared(REFRESHER_KEY, lambda: Refresher(lambda ids: rebuild_in_background(svc, ids)).start())


def on_startup(svc: Service) -> None:
    """Start the keeper of the call feature rows (missing and stale ones built in the
    background, then again every ``ROWS_EVERY_S``); after its first pass, warm the cache: every
    open deal's features (and scores) built in the background."""
    serving = svc.settings.serving

    def warm() -> None:
        with svc.catalog.session() as session:
            open_deals = list(session.scalars(select(Deal.external_id).where(Deal.status == "open")))
        refresher(svc).request(open_deals)

    warm_up = serving.feature_cache_ttl_s > 0 and serving.feature_cache_warm_open_deals
    svc.shared(ROW_KEEPER_KEY, lambda: RowKeeper(
        lambda: refresh_call_rows(svc.catalog, svc.settings, batch=100, pause_s=0.05), ROWS_EVERY_S,
        after_first=warm if warm_up else None).start())


def on_shutdown(svc: Service) -> None:
    for key in (ROW_KEEPER_KEY, REFRESHER_KEY):
        started = svc.made(key)
        if started is not None:
            started.stop()


def predict_into(entries: dict[str, CacheEntry], deal_ids: list[str], champion: LoadedModel) -> None:
    """The champion's answers for ``deal_ids``, stored in their entries under its version."""
    rows = [entries[deal_id].features for deal_id in deal_ids]
    python_model = champion.python_model()
    if hasattr(python_model, "score_rows"):  # our customer scorer: a numpy matrix, no DataFrame
        scored = python_model.score_rows(model_matrix(rows, python_model.config["features"]))
    else:
        scored = pyfunc_answers(rows, champion)
    model = {"name": champion.name, "version": champion.version}
    for deal_id, answer in zip(deal_ids, scored, strict=True):
        entries[deal_id].answers[champion.version] = {
            "deal_id": deal_id, "probability": answer["p_win"], "tier": answer["tier"],
            "reasons": answer["reasons"], "model": model}


def model_matrix(rows: list[dict[str, float]], names: list[str]) -> np.ndarray:
    """shape: (len(rows), len(names)); what :func:`align_to_model` makes of the same rows, without
    pandas (a never-scored deal's one row): one-hot columns a row lacks are 0, others NaN."""
    absent = [0.0 if name.startswith(ONE_HOT_PREFIXES) else NAN for name in names]
    return np.array([[row.get(name, gap) for name, gap in zip(names, absent, strict=True)] for row in rows],
                    dtype=float)


def pyfunc_answers(rows: list[dict[str, float]], champion: LoadedModel) -> list[dict]:
    """``{p_win, tier, reasons}`` per row through the champion's pyfunc (another flavour of model)."""
    features = align_to_model(pd.DataFrame(rows), champion.model)
    predicted = champion.predict(features)
    return [{"p_win": float(row.p_win), "tier": row.tier, "reasons": json.loads(row.reasons)}
            for row in predicted.itertuples()]


def deal_teams(svc: Service, deal_ids: list[str]) -> dict[str, str | None]:
    """deal id -> its rep's team (external ids), for the deals in the catalog."""
    query = (
        select(Deal.external_id, Team.external_id)
        .join(Rep, Rep.id == Deal.rep_id)
        .outerjoin(Team, Team.id == Rep.team_id)
        .where(Deal.external_id.in_(deal_ids))
    )
    with svc.catalog.engine.connect() as connection:
        return dict(connection.execute(query).all())


def check_deals(svc: Service, deal_ids: list[str], caller: Caller) -> dict[str, str | None]:
    """404 for deals not in the catalog; 403 when a manager asks for another team's deals.
    Returns each deal's team."""
    teams = deal_teams(svc, deal_ids)
    missing = [deal_id for deal_id in deal_ids if deal_id not in teams]
    if missing:
        raise ApiError(
            404,
            f"deals not in the catalog: {', '.join(missing[:5])}"
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""),
            code="deal_not_found",
        )
    check_team(caller, teams)
    return teams


def check_team(caller: Caller, teams: dict[str, str | None]) -> None:
    """403 when any of the deals (deal id -> its team) is out of the caller's read reach. Only the
    team is known here (the cache keeps it), so a role that reaches its own deals only is refused."""
    foreign = [deal_id for deal_id, team in teams.items()
               if not may_read(caller, Owner("deal", deal_id, frozenset(), frozenset({team} - {None})))]
    if foreign:
        raise ApiError(403, f"a {caller.role} key may not read these deals: {', '.join(foreign[:5])}"
                            + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""))


def align_to_model(features: pd.DataFrame, model) -> pd.DataFrame:
    """The model's input columns in its order, as floats: one-hot columns a deal lacks are 0,
    other missing ones NaN (unknown, as the scorer's contract says), columns it was not
    trained on dropped."""
    names = model.metadata.get_input_schema().input_names()
    aligned = features.reindex(columns=names).astype(float)
    one_hot = [name for name in names if name.startswith(ONE_HOT_PREFIXES)]
    aligned[one_hot] = aligned[one_hot].fillna(0.0)
    return aligned
