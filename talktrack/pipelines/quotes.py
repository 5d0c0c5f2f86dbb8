"""Watermarked quotes and proposals: issue one for a deal, check a file someone hands in.

Issuing stamps the PDF (:mod:`talktrack.models.pdf_watermark`) with a mark naming a new quote id,
the deal, its customer, the deal's next version number and the hash of the original file, and
records the issue in the catalog (``issued_quotes``) with the fingerprints of every stamped page.

Checking a file answers: is this a TalkTrack document, issued for *this* deal (and customer),
and exactly what was issued? The catalog record is the authority; the marks in the file only
say which record to compare with. Reasons name what failed::

    no_watermark      no TalkTrack mark anywhere (never issued, or the mark was stripped)
    unknown_quote     a mark whose quote id was never issued (forged)
    mark_mismatch     the mark's deal/customer/version/hash disagree with the issued record
    mixed_marks       the file carries the marks of more than one quote (pages spliced together)
    mark_missing      some pages or the document information lost their mark (partly stripped)
    other_deal        issued for another deal (``other_customer`` too when the customer differs)
    pages_added / pages_removed / pages_changed    the pages differ from what was issued

    >>> quote = issue_quote(catalog, "DEAL-00042", Path("offer.pdf"), Path("offer.tt.pdf"))  # doctest: +SKIP
    >>> check_quote(catalog, "DEAL-00042", Path("offer.tt.pdf")).genuine                    # doctest: +SKIP
    True
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from talktrack.core.catalog.schema import Customer, Deal, IssuedQuote
from talktrack.core.clock import utcnow
from talktrack.models.pdf_watermark import (
    Mark,
    PageFingerprint,
    PdfMarks,
    WatermarkError,
    file_sha256,
    read_marks,
    stamp_pdf,
)

WATERMARKED_KINDS = ("proposal", "quote")
ISSUE_ATTEMPTS = 3  # two issues for one deal at once both take the next version: the loser retries


class QuoteError(ValueError):
    """A quote that cannot be issued or checked (unknown deal, unreadable PDF); the message says why."""


class DealNotFound(QuoteError, LookupError):
    """No deal with that external id."""


@dataclass(frozen=True)
class QuoteReason:
    code: str
    message: str

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class IssuedQuoteInfo:
    """One issued quote as a listing or an issue answer shows it."""

    quote_id: str
    deal_id: str
    customer_id: str
    version: int
    filename: str | None
    page_count: int
    source_sha256: str
    stamped_sha256: str
    issued_by: str | None
    issued_at: datetime

    def to_dict(self) -> dict:
        return {"quote_id": self.quote_id, "deal_id": self.deal_id, "customer_id": self.customer_id,
                "version": self.version, "filename": self.filename, "page_count": self.page_count,
                "source_sha256": self.source_sha256, "stamped_sha256": self.stamped_sha256,
                "issued_by": self.issued_by, "issued_at": self.issued_at.isoformat(timespec="seconds")}


@dataclass
class QuoteCheck:
    """The answer on one file: ``genuine`` only when every check passed; ``reasons`` say what failed.

    ``quote``: the issued quote the file's mark points at (None when there is none or it is unknown);
    ``issued_for_deal``: that quote's deal, which a caller may need to hide from a reader.
    """

    deal_id: str
    genuine: bool
    quote: IssuedQuoteInfo | None
    reasons: list[QuoteReason] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    def to_dict(self) -> dict:
        return {"deal_id": self.deal_id, "genuine": self.genuine, "verdict": "genuine" if self.genuine else "flagged",
                "quote": self.quote.to_dict() if self.quote else None,
                "reasons": [r.to_dict() for r in self.reasons]}


# -- issuing ------------------------------------------------------------------------------------------
def issue_quote(catalog, deal_id: str, source: Path, out: Path, *, issued_by: str | None = None,
                filename: str | None = None) -> IssuedQuoteInfo:
    """Stamp ``source`` for ``deal_id`` into ``out`` and record it; the record of the issue."""
    deal_pk, customer_pk, customer_ext, customer_name = _deal_row(catalog, deal_id)
    source_hash = _file_hash(source)
    for _ in range(ISSUE_ATTEMPTS):
        version = _next_version(catalog, deal_pk)
        mark = Mark(f"Q-{secrets.token_hex(6).upper()}", deal_id, customer_ext, version, source_hash)
        label = f"TalkTrack · {customer_name} · {deal_id} · v{version}"
        pages = _stamp(source, out, mark, label)
        row = IssuedQuote(quote_id=mark.quote_id, deal_id=deal_pk, customer_id=customer_pk, version=version,
                          filename=filename or Path(source).name, source_sha256=source_hash,
                          stamped_sha256=file_sha256(out), page_count=len(pages),
                          fingerprints=[p.to_list() for p in pages], issued_by=issued_by, issued_at=utcnow())
        try:
            with catalog.session() as session:
                session.add(row)
                session.flush()
        except IntegrityError:  # another issue took this version first
            continue
        return _info(row, deal_id, customer_ext)
    raise QuoteError(f"deal {deal_id!r}: could not take a version number after {ISSUE_ATTEMPTS} tries")


def issue_quote_bytes(catalog, deal_id: str, data: bytes, *, filename: str | None = None,
                      issued_by: str | None = None) -> tuple[IssuedQuoteInfo, bytes]:
    """:func:`issue_quote` for a PDF held in memory (an upload): the record and the stamped bytes."""
    with tempfile.TemporaryDirectory(prefix="tt-quote-") as folder:
        source, out = Path(folder) / "source.pdf", Path(folder) / "stamped.pdf"
        source.write_bytes(data)
        info = issue_quote(catalog, deal_id, source, out, issued_by=issued_by, filename=filename)
        return info, out.read_bytes()


def list_quotes(catalog, deal_id: str) -> list[IssuedQuoteInfo]:
    """The quotes issued for a deal, newest version first."""
    deal_pk, _, customer_ext, _ = _deal_row(catalog, deal_id)
    with catalog.session() as session:
        rows = session.scalars(select(IssuedQuote).where(IssuedQuote.deal_id == deal_pk)
                               .order_by(IssuedQuote.version.desc())).all()
        return [_info(row, deal_id, customer_ext) for row in rows]


def _stamp(source: Path, out: Path, mark: Mark, label: str) -> list[PageFingerprint]:
    try:
        return stamp_pdf(source, out, mark, label)
    except WatermarkError as exc:
        raise QuoteError(str(exc)) from None


def _file_hash(path: Path) -> str:
    if not Path(path).is_file():
        raise QuoteError(f"{path}: no such file")
    return file_sha256(path)


def _next_version(catalog, deal_pk: int) -> int:
    with catalog.session() as session:
        return int(session.scalar(select(func.coalesce(func.max(IssuedQuote.version), 0))
                                  .where(IssuedQuote.deal_id == deal_pk))) + 1


def _deal_row(catalog, deal_id: str) -> tuple[int, int, str, str]:
    with catalog.session() as session:
        row = session.execute(select(Deal.id, Customer.id, Customer.external_id, Customer.name)
                              .join(Customer, Customer.id == Deal.customer_id)
                              .where(Deal.external_id == deal_id)).first()
    if row is None:
        raise DealNotFound(f"deal {deal_id!r} is not in the catalog")
    return tuple(row)


def _info(row: IssuedQuote, deal_id: str, customer_ext: str) -> IssuedQuoteInfo:
    return IssuedQuoteInfo(row.quote_id, deal_id, customer_ext, row.version, row.filename, row.page_count,
                           row.source_sha256, row.stamped_sha256, row.issued_by, row.issued_at)


# -- checking -----------------------------------------------------------------------------------------
def check_quote(catalog, deal_id: str, path: Path) -> QuoteCheck:
    """Is ``path`` a quote TalkTrack issued for ``deal_id``, unaltered? (:class:`QuoteError` when unreadable)."""
    deal_pk, customer_pk, _, _ = _deal_row(catalog, deal_id)
    try:
        marks = read_marks(path)
    except WatermarkError as exc:
        raise QuoteError(str(exc)) from None
    if not marks.watermarked:
        return QuoteCheck(deal_id, False, None, [QuoteReason(
            "no_watermark", "no TalkTrack watermark on any page or in the document information: the file was "
                            "not issued by TalkTrack, or its watermark was removed")])
    reasons = _mark_reasons(marks)
    parsed = _parse_tokens(marks.tokens, reasons)
    issued = _issued(catalog, [m.quote_id for m in parsed])
    quote_row = next((issued[m.quote_id] for m in parsed if m.quote_id in issued), None)
    if quote_row is None:
        reasons.append(QuoteReason("unknown_quote", f"the watermark names quote(s) "
                                   f"{', '.join(m.quote_id for m in parsed) or '(unreadable)'} that TalkTrack "
                                   "never issued: a forged mark"))
        return QuoteCheck(deal_id, False, None, reasons, marks.tokens)
    row, quote_deal, quote_customer = quote_row
    reasons += _owner_reasons(row, quote_deal, deal_id, deal_pk, customer_pk)
    reasons += _token_reasons(row, quote_deal, quote_customer, parsed)
    reasons += _page_reasons(row, marks)
    info = _info(row, quote_deal, quote_customer)
    return QuoteCheck(deal_id, not reasons, info, reasons, marks.tokens)


def _mark_reasons(marks: PdfMarks) -> list[QuoteReason]:
    reasons = []
    if len(marks.tokens) > 1:
        reasons.append(QuoteReason("mixed_marks", f"the file carries {len(marks.tokens)} different watermarks: "
                                   "pages of different quotes were put together"))
    unmarked = [n for n, (own, seen) in enumerate(zip(marks.page_tokens, marks.visible_tokens), start=1)
                if own is None or not seen]
    if unmarked:
        reasons.append(QuoteReason("mark_missing", f"page(s) {_pages(unmarked)} lack the watermark (visible or "
                                   "embedded): removed, or pages from another file"))
    if marks.info_token is None:
        reasons.append(QuoteReason("mark_missing", "the document information lost its watermark id"))
    return reasons


def _parse_tokens(tokens: list[str], reasons: list[QuoteReason]) -> list[Mark]:
    parsed = []
    for token in tokens:
        try:
            parsed.append(Mark.parse(token))
        except WatermarkError:
            reasons.append(QuoteReason("mark_mismatch", f"an unreadable watermark id: {token[:80]!r}"))
    return parsed


def _issued(catalog, quote_ids: list[str]) -> dict[str, tuple[IssuedQuote, str, str]]:
    if not quote_ids:
        return {}
    with catalog.session() as session:
        rows = session.execute(select(IssuedQuote, Deal.external_id, Customer.external_id)
                               .join(Deal, Deal.id == IssuedQuote.deal_id)
                               .join(Customer, Customer.id == IssuedQuote.customer_id)
                               .where(IssuedQuote.quote_id.in_(quote_ids))).all()
    return {row.quote_id: (row, deal, customer) for row, deal, customer in rows}


def _owner_reasons(row: IssuedQuote, quote_deal: str, deal_id: str, deal_pk: int,
                   customer_pk: int) -> list[QuoteReason]:
    if row.deal_id == deal_pk:
        return []
    reasons = [QuoteReason("other_deal", f"quote {row.quote_id} was issued for another deal, not {deal_id}")]
    if row.customer_id != customer_pk:
        reasons.append(QuoteReason("other_customer", f"quote {row.quote_id} was issued for another customer's "
                                   "deal: this is another customer's proposal"))
    return reasons


def _token_reasons(row: IssuedQuote, quote_deal: str, quote_customer: str, parsed: list[Mark]) -> list[QuoteReason]:
    expected = Mark(row.quote_id, quote_deal, quote_customer, row.version, row.source_sha256[:16])
    wrong = [m for m in parsed if m.quote_id == row.quote_id and m != expected]
    if not wrong:
        return []
    return [QuoteReason("mark_mismatch", f"the watermark of quote {row.quote_id} was altered: it says "
                        f"{wrong[0].token()!r}, TalkTrack issued {expected.token()!r}")]


def _page_reasons(row: IssuedQuote, marks: PdfMarks) -> list[QuoteReason]:
    issued = [PageFingerprint.from_list(p) for p in row.fingerprints]
    found = marks.pages
    reasons = []
    if len(found) > len(issued):
        reasons.append(QuoteReason("pages_added", f"{len(found)} pages; quote {row.quote_id} was issued with "
                                   f"{len(issued)}"))
    elif len(found) < len(issued):
        reasons.append(QuoteReason("pages_removed", f"{len(found)} pages; quote {row.quote_id} was issued with "
                                   f"{len(issued)}"))
    text = [n for n, (a, b) in enumerate(zip(found, issued), start=1) if a.text_sha256 != b.text_sha256]
    drawing = [n for n, (a, b) in enumerate(zip(found, issued), start=1)
               if a.content_sha256 != b.content_sha256 and n not in text]
    if text:
        reasons.append(QuoteReason("pages_changed", f"the text of page(s) {_pages(text)} differs from what was "
                                   "issued"))
    if drawing:
        reasons.append(QuoteReason("pages_changed", f"page(s) {_pages(drawing)} draw something else than what was "
                                   "issued (same text: an image, a drawing or the layout changed)"))
    return reasons


def _pages(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")
