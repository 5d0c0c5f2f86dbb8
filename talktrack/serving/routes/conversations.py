"""``GET /v1/deals/{deal_id}/conversations?last=3&topic=competitor``: the deal's customer's last N
conversations on every channel (calls, chats, e-mail threads), each with whether and where the topic
came up, with the passages (without ``topic``: the conversations alone, as the deal page first lists them).

Role scope as for the other deal routes: the caller must be able to read the deal (a rep their own, a
manager the team's; admin, coach, director and the CRM all), and only the customer's conversations
under deals the caller may read are counted. The topic's kind decides which model runs: the moment
detector the service keeps loaded for objections, the SOP checker for key questions, the shared
multilingual embedder for free text. The work is in :mod:`talktrack.pipelines.conversations`.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from talktrack.pipelines import conversations as topics
from talktrack.serving.access import Access, Owner
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.jobs import moment_model
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN
from talktrack.serving.state import Service

router = APIRouter(prefix="/v1/deals", tags=["deals"])
Reader = Allowed("admin", "coach", "crm", "director", "manager", "rep")
DealId = PathParam(min_length=1, max_length=64, pattern=ID_PATTERN, description="The deal's external (CRM) id.")


@router.get("/{deal_id}/conversations",
            summary="The customer's last N conversations, any channel, and whether and where a topic came up")
async def conversations(
    caller: Reader,
    svc: ServiceDep,
    deal_id: str = DealId,
    last: int = Query(3, ge=1, le=topics.MAX_LAST, description="How many of the newest conversations."),
    topic: str | None = Query(None, min_length=1, max_length=300,
                              description="An objection type (competitor), a key question (budget) or free text; "
                                          "prefix objection:, key_question: or text: to force the kind. "
                                          "Without it: the conversations alone."),
) -> dict:
    access = Access(svc.catalog, caller)
    await run_in_threadpool(access.deal, deal_id)
    try:
        parsed = topics.parse_topic(svc.settings, topic) if topic is not None else None
    except topics.TopicError as exc:
        raise ApiError(422, f"query.topic: {exc}") from None
    return await run_in_threadpool(_answer, svc, access, deal_id, parsed, last)


def _answer(svc: Service, access: Access, deal_id: str, topic: topics.Topic | None, last: int) -> dict:
    if topic is None:   # the list alone: no model, so no wait for the shared detector
        return _run(svc, access, deal_id, None, last, topics.TopicModels())
    model = moment_model(svc)
    with model.lock:   # the detector's embedder is shared with the job worker and field notes
        return _run(svc, access, deal_id, _as_typed(topic), last, _models(svc, topic, model))


def _run(svc: Service, access: Access, deal_id: str, topic: str | None, last: int,
         models: topics.TopicModels) -> dict:
    try:
        return topics.topic_in_conversations(svc.catalog, svc.settings, deal_id, topic, last=last, models=models,
                                             readable=lambda deal: _readable(access, deal))
    except topics.ConversationsError as exc:
        raise ApiError(404, str(exc), code="deal_not_found") from None
    except topics.TopicError as exc:
        raise ApiError(422, f"query.topic: {exc}") from None


def _as_typed(topic: topics.Topic) -> str:
    return f"{topic.kind}:{topic.key}"


def _models(svc: Service, topic: topics.Topic, model) -> topics.TopicModels:
    """Only the model the topic's kind needs is loaded."""
    from talktrack.pipelines.semantic.moments import moment_embedder
    from talktrack.pipelines.semantic.sop_checker import checker

    if topic.kind == "objection":
        return topics.TopicModels(detector=model.get())
    if topic.kind == "key_question":
        return topics.TopicModels(checker=checker(svc.catalog, svc.settings, svc.workspace))
    return topics.TopicModels(embedder=moment_embedder(svc.settings, svc.workspace))


def _readable(access: Access, deal_id: str | None) -> bool:
    """A conversation filed under no deal is shown to those who may read every deal only."""
    try:
        if deal_id is None:
            access.check(Owner("deal", ""))
        else:
            access.deal(deal_id)
    except ApiError:
        return False
    return True
