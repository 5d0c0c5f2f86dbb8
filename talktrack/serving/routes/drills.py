"""Virtual-customer drills: start one, answer the customer (typed or spoken), end it, read them back.

A rep starts their own drills; a coach or admin may start one for a named rep. Reading is
scoped: a rep sees only their own drills, a manager their team's, a coach or admin all.
The drill bank is built on the first drill the service starts (see
:mod:`talktrack.pipelines.drills`); turns after that take tens of milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from talktrack.models.audio import AudioError
from talktrack.pipelines.drills import (
    DrillEnded,
    DrillEngine,
    DrillError,
    DrillNotFound,
    DrillNotReady,
    load_drill_book,
)
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.disclosure import redact_calls
from talktrack.serving.errors import ApiError, NotReady
from talktrack.serving.keys import Caller
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.quotas import DrillQuota
from talktrack.serving.routes.params import ID_PATTERN
from talktrack.serving.state import Service

router = APIRouter(prefix="/v1/drills", tags=["virtual customer drills"])
Practiser = Allowed("rep", "coach", "admin")
Reader = Allowed("rep", "manager", "coach", "admin")
DrillId = Path(min_length=1, max_length=32, pattern=ID_PATTERN, description="The drill's id (from POST /v1/drills).")
MAX_AUDIO_BYTES = 10 * 1024 * 1024
TURN_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {
            "type": "object", "additionalProperties": False, "required": ["text"],
            "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 4000}}}},
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["audio"],
            "properties": {"audio": {"type": "string", "format": "binary",
                                     "description": "The spoken answer (wav, mp3, m4a, ...; at most 10 MB)."}}}},
    },
}


class Scenario(BaseModel):
    """What to practise; ``rep_id`` only when a coach or admin starts a drill for a rep."""

    model_config = ConfigDict(extra="forbid")
    objection_type: str = Field(min_length=1, max_length=32, description="e.g. price, competitor, timing.")
    persona: str = Field(min_length=1, max_length=32, description="e.g. analytical, skeptical, busy_executive.")
    language: str = Field("en", min_length=1, max_length=8, description="en or zh.")
    rep_id: str | None = Field(None, min_length=1, max_length=64, description="The rep (coach/admin only).")


class TypedAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000, description="What the rep answers the customer.")


def engine(svc: Service) -> DrillEngine:
    """The service's drill engine: ``settings.drills`` and the book it names (one per process)."""
    return svc.shared("drills.engine", lambda: DrillEngine(svc.catalog, svc.settings, svc.workspace,
                                                           load_drill_book(svc.settings.drills)))


@contextmanager
def drill_errors() -> Iterator[None]:
    """Domain errors of drills as HTTP errors (the shared error table is not this module's)."""
    try:
        yield
    except DrillError as exc:
        raise ApiError(422, str(exc)) from None
    except DrillNotFound as exc:
        raise ApiError(404, str(exc), code="drill_not_found") from None
    except DrillEnded as exc:
        raise ApiError(409, str(exc), code="drill_ended") from None
    except DrillNotReady as exc:
        raise NotReady(str(exc), code="no_drill_data") from None
    except AudioError as exc:
        raise ApiError(422, f"audio: {exc.reason}; send a recording of the spoken answer", code="bad_audio") from None


@router.post("", summary="Start a drill: the virtual customer's opening line", status_code=201)
def start(body: Scenario, caller: Practiser, _quota: DrillQuota, svc: ServiceDep) -> dict:
    rep, team = drill_rep(svc, caller, body.rep_id)
    with drill_errors():
        drills = engine(svc)
        drills.check_scenario(body.objection_type, body.persona, body.language)  # 422 before the bank is built
        drills.warm_up()
        started = drills.start(body.objection_type, body.persona, body.language, rep=rep, team=team,
                               actor=caller.actor)
    return redact_calls(Access(svc.catalog, caller), started)


def drill_rep(svc: Service, caller: Caller, requested: str | None) -> tuple[str, str | None]:
    """(rep, team) the drill belongs to: a rep key's own rep; the named rep for a coach/admin."""
    access = Access(svc.catalog, caller)
    rep = access.pin_rep(requested)
    if rep is None:
        raise ApiError(422, "body.rep_id: name the rep (external id) this drill is for")
    owner = access.rep(rep, write=True)
    return rep, next(iter(owner.teams), None)


def check_access(svc: Service, caller: Caller, drill_id: str, *, write: bool = False) -> dict:
    """The drill's owner; 403 when it is out of the caller's reach (another rep's, another team's)."""
    with drill_errors():
        owner = engine(svc).owner(drill_id)
    Access(svc.catalog, caller).drill(owner, drill_id, write=write)
    return owner


@router.post("/{drill_id}/turns", summary="Answer the customer (JSON text or multipart audio)",
             openapi_extra={"requestBody": TURN_BODY})
async def turn(request: Request, caller: Practiser, _quota: DrillQuota, svc: ServiceDep,
               drill_id: str = DrillId) -> dict:
    await run_in_threadpool(lambda: check_access(svc, caller, drill_id, write=True))
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        text = parse_typed_answer(await request.body())
        answered = await run_in_threadpool(_turn, svc, drill_id, text, "text")
        return await run_in_threadpool(redact_calls, Access(svc.catalog, caller), answered)
    if kind == "multipart/form-data":
        data, name = await _audio(request)
        answered = await run_in_threadpool(_spoken_turn, svc, drill_id, data, name)
        return await run_in_threadpool(redact_calls, Access(svc.catalog, caller), answered)
    raise ApiError(415, f"content type {kind or 'none'!r}: send application/json {{\"text\": ...}} or "
                        "multipart/form-data with an `audio` file")


def parse_typed_answer(raw: bytes) -> str:
    """The answer text of a JSON body (declared in the OpenAPI body above, read by hand because the
    route also takes multipart audio); 422 naming what is wrong."""
    try:
        text = TypedAnswer.model_validate(json.loads(raw or b"null")).text
        text.encode("utf-8")  # a lone surrogate ("\\ud800") would reach the encoders
        return text
    except ValidationError as exc:
        reason = "; ".join(f"body.{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else f"body: {e['msg']}"
                           for e in exc.errors())
    except UnicodeEncodeError:
        reason = "body.text: not valid Unicode text (a lone surrogate)"
    except ValueError as exc:  # not JSON (JSONDecodeError, bad UTF-8)
        reason = f"body: not JSON ({exc})"
    raise ApiError(422, f'{reason}; expected {{"text": "your answer"}}')


async def _audio(request: Request) -> tuple[bytes, str]:
    try:
        form = await request.form(max_files=1, max_fields=4)
    except Exception as exc:  # starlette raises its own MultiPartException/HTTPException on a bad form
        raise ApiError(422, f"body: not a readable multipart form ({exc})") from None
    upload = form.get("audio")
    if not isinstance(upload, UploadFile):
        raise ApiError(422, "body.audio: missing; send the spoken answer as a file field named `audio`")
    data = await upload.read(MAX_AUDIO_BYTES + 1)
    if len(data) > MAX_AUDIO_BYTES:
        raise ApiError(413, f"body.audio: over {MAX_AUDIO_BYTES // (1024 * 1024)} MB; send a shorter answer")
    return data, upload.filename or "answer"


def _turn(svc: Service, drill_id: str, text: str, source: str) -> dict:
    with drill_errors():
        return engine(svc).turn(drill_id, text, source=source)


def _spoken_turn(svc: Service, drill_id: str, data: bytes, name: str) -> dict:
    with drill_errors():
        drills = engine(svc)
        text = drills.transcribe(data, name)
        if not text:
            raise ApiError(422, "body.audio: no speech recognised; record the answer again, closer to the mic")
        return drills.turn(drill_id, text, source="audio")


@router.post("/{drill_id}/end", summary="End a drill: its summary, stored for the rep and their manager")
def end(caller: Practiser, svc: ServiceDep, drill_id: str = DrillId) -> dict:
    check_access(svc, caller, drill_id, write=True)
    with drill_errors():
        return redact_calls(Access(svc.catalog, caller), engine(svc).end(drill_id))


@router.get("", summary="Drills: a rep's own, a manager's team's, everyone's for a coach or admin")
def drills(
    caller: Reader,
    svc: ServiceDep,
    rep_id: str | None = Query(None, min_length=1, max_length=64, description="Only this rep's drills."),
    team_id: str | None = Query(None, min_length=1, max_length=64, description="Only this team's drills."),
    status: Literal["active", "ended"] | None = Query(None),
    limit: int = Query(50, ge=1, le=500),
) -> dict:
    access = Access(svc.catalog, caller)
    rep, team = access.pin_rep(rep_id), access.pin_team(team_id)
    return {"drills": redact_calls(access, engine(svc).list(rep=rep, team=team, status=status, limit=limit)),
            "filters": {"rep_id": rep, "team_id": team, "status": status}}


@router.get("/{drill_id}", summary="One drill with its turns and summary")
def drill(caller: Reader, svc: ServiceDep, drill_id: str = DrillId) -> dict:
    check_access(svc, caller, drill_id)
    with drill_errors():
        return redact_calls(Access(svc.catalog, caller), engine(svc).get(drill_id))
