"""SOP compliance of a call or a posted transcript, key-question coverage of a deal, and evidence checks.

The SOP checker (step example vectors, embedders) and the evidence verifier (its FAISS index and
the customers' facts) load on first use and stay for the service's lifetime (``svc.shared``), so
only the first request pays for them. Scope: a rep sees only their own calls and deals, a manager
their team's; the CRM may post evidence for verification.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from datetime import datetime
from pathlib import Path as FilePath
from pathlib import PurePath
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, UploadFile
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from talktrack.core.catalog.schema import Deal, EvidenceDocument
from talktrack.models.documents import (
    SUPPORTED_SUFFIXES,
    DocumentError,
    DocumentLimits,
    DocumentTooLarge,
    read_document,
)
from talktrack.pipelines.quotes import WATERMARKED_KINDS
from talktrack.pipelines.semantic import sop
from talktrack.pipelines.semantic.evidence import (
    EvidenceError,
    catalog_stamp,
    open_verifier,
    verify_deal,
    verify_evidence,
    verify_screenshot,
)
from talktrack.pipelines.semantic.evidence.screenshot import IMAGE_SUFFIXES, SCREENSHOT_KINDS
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.keys import Caller
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN
from talktrack.serving.state import Service

router = APIRouter(prefix="/v1", tags=["SOP, key questions and evidence"])
Reader = Allowed("admin", "coach", "manager", "rep")
EvidencePoster = Allowed("admin", "coach", "manager", "rep", "crm")
DealId = Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="The deal's external (CRM) id.")
MAX_TEXT_CHARS = 200_000
# "Rep: ..." / "客户：..." at the start of a line names who speaks in a plain-text transcript.
_SPEAKER = re.compile(r"^\s*(rep|sales|seller|agent|销售|customer|client|buyer|prospect|客户)\s*[:：]\s*", re.I)
_REP_LABELS = {"rep", "sales", "seller", "agent", "销售"}


class UtteranceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["rep", "customer", "unknown"]
    text: str = Field(min_length=1, max_length=20_000)
    start_s: float | None = Field(None, ge=0, le=86_400)
    end_s: float | None = Field(None, ge=0, le=86_400)


class SopCheckIn(BaseModel):
    """What to check: a catalog call (``call_id``), or a transcript as ``text`` or ``utterances``.

    ``text``: lines, each optionally starting with who speaks (``Rep:``, ``Customer:``, ``销售：``,
    ``客户：``); an unlabelled line continues the previous speaker (the rep at the start).
    """

    model_config = ConfigDict(extra="forbid")
    call_id: str | None = Field(None, min_length=1, max_length=64)
    text: str | None = Field(None, min_length=1, max_length=MAX_TEXT_CHARS)
    utterances: list[UtteranceIn] | None = Field(None, min_length=1, max_length=5000)
    stage: str | None = Field(None, min_length=1, max_length=32, description="Stage key (needed for a transcript).")
    language: str = Field("en", pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$|^mixed$", max_length=16)
    channel: str | None = Field(None, min_length=1, max_length=16)
    sop: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        [], max_length=10, description="Scenario SOPs to add, e.g. store_visit.")

    @model_validator(mode="after")
    def _one_source(self):
        given = [name for name in ("call_id", "text", "utterances") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of call_id, text, utterances (got {', '.join(given) or 'none'})")
        if self.call_id is None and self.stage is None:
            raise ValueError("a transcript needs its stage (e.g. qualification)")
        return self

    @model_validator(mode="after")
    def _bounded_text(self):
        """All utterances together hold no more text than ``text`` may (5000 x 20000 would be 100M)."""
        total = sum(len(utterance.text) for utterance in self.utterances or ())
        if total > MAX_TEXT_CHARS:
            raise ValueError(f"utterances: {total} characters in all; at most {MAX_TEXT_CHARS} per request "
                             "(check a long call in parts)")
        return self


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deal_id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="The document's text.")
    kind: str = Field("meeting_notes", min_length=1, max_length=32, description="Evidence kind.")
    submitted_at: datetime | None = Field(None, description="When it was submitted; enables the timing check.")
    evidence_id: str | None = Field(None, min_length=1, max_length=64,
                                    description="Its id when it is already in the catalog (not its own copy).")


# -- SOP ------------------------------------------------------------------------------------------
@router.post("/sop/check", summary="Which SOP steps a call or transcript covered; suggestions for the missing")
def sop_check(body: SopCheckIn, caller: Reader, svc: ServiceDep) -> dict:
    if body.stage is not None:
        _known_stage(svc, body.stage)
    checker = sop_checker(svc)
    try:
        if body.call_id is not None:
            _check_call_scope(svc, caller, body.call_id)
            result = sop.check_call(svc.catalog, svc.settings, svc.workspace, body.call_id, stage=body.stage,
                                    sop=tuple(body.sop))
        else:
            result = checker.check([_transcript_input(body)], tuple(body.sop))[0]
    except sop.SopNotFoundError as exc:
        raise ApiError(404, str(exc), code="call_not_found") from None
    except KeyError as exc:  # an unknown scenario SOP name
        raise ApiError(422, f"body.sop: {exc.args[0]}") from None
    except ValueError as exc:  # a call without a stage
        raise ApiError(422, str(exc)) from None
    return result.to_dict()


@router.get("/deals/{deal_id}/key-questions", summary="Per stage of a deal: key questions covered and never covered")
def key_questions(caller: Reader, svc: ServiceDep, deal_id: str = DealId) -> dict:
    Access(svc.catalog, caller).deal(deal_id)
    sop_checker(svc)
    try:
        return sop.deal_key_questions(svc.catalog, svc.settings, svc.workspace, deal_id)
    except sop.SopNotFoundError as exc:
        raise ApiError(404, str(exc), code="deal_not_found") from None


def sop_checker(svc: Service) -> sop.SopChecker:
    """The service's SOP checker (the same one :mod:`sop`'s functions use for this catalog)."""
    return svc.shared("compliance.sop_checker", lambda: sop.checker(svc.catalog, svc.settings, svc.workspace))


def _transcript_input(body: SopCheckIn) -> sop.CallInput:
    turns = _text_turns(body.text) if body.text is not None else [
        (u.role, u.text, u.start_s or 0.0, u.end_s if u.end_s is not None else (u.start_s or 0.0))
        for u in body.utterances]
    # every role goes in: a customer's line is the answer to the rep question before it
    sentences = sop.rep_sentences([(seq, start, end, role, text) for seq, (role, text, start, end) in enumerate(turns)])
    if not sentences:
        raise ApiError(422, "the transcript has no rep sentence: label the rep's lines (`Rep: ...`) "
                            "or give utterances with role 'rep'")
    return sop.CallInput(None, None, body.stage, body.channel, body.language, sentences)


def _text_turns(text: str) -> list[tuple[str, str, float, float]]:
    """(role, text, start, end) per non-empty line of a plain-text transcript (no times: 0)."""
    turns, role = [], "rep"
    for line in text.splitlines():
        label = _SPEAKER.match(line)
        if label:
            role = "rep" if label.group(1).lower() in _REP_LABELS else "customer"
            line = line[label.end():]
        if line.strip():
            turns.append((role, line.strip(), 0.0, 0.0))
    return turns


def _known_stage(svc: Service, stage: str) -> None:
    if stage not in svc.settings.stage_keys:
        raise ApiError(422, f"body.stage: {stage!r} is not a stage; known: {', '.join(svc.settings.stage_keys)}")


def _check_call_scope(svc: Service, caller: Caller, call_id: str) -> None:
    Access(svc.catalog, caller).call(call_id)


# -- evidence -------------------------------------------------------------------------------------
class EvidenceHolder:
    """The evidence verifier, opened on first use (it syncs the evidence index); one check at a time.

    Before each check two small queries compare the catalog with what the verifier was opened on:
    new or re-imported evidence re-opens it (the index embeds only what changed; the embedding
    models stay loaded), new or re-imported calls drop its cached call facts.
    """

    def __init__(self, svc: Service) -> None:
        self.svc = svc
        self.lock = threading.Lock()
        self._verifier = None
        self._stamp: tuple[tuple, tuple] | None = None

    def run(self, check):
        with self.lock:
            stamp = catalog_stamp(self.svc.catalog)
            if self._verifier is None or stamp[0] != self._stamp[0]:
                embedders = None if self._verifier is None else self._verifier.index.embedders
                self._verifier = open_verifier(self.svc.catalog, self.svc.settings, self.svc.workspace,
                                               embedders=embedders)
            elif stamp[1] != self._stamp[1]:
                self._verifier.forget_facts()
            self._stamp = stamp
            return check(self._verifier)


@router.post("/evidence/verify", summary="Is this document real evidence for the deal? Verdict with reasons")
def evidence_verify(body: EvidenceIn, caller: EvidencePoster, svc: ServiceDep) -> dict:
    return _verify_text(svc, caller, body.deal_id, body.text, body.kind, body.submitted_at, body.evidence_id)


@router.post("/evidence/verify-file", summary="Verify an uploaded document (.txt, .md, .pdf, .docx; a calendar "
                                               "screenshot .png/.jpg read by OCR)")
async def evidence_verify_file(
    caller: EvidencePoster,
    svc: ServiceDep,
    file: UploadFile = File(description="The document: .txt, .md, .pdf or .docx; with kind=calendar a screenshot "
                                        "(.png, .jpg, ...)."),
    deal_id: str = Form(min_length=1, max_length=64),
    kind: str = Form("meeting_notes", min_length=1, max_length=32),
) -> dict:
    from starlette.concurrency import run_in_threadpool

    # The kind and the caller's reach of the deal before the document is read: reading costs the most.
    await run_in_threadpool(_check_target, svc, caller, deal_id, kind)
    if kind in SCREENSHOT_KINDS and PurePath(file.filename or "").suffix.lower() in IMAGE_SUFFIXES:
        return await run_in_threadpool(_verify_screenshot, svc, caller, deal_id, file)
    text = await run_in_threadpool(_document_text, svc, file)
    with tempfile.TemporaryDirectory(prefix="tt-evidence-") as folder:
        document = await run_in_threadpool(_watermarked_copy, file, kind, FilePath(folder))
        return await run_in_threadpool(_verify_text, svc, caller, deal_id, text, kind, None, None, document)


@router.get("/deals/{deal_id}/evidence", summary="Every evidence document of a deal checked: fake progress?")
def deal_evidence(caller: Reader, svc: ServiceDep, deal_id: str = DealId) -> dict:
    access = Access(svc.catalog, caller)
    access.deal(deal_id)
    try:
        report = evidence(svc).run(lambda v: verify_deal(svc.catalog, svc.settings, svc.workspace, deal_id,
                                                         verifier=v))
    except EvidenceError as exc:
        raise ApiError(404, str(exc), code="deal_not_found") from None
    report.items = [_as_seen_by(access, item) for item in report.items]
    return report.to_dict() | {"counts": report.counts()}


def _as_seen_by(access: Access, verdict):
    """The verdict without other customers' evidence ids, deals and passages the caller may not read."""
    evidence_ids, call_ids = verdict.referenced()
    return verdict.redacted(access.readable_evidence(evidence_ids), access.readable_calls(call_ids))


def evidence(svc: Service) -> EvidenceHolder:
    return svc.shared("compliance.evidence", lambda: EvidenceHolder(svc))


def _watermarked_copy(upload: UploadFile, kind: str, folder: FilePath) -> FilePath | None:
    """A proposal/quote PDF, copied where its watermark can be checked (None for other documents)."""
    if kind not in WATERMARKED_KINDS or PurePath(upload.filename or "").suffix.lower() != ".pdf":
        return None
    path = folder / "document.pdf"
    upload.file.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out)
    return path


def _verify_screenshot(svc: Service, caller: Caller, deal_id: str, upload: UploadFile) -> dict:
    """A calendar screenshot: the date, time and customer OCR reads on it, matched to the deal (413 past
    ``serving.max_document_mb``; an unreadable image is a verdict with its reason, not an error)."""
    with tempfile.TemporaryDirectory(prefix="tt-evidence-") as folder:
        path = _saved_upload(svc, upload, FilePath(folder))
        verdict = evidence(svc).run(lambda v: verify_screenshot(svc.catalog, svc.settings, svc.workspace, deal_id,
                                                                path, verifier=v))
    return _as_seen_by(Access(svc.catalog, caller), verdict).to_dict()


def _verify_text(svc: Service, caller: Caller, deal_id: str, text: str, kind: str,
                 submitted_at: datetime | None, evidence_id: str | None, document: FilePath | None = None) -> dict:
    _known_kind(svc, kind)
    access = Access(svc.catalog, caller)
    access.deal(deal_id)
    if evidence_id is not None:
        _check_evidence_of_deal(svc, evidence_id, deal_id)
    if submitted_at is not None and submitted_at.tzinfo is not None:
        submitted_at = _naive_utc(submitted_at)
    try:
        verdict = evidence(svc).run(lambda v: verify_evidence(
            svc.catalog, svc.settings, svc.workspace, deal_id, text, exclude_evidence_id=evidence_id,
            submitted_at=submitted_at, kind=kind, verifier=v, document=document))
    except EvidenceError as exc:  # e.g. a document with only whitespace
        raise ApiError(422, str(exc)) from None
    return _as_seen_by(access, verdict).to_dict()


def _known_kind(svc: Service, kind: str) -> None:
    if kind not in svc.settings.evidence_kinds:
        raise ApiError(422, f"kind {kind!r} is not an evidence kind; known: {', '.join(svc.settings.evidence_kinds)}")


def _check_target(svc: Service, caller: Caller, deal_id: str, kind: str) -> None:
    """422 for an unknown evidence kind; 404 or 403 for a deal out of the caller's reach."""
    _known_kind(svc, kind)
    Access(svc.catalog, caller).deal(deal_id)


def _check_evidence_of_deal(svc: Service, evidence_id: str, deal_id: str) -> None:
    """``evidence_id`` names this deal's own evidence (422 otherwise: it would exclude another's document)."""
    with svc.catalog.session() as session:
        found = session.scalar(select(Deal.external_id).join(EvidenceDocument, EvidenceDocument.deal_id == Deal.id)
                               .where(EvidenceDocument.external_id == evidence_id))
    if found != deal_id:
        raise ApiError(422, f"body.evidence_id: {evidence_id!r} is not evidence of deal {deal_id!r}")


def _document_text(svc: Service, upload: UploadFile) -> str:
    """The upload's text; 415 for a type we cannot read, 413 past ``serving.max_document_mb`` or a
    reading limit (its text, a .docx's unpacked size, a PDF's pages: :func:`document_limits`),
    422 unreadable."""
    name = PurePath(upload.filename or "").name
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ApiError(415, f"file {name!r}: unsupported type {suffix or '(none)'!r}; send one of "
                            f"{', '.join(SUPPORTED_SUFFIXES)}")
    limits = document_limits(svc)
    with tempfile.TemporaryDirectory(prefix="tt-evidence-") as folder:
        path = _saved_upload(svc, upload, FilePath(folder))
        try:
            return read_document(path, limits=limits)
        except DocumentTooLarge as exc:
            raise ApiError(413, f"file {name!r}: {exc.reason}") from None
        except DocumentError as exc:
            raise ApiError(422, f"file {name!r}: {exc.reason}") from None


def _saved_upload(svc: Service, upload: UploadFile, folder: FilePath) -> FilePath:
    """The upload written to ``folder`` (its suffix kept); 413 past ``serving.max_document_mb``."""
    name = PurePath(upload.filename or "").name
    max_bytes = document_limits(svc).max_bytes
    size = upload.size if upload.size is not None else _stream_size(upload)
    if size > max_bytes:
        raise ApiError(413, f"file {name!r} is {size} bytes; at most {max_bytes} "
                            f"(serving.max_document_mb = {svc.settings.serving.max_document_mb:g})")
    path = folder / f"upload{PurePath(name).suffix.lower()}"
    upload.file.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out)
    return path


def document_limits(svc: Service) -> DocumentLimits:
    """What reading one uploaded document may cost: its bytes (``serving.max_document_mb``), and as
    much text as ``POST /v1/evidence/verify`` takes (:data:`MAX_TEXT_CHARS`)."""
    return DocumentLimits(max_bytes=int(svc.settings.serving.max_document_mb * 1024 * 1024),
                          max_chars=MAX_TEXT_CHARS)


def _stream_size(upload: UploadFile) -> int:
    upload.file.seek(0, 2)
    return upload.file.tell()


def _naive_utc(value: datetime) -> datetime:
    from talktrack.pipelines.stage_timers import as_naive_utc

    try:
        return as_naive_utc(value)
    except (OverflowError, ValueError):
        raise ApiError(422, f"body.submitted_at: {value.isoformat()} cannot be expressed in UTC (years 1-9999)") from None
