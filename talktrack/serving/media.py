"""Serving recordings: single-range ``Range: bytes=`` requests (RFC 9110) and WAV clips of a time span.

A browser's ``<audio>`` element seeks with Range requests, so both a whole recording and a clip
answer 206 with the asked bytes (200 with all of them when no single range is asked; 416 when the
range lies past the end). A clip is cut at the file's own sample rate and encoded as 16-bit PCM
WAV; a recording libsndfile cannot read (m4a, ...) is decoded first. A clip longer than
``serving.max_clip_s`` is refused, so one request cannot make the service hold an hour of audio.

Example::

    response = file_response(path, request.headers.get("Range"), "CALL-1.wav")
    clip = clip_wav(path, 12.0, 18.5, max_clip_s=600)       # bytes of a WAV file
    response = bytes_response(clip, "audio/wav", None, "CALL-1-12-18.5.wav")
"""

from __future__ import annotations

import io
import mimetypes
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from fastapi.responses import Response, StreamingResponse

from talktrack.serving.errors import ApiError
from talktrack.serving.uploads import CHUNK

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# read(first, last) -> the bytes first..last (inclusive) of the body, in pieces
Reader = Callable[[int, int], Iterator[bytes]]


def file_response(path: Path, range_header: str | None, filename: str) -> Response:
    """The file at ``path`` (media type by its suffix), whole or the asked range, streamed in chunks."""
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return ranged(range_header, path.stat().st_size, media, lambda a, b: file_bytes(path, a, b), filename)


def bytes_response(data: bytes, media: str, range_header: str | None, filename: str) -> Response:
    """``data``, whole or the asked range."""
    return ranged(range_header, len(data), media, lambda a, b: iter([data[a:b + 1]]), filename)


def clip_wav(path: Path, start: float, end: float | None, *, max_clip_s: float) -> bytes:
    """start..end seconds of the recording as 16-bit PCM WAV (at the file's own rate when it can seek).

    ``end`` None or past the end: up to the end. 422 for an empty span, a start past the end or a
    span over ``max_clip_s``; 404 for a recording that cannot be decoded."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
        rate, duration = info.samplerate, info.duration
        samples = None
    except (RuntimeError, sf.LibsndfileError):  # a format libsndfile cannot read (m4a, ...): decode it
        from talktrack.models.audio import AudioError, decode_audio

        try:
            audio = decode_audio(path)
        except AudioError as exc:
            raise ApiError(404, f"call recording cannot be decoded: {exc.reason}") from None
        rate, duration, samples = audio.sample_rate, audio.duration_s, audio.samples.T
    end = duration if end is None else min(end, duration)
    _check_span(start, end, duration, max_clip_s)
    first, last = int(start * rate), int(end * rate)
    if samples is None:
        samples, _ = sf.read(str(path), start=first, stop=last, dtype="float32", always_2d=True)
    else:
        samples = samples[first:last]
    out = io.BytesIO()
    sf.write(out, samples, rate, subtype="PCM_16", format="WAV")
    return out.getvalue()


def _check_span(start: float, end: float, duration: float, max_clip_s: float) -> None:
    if start >= duration:
        raise ApiError(422, f"query.start: {start:g} s is past the end of the recording ({duration:.3f} s)")
    if end <= start:
        raise ApiError(422, f"query.end: {end:g} s must be after start ({start:g} s)")
    if end - start > max_clip_s:
        raise ApiError(422, f"the clip is {end - start:.1f} s, longer than serving.max_clip_s "
                            f"({max_clip_s:g} s); ask for a shorter span or omit start/end")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a single ``Range: bytes=`` request; None for the whole.

    A header that is not a single byte range is ignored (RFC 9110); an unsatisfiable one is 416.

    >>> byte_range("bytes=-100", 1000), byte_range("bytes=10-", 1000), byte_range("bytes=0-1,5-9", 1000)
    ((900, 999), (10, 999), None)
    """
    match = _RANGE.match((header or "").strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        count = int(last)
        if count == 0:
            raise _unsatisfiable(header, size)
        return max(size - count, 0), size - 1
    first_i, last_i = int(first), (int(last) if last else size - 1)
    if first_i >= size:
        raise _unsatisfiable(header, size)
    if last_i < first_i:
        return None
    return first_i, min(last_i, size - 1)


def _unsatisfiable(header: str, size: int) -> ApiError:
    return ApiError(416, f"range {header!r} is outside the {size} bytes of this audio",
                    code="range_not_satisfiable", headers={"Content-Range": f"bytes */{size}"})


def ranged(header: str | None, size: int, media: str, read: Reader, filename: str) -> Response:
    """200 with the whole body, or 206 with the asked range; Accept-Ranges either way."""
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": f'inline; filename="{filename}"'}
    span = byte_range(header, size)
    if span is None:
        return StreamingResponse(read(0, size - 1), media_type=media,
                                 headers=headers | {"Content-Length": str(size)})
    first, last = span
    headers |= {"Content-Range": f"bytes {first}-{last}/{size}", "Content-Length": str(last - first + 1)}
    return StreamingResponse(read(first, last), status_code=206, media_type=media, headers=headers)


def file_bytes(path: Path, first: int, last: int) -> Iterator[bytes]:
    """Bytes first..last (inclusive) of the file, in chunks of at most :data:`CHUNK`."""
    with path.open("rb") as handle:
        handle.seek(first)
        left = last - first + 1
        while left > 0 and (chunk := handle.read(min(CHUNK, left))):
            left -= len(chunk)
            yield chunk
