"""TalkTrack's watermark on a quote or proposal PDF: stamp it, read it back, fingerprint the pages.

A leaf: it knows PDF files (pypdf to read and merge, reportlab to draw the overlay), nothing
about deals or the catalog. The mark is written three ways, so that one of them surviving is
enough to recognise a TalkTrack document and losing one shows tampering:

- a visible overlay on every page: a light diagonal line (``label``, e.g. the customer's name and
  the deal) and a small footer with the token, which text extraction reads back;
- ``/TalkTrackQuote`` in each page's dictionary (it travels with a page copied into another file);
- ``/TalkTrackQuote`` in the document information.

The token (:class:`Mark`) names the quote id, deal, customer, version and the first 16 hex digits
of the SHA-256 of the file as it was before stamping. What was *issued* is fixed by
:class:`PageFingerprint`: per page, a hash of its text (whitespace removed, so a re-save that
re-flows nothing changes nothing) and a hash of what it draws (decoded content streams, the images
and forms they use, the page box). A verifier compares a file's fingerprints with the issued
ones: a changed word, an added or removed page, a stripped or copied overlay all change them.

    >>> mark = Mark("Q-1A2B3C4D5E6F", "DEAL-00042", "CUST-0007", 2, "3f9a" * 16)
    >>> Mark.parse(mark.token()) == Mark("Q-1A2B3C4D5E6F", "DEAL-00042", "CUST-0007", 2, "3f9a" * 4)
    True
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

MARK_KEY = "/TalkTrackQuote"
TOKEN_PREFIX = "TTQ1"
_ID = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"
TOKEN_PATTERN = re.compile(rf"{TOKEN_PREFIX}\|({_ID})\|({_ID})\|({_ID})\|v(\d{{1,6}})\|([0-9a-f]{{16}})")
SOURCE_HASH_CHARS = 16
MAX_XOBJECT_DEPTH = 4
_WHITESPACE = re.compile(r"\s+")
_CJK_FONT = "STSong-Light"  # one of reportlab's built-in CID fonts: Chinese without shipping a font file


class WatermarkError(ValueError):
    """A PDF that cannot be stamped or read (not a PDF, encrypted, too large); the message says why."""


@dataclass(frozen=True)
class Mark:
    """What the watermark says: which quote, for which deal and customer, which version, of what file."""

    quote_id: str
    deal_id: str
    customer_id: str
    version: int
    source_sha256: str

    def token(self) -> str:
        return (f"{TOKEN_PREFIX}|{self.quote_id}|{self.deal_id}|{self.customer_id}|v{self.version}|"
                f"{self.source_sha256[:SOURCE_HASH_CHARS]}")

    @classmethod
    def parse(cls, token: str) -> Mark:
        found = TOKEN_PATTERN.fullmatch(token.strip())
        if found is None:
            raise WatermarkError(f"not a TalkTrack watermark token: {token[:120]!r}")
        quote, deal, customer, version, digest = found.groups()
        return cls(quote, deal, customer, int(version), digest)


@dataclass(frozen=True)
class PageFingerprint:
    """One page as issued: the hash of its text and the hash of what it draws."""

    text_sha256: str
    content_sha256: str

    def to_list(self) -> list[str]:
        return [self.text_sha256, self.content_sha256]

    @classmethod
    def from_list(cls, value: list[str]) -> PageFingerprint:
        return cls(value[0], value[1])


@dataclass(frozen=True)
class PdfMarks:
    """Everything a file says about its watermark, and its pages' fingerprints.

    ``info_token``: the document information's token; ``page_tokens``: each page dictionary's;
    ``visible_tokens``: the tokens read from each page's text (the footer).
    """

    info_token: str | None
    page_tokens: list[str | None]
    visible_tokens: list[list[str]]
    pages: list[PageFingerprint]

    @property
    def tokens(self) -> list[str]:
        """Every distinct token found anywhere, in order of first appearance."""
        found = [self.info_token, *self.page_tokens, *(t for page in self.visible_tokens for t in page)]
        return list(dict.fromkeys(t for t in found if t))

    @property
    def watermarked(self) -> bool:
        return bool(self.tokens)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stamp_pdf(source: Path, out: Path, mark: Mark, label: str, *, max_pages: int = 500) -> list[PageFingerprint]:
    """Write ``source`` with the watermark to ``out``; the fingerprints of the pages as written.

    ``label``: the visible diagonal line (e.g. ``TalkTrack · 华东医疗 · DEAL-00042 · v2``).
    """
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    reader = _open(source, max_pages)
    if _read_marks(reader).watermarked:
        raise WatermarkError(f"{source}: the PDF carries a TalkTrack watermark already; stamp the original file")
    writer = PdfWriter(clone_from=reader)
    token = mark.token()
    for page in writer.pages:
        box = page.mediabox
        page.merge_page(_overlay(float(box.width), float(box.height), token, label))
        page[NameObject(MARK_KEY)] = TextStringObject(token)
    writer.add_metadata({MARK_KEY: token})
    buffer = io.BytesIO()
    writer.write(buffer)
    Path(out).write_bytes(buffer.getvalue())
    return read_marks(out, max_pages=max_pages).pages


def read_marks(path: Path, *, max_pages: int = 500) -> PdfMarks:
    """The watermark tokens a PDF carries (none: ``watermarked`` is false) and its page fingerprints."""
    reader = _open(path, max_pages)
    try:
        return _read_marks(reader)
    except WatermarkError:
        raise
    except Exception as exc:  # pypdf raises many types on a damaged page; name the file and the cause
        raise WatermarkError(f"{path}: a page could not be read ({exc.__class__.__name__}: {exc})") from exc


def _open(path: Path, max_pages: int):
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    path = Path(path)
    if not path.is_file():
        raise WatermarkError(f"{path}: no such file")
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise WatermarkError(f"{path}: the PDF is encrypted; quotes are stamped and checked unencrypted")
        count = len(reader.pages)
    except WatermarkError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise WatermarkError(f"{path}: not a readable PDF ({exc.__class__.__name__}: {exc})") from exc
    if count == 0:
        raise WatermarkError(f"{path}: the PDF has no pages")
    if count > max_pages:
        raise WatermarkError(f"{path}: the PDF has {count} pages; at most {max_pages}")
    return reader


def _read_marks(reader) -> PdfMarks:
    info = reader.metadata or {}
    page_tokens, visible, pages = [], [], []
    for page in reader.pages:
        text = page.extract_text() or ""
        own = page.get(MARK_KEY)
        page_tokens.append(str(own) if own is not None else None)
        visible.append([m.group(0) for m in TOKEN_PATTERN.finditer(text)])
        pages.append(PageFingerprint(_sha(_WHITESPACE.sub("", text).encode("utf-8")), _drawing_hash(page)))
    token = info.get(MARK_KEY)
    return PdfMarks(str(token) if token is not None else None, page_tokens, visible, pages)


def _drawing_hash(page) -> str:
    """What a page draws: its box, its decoded content streams, and the XObjects (images, forms) it names."""
    digest = hashlib.sha256()
    digest.update(repr([float(v) for v in page.mediabox]).encode())
    digest.update(str(page.get("/Rotate", 0)).encode())
    contents = page.get_contents()
    digest.update(contents.get_data() if contents is not None else b"")
    _hash_xobjects(page.get("/Resources"), digest, 0)
    return digest.hexdigest()


def _hash_xobjects(resources, digest, depth: int) -> None:
    if resources is None or depth > MAX_XOBJECT_DEPTH:
        return
    xobjects = resources.get_object().get("/XObject")
    if xobjects is None:
        return
    xobjects = xobjects.get_object()
    for name in sorted(xobjects):
        stream = xobjects[name].get_object()
        digest.update(str(name).encode())
        digest.update(stream.get_data())
        if stream.get("/Subtype") == "/Form":
            _hash_xobjects(stream.get("/Resources"), digest, depth + 1)


def _overlay(width: float, height: float, token: str, label: str):
    """One page holding the diagonal label and the token footer, to merge onto a page of that size."""
    from pypdf import PdfReader
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=(width, height))
    page.saveState()
    page.setFillColorRGB(0.55, 0.55, 0.55, alpha=0.22)
    page.translate(width / 2, height / 2)
    page.rotate(35)
    size = max(10.0, min(36.0, 1.6 * min(width, height) / max(1, len(label))))
    page.setFont(_font_for(label), size)
    page.drawCentredString(0, 0, label)
    page.restoreState()
    page.setFillColorRGB(0.35, 0.35, 0.35)
    page.setFont("Helvetica", 5.5)
    page.drawString(12, 8, f"TalkTrack {token}")
    page.save()
    return PdfReader(io.BytesIO(buffer.getvalue())).pages[0]


def _font_for(text: str) -> str:
    """Helvetica for Latin-1 text; reportlab's built-in Chinese CID font for anything else."""
    try:
        text.encode("latin-1")
        return "Helvetica"
    except UnicodeEncodeError:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        if _CJK_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(_CJK_FONT))
        return _CJK_FONT


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
