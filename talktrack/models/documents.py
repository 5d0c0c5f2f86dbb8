"""Plain text out of the files reps submit as evidence: .txt/.md, .pdf, .docx.

A leaf: it knows file formats, nothing about deals. Anything it cannot turn into text
(an unknown extension, an empty, corrupt or oversized file, a scanned PDF without a
text layer) raises :class:`DocumentError` naming the file and the reason, so a caller
can show it as it is::

    >>> read_document("notes.md")            # doctest: +SKIP
    'Call with Sam Shaw (Lakeshore Health) on Tuesday, March 4 ...'

Reading is bounded (:class:`DocumentLimits`): the file's size, the length of its text, a
.docx's unpacked size, compression ratio and XML elements, a PDF's pages and reading time.
A document past any limit is refused with :class:`DocumentTooLarge` before the expensive part
is done (a .docx that unpacks to 70 MB of XML is refused from its zip directory, without
inflating a byte), never truncated: the text that is returned is the whole text.
"""

from __future__ import annotations

import struct
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".pdf", ".docx")
MB = 1024 * 1024
MAX_DOCUMENT_BYTES = 20 * MB  # meeting notes and proposals, not archives
# A .docx member may inflate past max_zip_ratio only while it stays this small (styles, themes).
ZIP_RATIO_GRACE_BYTES = MB
_INFLATE_CHUNK = 64 * 1024
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@dataclass(frozen=True)
class DocumentLimits:
    """How much reading one document may cost; past any limit the document is refused.

    The .docx limits follow Apache POI's ``ZipSecureFile`` (a member that inflates more than
    100:1 past a grace size is a bomb): sizes and ratios are read from the zip's central
    directory before anything is inflated, then every member is inflated in 64 KB steps and
    refused the moment it yields more than it declared (a directory can lie). The element limit
    bounds python-docx's work: at 100,000 elements it took 1.9 s (25,000 one-word paragraphs) and
    1.2 s (an empty 5,800-row table) on a busy 2-core machine; a 60-page formatted proposal of
    200,000 characters has about 60,000. The PDF time limit is checked between pages, so one page
    may overrun it; pypdf's own limits bound a page's streams.
    """

    max_bytes: int = MAX_DOCUMENT_BYTES
    max_chars: int = 200_000
    max_unzipped_bytes: int = 64 * MB
    max_zip_ratio: float = 100.0
    max_zip_members: int = 1000
    max_docx_elements: int = 100_000
    max_pdf_pages: int = 500
    max_pdf_s: float = 5.0


class DocumentError(ValueError):
    """A document that cannot be read as text; the message names the file and why."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class DocumentTooLarge(DocumentError):
    """A document past one of its :class:`DocumentLimits` (size, text, unpacked size, pages, time)."""


def read_document(path: Path | str, *, limits: DocumentLimits = DocumentLimits()) -> str:
    """The text of a .txt/.md (UTF-8, or GB18030 for Chinese files), .pdf or .docx file, stripped."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(path, f"unsupported file type {suffix or '(none)'!r}; accepted: "
                                  f"{', '.join(SUPPORTED_SUFFIXES)}")
    _check_size(path, limits.max_bytes)
    if suffix == ".pdf":
        text = _read_pdf(path, limits)
    elif suffix == ".docx":
        text = _read_docx(path, limits)
    else:
        text = _read_text(path)
    text = text.strip()
    if not text:
        raise DocumentError(path, "the document contains no text")
    if len(text) > limits.max_chars:
        raise _too_much_text(path, limits, len(text))
    return text


def _too_much_text(path: Path, limits: DocumentLimits, chars: int | None = None) -> DocumentTooLarge:
    counted = f"{chars} characters" if chars is not None else f"more than {limits.max_chars} characters"
    return DocumentTooLarge(path, f"its text is {counted}; at most {limits.max_chars} are read "
                                  "(send the relevant part, or split the document)")


def _check_size(path: Path, max_bytes: int) -> None:
    if not path.is_file():
        raise DocumentError(path, "no such file")
    size = path.stat().st_size
    if size == 0:
        raise DocumentError(path, "the file is empty")
    if size > max_bytes:
        raise DocumentTooLarge(path, f"the file is too large ({size} bytes; at most {max_bytes})")


def _read_text(path: Path) -> str:
    """UTF-8 first (with or without BOM); Chinese files saved by Windows tools are often GB18030."""
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise DocumentError(path, "binary content in a text file (NUL bytes); save it as UTF-8 text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DocumentError(path, "text is neither UTF-8 nor GB18030")


# -- PDF ------------------------------------------------------------------------------------------
def _read_pdf(path: Path, limits: DocumentLimits) -> str:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(path, "the PDF is encrypted with a password")
        pages = _pdf_pages(path, reader, limits)
    except DocumentError:
        raise
    except LimitReachedError as exc:
        raise DocumentTooLarge(path, f"the PDF is past a safety limit of the PDF reader ({exc})") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise DocumentError(path, f"not a readable PDF ({exc.__class__.__name__}: {exc})") from exc
    text = "\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise DocumentError(path, f"the PDF has {len(pages)} page(s) but no text layer (a scan?); "
                                  "run OCR on it or submit the text")
    return text


def _pdf_pages(path: Path, reader, limits: DocumentLimits) -> list[str]:
    """Each page's text, stopping (refused) past the page, text or time limit."""
    count = len(reader.pages)
    if count > limits.max_pdf_pages:
        raise DocumentTooLarge(path, f"the PDF has {count} pages; at most {limits.max_pdf_pages}")
    started, pages, chars = time.monotonic(), [], 0
    for number, page in enumerate(reader.pages, start=1):
        pages.append(page.extract_text() or "")
        chars += len(pages[-1])
        if chars > limits.max_chars:
            raise _too_much_text(path, limits)
        if time.monotonic() - started > limits.max_pdf_s:
            raise DocumentTooLarge(path, f"reading its text took more than {limits.max_pdf_s:g} s "
                                         f"(page {number} of {count})")
    return pages


# -- DOCX -----------------------------------------------------------------------------------------
def _read_docx(path: Path, limits: DocumentLimits) -> str:
    """Paragraphs in order, then each table row as cells joined by ' | '; the zip is checked first."""
    from xml.etree.ElementTree import ParseError

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with zipfile.ZipFile(path) as archive:
            _check_zip_directory(path, archive, limits)
            _check_zip_contents(path, archive, limits)
        document = Document(str(path))
    except DocumentError:
        raise
    except (PackageNotFoundError, zipfile.BadZipFile, ParseError, KeyError, ValueError, EOFError) as exc:
        raise DocumentError(path, f"not a readable Word .docx file ({exc.__class__.__name__}: {exc})") from exc
    lines = [paragraph.text for paragraph in document.paragraphs if paragraph.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells]
            if any(cells):
                lines.append(" | ".join(cells))
    return "\n".join(lines)


def _check_zip_directory(path: Path, archive: zipfile.ZipFile, limits: DocumentLimits) -> None:
    """Members, methods, declared sizes and ratios, from the central directory (nothing inflated)."""
    members = archive.infolist()
    if len(members) > limits.max_zip_members:
        raise DocumentTooLarge(path, f"the .docx holds {len(members)} files; at most {limits.max_zip_members}")
    declared = sum(member.file_size for member in members)
    if declared > limits.max_unzipped_bytes:
        raise DocumentTooLarge(path, f"the .docx unpacks to {declared} bytes; at most {limits.max_unzipped_bytes}")
    for member in members:
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise DocumentError(path, f"{member.filename!r} uses zip method {member.compress_type}; "
                                      "a .docx is stored or deflated")
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > ZIP_RATIO_GRACE_BYTES and ratio > limits.max_zip_ratio:
            raise DocumentTooLarge(path, f"{member.filename!r} inflates {ratio:.0f}:1 (at most "
                                         f"{limits.max_zip_ratio:g}:1), as a zip bomb does")


def _check_zip_contents(path: Path, archive: zipfile.ZipFile, limits: DocumentLimits) -> None:
    """Inflate every member and check it against its directory entry; count document.xml's
    elements and text, so python-docx (which inflates each member in one go) never meets more
    than the directory declared or more than the limits allow."""
    with path.open("rb") as handle:
        for member in archive.infolist():
            chunks = _inflate(path, handle, member)
            if member.filename == "word/document.xml":
                _check_document_xml(path, chunks, limits)
            for _ in chunks:
                pass


def _inflate(path: Path, handle, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's bytes, inflated from its raw data 64 KB at a time: refused as soon as they pass
    the size its directory entry declares, and unless the data ends there with the declared CRC."""
    if member.flag_bits & 0x1:
        raise DocumentError(path, f"{member.filename!r} is encrypted")
    handle.seek(_data_offset(handle, member))
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if member.compress_type == zipfile.ZIP_DEFLATED else None
    left, produced, crc = member.compress_size, 0, 0
    while (tail := inflater.unconsumed_tail if inflater else b"") or left > 0:
        if not tail:
            tail = handle.read(min(_INFLATE_CHUNK, left))
            if not tail:
                raise zipfile.BadZipFile(f"{member.filename!r} is cut short")
            left -= len(tail)
        data = inflater.decompress(tail, _INFLATE_CHUNK) if inflater else tail
        produced += len(data)
        if produced > member.file_size:
            raise DocumentTooLarge(path, f"{member.filename!r} inflates past the {member.file_size} bytes "
                                         "its zip directory declares")
        crc = zlib.crc32(data, crc)
        yield data
    if produced != member.file_size or crc != member.CRC or (inflater is not None and not inflater.eof):
        raise zipfile.BadZipFile(f"{member.filename!r} does not match its zip directory entry")


def _data_offset(handle, member: zipfile.ZipInfo) -> int:
    """Where a member's raw data starts: after its local header (30 bytes, its name, its extra field)."""
    handle.seek(member.header_offset)
    header = handle.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"{member.filename!r}: no local header where the directory points")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    return member.header_offset + 30 + name_length + extra_length


def _check_document_xml(path: Path, chunks: Iterator[bytes], limits: DocumentLimits) -> None:
    """Stream the body's XML: refused past max_docx_elements elements or max_chars of text.

    Finished elements are detached from their parent, so memory stays flat however long it is."""
    from xml.etree.ElementTree import XMLPullParser

    parser = XMLPullParser(events=("start", "end"))
    open_elements, elements, chars = [], 0, 0
    for chunk in chunks:
        parser.feed(chunk)
        for event, element in parser.read_events():
            if event == "start":
                elements += 1
                if elements > limits.max_docx_elements:
                    raise DocumentTooLarge(path, f"its body has more than {limits.max_docx_elements} XML elements")
                open_elements.append(element)
                continue
            open_elements.pop()
            if element.tag == f"{_W}t" and element.text:
                chars += len(element.text)
                if chars > limits.max_chars:
                    raise _too_much_text(path, limits)
            if open_elements:
                open_elements[-1].remove(element)
    parser.close()
