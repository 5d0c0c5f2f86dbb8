"""Plain text out of the files reps submit as evidence: .txt/.md, .pdf, .docx.

A leaf: it knows file formats, nothing about deals. Anything it cannot turn into text
(an unknown extension, an empty, corrupt or oversized file, a scanned PDF without a
text layer) raises :class:`DocumentError` naming the file and the reason, so a caller
can show it as it is::

    >>> read_document("notes.md")            # doctest: +SKIP
    'Call with Sam Shaw (Lakeshore Health) on Tuesday, March 4 ...'
"""

from __future__ import annotations

from pathlib import Path

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, ".pdf", ".docx")
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # meeting notes and proposals, not archives


class DocumentError(ValueError):
    """A document that cannot be read as text; the message names the file and why."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def read_document(path: Path | str, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> str:
    """The text of a .txt/.md (UTF-8, or GB18030 for Chinese files), .pdf or .docx file, stripped."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(path, f"unsupported file type {suffix or '(none)'!r}; accepted: "
                                  f"{', '.join(SUPPORTED_SUFFIXES)}")
    _check_size(path, max_bytes)
    if suffix == ".pdf":
        text = _read_pdf(path)
    elif suffix == ".docx":
        text = _read_docx(path)
    else:
        text = _read_text(path)
    text = text.strip()
    if not text:
        raise DocumentError(path, "the document contains no text")
    return text


def _check_size(path: Path, max_bytes: int) -> None:
    if not path.is_file():
        raise DocumentError(path, "no such file")
    size = path.stat().st_size
    if size == 0:
        raise DocumentError(path, "the file is empty")
    if size > max_bytes:
        raise DocumentError(path, f"the file is too large ({size} bytes; at most {max_bytes})")


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


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(path, "the PDF is encrypted with a password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(path, f"not a readable PDF ({exc.__class__.__name__}: {exc})") from exc
    text = "\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise DocumentError(path, f"the PDF has {len(pages)} page(s) but no text layer (a scan?); "
                                  "run OCR on it or submit the text")
    return text


def _read_docx(path: Path) -> str:
    """Paragraphs in order, then each table row as cells joined by ' | '."""
    import zipfile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(path, f"not a readable Word .docx file ({exc.__class__.__name__}: {exc})") from exc
    lines = [paragraph.text for paragraph in document.paragraphs if paragraph.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells]
            if any(cells):
                lines.append(" | ".join(cells))
    return "\n".join(lines)
