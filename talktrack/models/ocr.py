"""Text out of an image (a calendar screenshot) with the Tesseract OCR engine.

A leaf: it knows images and the engine, nothing about deals. The engine is Debian's
``tesseract-ocr`` with the ``eng`` and ``chi_sim`` language packs (``make system-deps`` installs
them), driven through ``pytesseract``; nothing is downloaded. A missing engine or language pack
raises :class:`OcrUnavailable` saying what to install; a file that is not a readable image, or is
too large, raises :class:`OcrInputError` naming the file and the reason.

Screenshots reach us forwarded through chat apps: downscaled, JPEG-compressed, sometimes in dark
mode. :func:`prepare` turns them into what Tesseract reads best (dark text on light, cleaned of
speckle, enlarged so a line of text is ~40 px high)::

    >>> read_text("invite.jpg", ("eng",)).text.splitlines()[1]     # doctest: +SKIP
    'Monday, February 3, 2025'
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

INSTALL_HINT = ("install Debian's tesseract-ocr, tesseract-ocr-eng and tesseract-ocr-chi-sim "
                "(make system-deps, or apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim)")
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 4K phone screenshot is ~10 MP; more is not a screenshot
UPSCALE = 2.0  # measured on generated screenshots: 2x reads more fields than 1x (text ~17-30 px high)
PAGE_MODE = 6  # Tesseract --psm 6: one uniform block of text (a calendar entry's lines)


class OcrUnavailable(RuntimeError):
    """The OCR engine or a language pack is not installed; the message says what to install."""


class OcrInputError(ValueError):
    """An image that cannot be read; the message names the file and why."""


@dataclass(frozen=True)
class OcrText:
    """What the engine read, with the languages and engine version that read it."""

    text: str
    languages: tuple[str, ...]
    engine: str


@lru_cache(maxsize=8)
def require_engine(languages: tuple[str, ...]) -> str:
    """The engine's version, once the binary and every language pack in ``languages`` are there."""
    try:
        import pytesseract
    except ImportError as exc:  # pinned in pyproject.toml; a broken install
        raise OcrUnavailable(f"the pytesseract package is missing ({exc}); reinstall TalkTrack (make install)") from exc
    try:
        version = str(pytesseract.get_tesseract_version())
        installed = set(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, OSError) as exc:
        raise OcrUnavailable(f"the tesseract OCR engine is not installed: {INSTALL_HINT}") from exc
    missing = [lang for lang in languages if lang not in installed]
    if missing:
        raise OcrUnavailable(f"tesseract has no language pack for {', '.join(missing)} "
                             f"(installed: {', '.join(sorted(installed)) or 'none'}): {INSTALL_HINT}")
    return version


def load_image(source: Path | str | bytes) -> Image.Image:
    """An image file or its bytes, decoded and bounded (size, pixels)."""
    name = "image bytes" if isinstance(source, bytes) else str(source)
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise OcrInputError(f"{path}: no such file")
        if path.stat().st_size > MAX_IMAGE_BYTES:
            raise OcrInputError(f"{path}: the file is too large ({path.stat().st_size} bytes; at most {MAX_IMAGE_BYTES})")
        data = path.read_bytes()
    if not data:
        raise OcrInputError(f"{name}: empty")
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise OcrInputError(f"{name}: {image.width}x{image.height} pixels; at most {MAX_PIXELS} are read")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise OcrInputError(f"{name}: not a readable image ({exc.__class__.__name__}: {exc}); "
                            "send a PNG or JPEG screenshot") from exc
    return image


def prepare(image: Image.Image) -> Image.Image:
    """Grey, dark-on-light (a dark-mode screenshot is inverted), despeckled, enlarged."""
    grey = ImageOps.grayscale(ImageOps.exif_transpose(image))
    if _mean(grey) < 128:
        grey = ImageOps.invert(grey)
    grey = grey.filter(ImageFilter.MedianFilter(3))  # JPEG ringing and sensor noise
    return grey.resize((int(grey.width * UPSCALE), int(grey.height * UPSCALE)), Image.Resampling.LANCZOS)


def _mean(grey: Image.Image) -> float:
    small = grey.resize((32, 32))
    return sum(small.tobytes()) / (32 * 32)


def read_text(source: Path | str | bytes | Image.Image, languages: tuple[str, ...], *,
              timeout_s: float = 60.0) -> OcrText:
    """All text of the image, line by line, read in ``languages`` (Tesseract codes: eng, chi_sim)."""
    import pytesseract

    version = require_engine(tuple(languages))
    image = source if isinstance(source, Image.Image) else load_image(source)
    try:
        text = pytesseract.image_to_string(prepare(image), lang="+".join(languages), config=f"--psm {PAGE_MODE}",
                                           timeout=timeout_s)
    except RuntimeError as exc:  # pytesseract raises RuntimeError on its timeout
        raise OcrInputError(f"OCR of the image took more than {timeout_s:g} s") from exc
    return OcrText(text, tuple(languages), f"tesseract {version}")
