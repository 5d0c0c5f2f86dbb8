"""Watermarked quotes and proposals of a deal: issue one, list them, check a file handed in.

``POST /v1/deals/{deal_id}/quotes`` (multipart ``file``, a PDF) answers 201 with the stamped PDF
and the quote id and version in ``X-TalkTrack-Quote-Id`` / ``X-TalkTrack-Quote-Version``;
``GET .../quotes`` lists what was issued; ``POST .../quotes/verify`` says whether a PDF is a quote
TalkTrack issued for this deal, unaltered, with the reasons when it is not. The work is in
:mod:`talktrack.pipelines.quotes`. Scope: a rep issues and checks quotes of own deals, a manager
of the team's; a quote of a deal the caller may not read is named only by its quote id.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePath

from fastapi import APIRouter, File, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from talktrack.pipelines import quotes
from talktrack.serving.access import Access
from talktrack.serving.auth import Allowed
from talktrack.serving.errors import ApiError
from talktrack.serving.routes.deps import ServiceDep
from talktrack.serving.routes.params import ID_PATTERN
from talktrack.serving.state import Service
from talktrack.serving.uploads import UploadLimitRoute

router = APIRouter(prefix="/v1/deals", tags=["quotes"], route_class=UploadLimitRoute)
Issuer = Allowed("admin", "crm", "manager", "rep")
Reader = Allowed("admin", "coach", "crm", "manager", "rep")
DealId = PathParam(min_length=1, max_length=64, pattern=ID_PATTERN, description="The deal's external (CRM) id.")
PdfFile = File(description="The quote or proposal, a PDF.")


@router.post("/{deal_id}/quotes", status_code=201, response_class=Response,
             summary="Stamp a quote/proposal PDF with the deal's watermark; the stamped PDF comes back",
             responses={201: {"content": {"application/pdf": {}}, "description": "The stamped PDF."}})
async def issue(caller: Issuer, svc: ServiceDep, file: UploadFile = PdfFile, deal_id: str = DealId) -> Response:
    await run_in_threadpool(Access(svc.catalog, caller).deal, deal_id, write=True)
    name, data = await run_in_threadpool(_pdf_bytes, svc, file)
    try:
        info, stamped = await run_in_threadpool(quotes.issue_quote_bytes, svc.catalog, deal_id, data,
                                                filename=name, issued_by=caller.actor)
    except quotes.DealNotFound as exc:
        raise ApiError(404, str(exc), code="deal_not_found") from None
    except quotes.QuoteError as exc:
        raise ApiError(422, f"file {name!r}: {_without_path(exc)}") from None
    stem = PurePath(name).stem or "quote"
    headers = {"X-TalkTrack-Quote-Id": info.quote_id, "X-TalkTrack-Quote-Version": str(info.version),
               "Content-Disposition": f'attachment; filename="{_ascii(stem)}-{info.quote_id}.pdf"'}
    return Response(stamped, status_code=201, media_type="application/pdf", headers=headers)


@router.get("/{deal_id}/quotes", summary="The quotes and proposals issued for a deal, newest first")
def list_issued(caller: Reader, svc: ServiceDep, deal_id: str = DealId) -> dict:
    Access(svc.catalog, caller).deal(deal_id)
    issued = quotes.list_quotes(svc.catalog, deal_id)
    return {"deal_id": deal_id, "count": len(issued), "quotes": [q.to_dict() for q in issued]}


@router.post("/{deal_id}/quotes/verify",
             summary="Is this PDF a quote TalkTrack issued for the deal, unaltered? Verdict with reasons")
async def verify(caller: Reader, svc: ServiceDep, file: UploadFile = PdfFile, deal_id: str = DealId) -> dict:
    access = Access(svc.catalog, caller)
    await run_in_threadpool(access.deal, deal_id)
    name, data = await run_in_threadpool(_pdf_bytes, svc, file)
    check = await run_in_threadpool(_check_bytes, svc, deal_id, name, data)
    return as_seen_by(access, check)


def as_seen_by(access: Access, check: quotes.QuoteCheck) -> dict:
    """The answer without the other deal and customer when the caller may not read that deal."""
    answer = check.to_dict()
    if check.quote is not None and check.quote.deal_id != check.deal_id:
        try:
            access.deal(check.quote.deal_id)
        except ApiError:
            answer["quote"] = {"quote_id": check.quote.quote_id, "version": check.quote.version,
                               "deal_id": None, "customer_id": None}
    return answer


def _check_bytes(svc: Service, deal_id: str, name: str, data: bytes) -> quotes.QuoteCheck:
    with tempfile.TemporaryDirectory(prefix="tt-quote-check-") as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(data)
        try:
            return quotes.check_quote(svc.catalog, deal_id, path)
        except quotes.DealNotFound as exc:
            raise ApiError(404, str(exc), code="deal_not_found") from None
        except quotes.QuoteError as exc:
            raise ApiError(422, f"file {name!r}: {_without_path(exc)}") from None


def _pdf_bytes(svc: Service, upload: UploadFile) -> tuple[str, bytes]:
    """The upload's name and bytes: 413 past ``serving.max_document_mb``, 415 when it is not a PDF."""
    name = PurePath(upload.filename or "upload.pdf").name
    limit = int(svc.settings.serving.max_document_mb * 1024 * 1024)
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, f"file {name!r} is larger than serving.max_document_mb "
                            f"({svc.settings.serving.max_document_mb:g} MB)")
    if not data.lstrip()[:5] == b"%PDF-":
        raise ApiError(415, f"file {name!r} is not a PDF (quotes and proposals are stamped as PDF files)")
    return name, data


def _without_path(exc: Exception) -> str:
    """The reason without the server's temporary path (``/tmp/tt-quote-x/source.pdf: ...``)."""
    message = str(exc)
    head, sep, tail = message.partition(": ")
    return tail if sep and head.endswith(".pdf") else message


def _ascii(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in text)[:80]
