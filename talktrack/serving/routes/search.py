"""``GET /v1/search``: utterances closest in meaning to a query, with filters; a rep sees only own calls and chats.

Chat and e-mail messages are searched with the calls' lines; ``channel`` keeps one kind."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.routes.deps import ServiceDep

router = APIRouter(prefix="/v1", tags=["search"])
Searcher = Allowed("admin", "coach", "manager", "rep")


@router.get("/search", summary="Semantic search over utterances")
def search(
    caller: Searcher,
    svc: ServiceDep,
    q: str = Query(min_length=1, max_length=2000, description="What to look for, in any language."),
    k: int = Query(10, ge=1, le=200),
    role: Literal["rep", "customer", "unknown"] | None = Query(None, description="Who said it."),
    outcome: Literal["won", "lost", "open"] | None = Query(None, description="How the call's deal ended."),
    language: str | None = Query(None, max_length=16, description="Utterance language: en, zh, mixed."),
    rep: str | None = Query(None, max_length=64, description="Only this rep's calls (external id)."),
    team: str | None = Query(None, max_length=64, description="Only this team's calls (external id)."),
    channel: Literal["call", "chat", "email", "voice_note"] | None = Query(
        None, description="Where it was said: a call, a chat message, an e-mail, a voice message in a chat."),
) -> dict:
    if not q.strip():
        raise ApiError(422, "query.q: the search text is empty")
    access = Access(svc.catalog, caller)
    rep, team = access.pin_rep(rep), access.pin_team(team)
    try:
        hits = svc.utterances.get().search(
            q, k, role=role, rep=rep, team=team, outcome=outcome, language=language, channel=channel
        )
    except ValueError as exc:  # a filter value the index does not accept
        raise ApiError(422, str(exc)) from None
    return {
        "query": q,
        "k": k,
        "filters": {"role": role, "outcome": outcome, "language": language, "rep": rep, "team": team,
                    "channel": channel},
        "hits": [hit.to_dict() for hit in hits],
    }
