"""Audio in: any common file → 16 kHz float32, channels kept; or a clear refusal.

A leaf: imports nothing of ours. Decoding goes through PyAV (FFmpeg), as
faster-whisper's ``audio.py`` does, so WAV (16/24-bit PCM, 32-bit float), FLAC,
MP3, M4A/AAC and OGG/Opus at any sample rate decode the same way, with no
torchaudio. Channels are kept (up to two) because a dialer recording puts the
agent and the customer on separate channels, and that layout *is* a diarization.

    >>> audio = decode_audio("jfk.flac")                     # doctest: +SKIP
    >>> audio.samples.shape, audio.sample_rate, round(audio.duration_s, 1)
    ((2, 176000), 16000, 11.0)

Every refusal is an :class:`AudioError` whose message is ``"{path}: {reason}"``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

SAMPLE_RATE = 16000
SILENCE_PEAK_DBFS = -60.0
# A header promising at least 1 s of which less than half decodes: the file was cut off.
# (Compressed headers are estimates, so the share is generous.)
TRUNCATION_MIN_DECLARED_S = 1.0
TRUNCATION_MIN_SHARE = 0.5
WAV_HEADER_BYTES = 4096
# A frame group this large (samples per channel) keeps the resampler's calls few.
_GROUP_SAMPLES = 500_000


class AudioError(ValueError):
    """A recording that cannot be used; ``str(e) == f"{path}: {reason}"``."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):
        # Rebuilt from (path, reason) when it crosses a process boundary (Ray, multiprocessing).
        return type(self), (self.path, self.reason)


@dataclass(frozen=True, eq=False)
class DecodedAudio:
    """A decoded recording. ``samples`` has shape (channels, n), float32 in [-1, 1]."""

    path: str
    samples: np.ndarray
    sample_rate: int
    source_sample_rate: int
    source_channels: int
    codec: str

    @property
    def num_channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / self.sample_rate

    @property
    def mono(self) -> np.ndarray:
        """The channel mean, shape (n,)."""
        if self.samples.shape[0] == 1:
            return self.samples[0]
        return self.samples.mean(axis=0, dtype=np.float32)


def decode_audio(
    path: str | Path, *, sample_rate: int = SAMPLE_RATE, max_duration_s: float | None = None
) -> DecodedAudio:
    """Decode a file to ``sample_rate`` float32, keeping mono/stereo; refuse what cannot be used.

    Reasons: "file not found", "cannot decode: <why>", "no audio stream",
    "empty (0 samples)", "silent (peak below -60 dBFS)", "too long (X s > limit Y s)".
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(path, "file not found")
    if path.stat().st_size == 0:
        raise AudioError(path, "empty (0 samples)")
    with open(path, "rb") as handle:
        return _decode(handle, str(path), sample_rate, max_duration_s)


def decode_bytes(
    data: bytes,
    *,
    name: str = "<upload>",
    sample_rate: int = SAMPLE_RATE,
    max_duration_s: float | None = None,
) -> DecodedAudio:
    """:func:`decode_audio` for an in-memory upload; ``name`` stands in for the path in errors."""
    if len(data) == 0:
        raise AudioError(name, "empty (0 samples)")
    return _decode(io.BytesIO(data), name, sample_rate, max_duration_s)


def _decode(source: BinaryIO, name: str, sample_rate: int, max_duration_s: float | None) -> DecodedAudio:
    wav_declared_s = wav_header_seconds(source.read(WAV_HEADER_BYTES))
    source.seek(0)
    av = _import_av()
    try:
        with av.open(source, mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(name, "no audio stream")
            stream = container.streams.audio[0]
            declared_s = wav_declared_s or _declared_duration(container, stream)
            _check_declared_duration(name, declared_s, max_duration_s)
            source_rate = int(stream.codec_context.sample_rate or stream.rate or 0)
            source_channels = int(stream.codec_context.channels or 0)
            codec = stream.codec_context.name
            samples = _decode_stream(container, stream, sample_rate, source_channels, name)
    except AudioError:
        raise
    except (av.error.FFmpegError, ValueError, OSError, RuntimeError) as exc:
        raise AudioError(name, f"cannot decode: {_why(exc)}") from exc
    audio = DecodedAudio(name, samples, sample_rate, source_rate, source_channels or len(samples), codec)
    check_usable(audio, max_duration_s=max_duration_s)
    _check_complete(audio, declared_s)
    return audio


def _check_complete(audio: DecodedAudio, declared_s: float | None) -> None:
    """Refuse a file that holds far less audio than its header declares (cut off in transfer)."""
    if declared_s is not None and declared_s >= TRUNCATION_MIN_DECLARED_S:
        if audio.duration_s < TRUNCATION_MIN_SHARE * declared_s:
            raise AudioError(
                audio.path, f"truncated (header declares {declared_s:.1f} s, file holds {audio.duration_s:.2f} s)"
            )


def check_usable(audio: DecodedAudio, *, max_duration_s: float | None = None) -> None:
    """Refuse empty, silent or over-long audio with an :class:`AudioError`."""
    n = audio.samples.shape[1]
    if n == 0:
        raise AudioError(audio.path, "empty (0 samples)")
    if max_duration_s is not None and audio.duration_s > max_duration_s:
        raise AudioError(audio.path, _too_long(audio.duration_s, max_duration_s))
    peak = float(np.max(np.abs(audio.samples)))
    if peak <= 10 ** (SILENCE_PEAK_DBFS / 20):
        raise AudioError(audio.path, f"silent (peak below {SILENCE_PEAK_DBFS:.0f} dBFS)")


def peak_dbfs(samples: np.ndarray) -> float:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def _decode_stream(container: Any, stream: Any, sample_rate: int, channels: int, name: str) -> np.ndarray:
    """All frames of ``stream`` resampled to float planar; shape (channels, n), channels 1 or 2.

    More than two channels (surround) are mixed down to mono: no call recorder
    puts speakers on 5.1, and the mono mix keeps every voice.
    """
    av = _import_av()
    layout = "stereo" if channels == 2 else "mono"
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
    chunks: list[np.ndarray] = []
    for frame in _resample(_group(_valid_frames(container.decode(stream), name)), resampler):
        chunks.append(frame.to_ndarray().reshape(1 if layout == "mono" else 2, -1))
    if not chunks:
        return np.zeros((1 if layout == "mono" else 2, 0), dtype=np.float32)
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    return np.clip(samples, -1.0, 1.0, out=samples)


def _valid_frames(frames: Iterator[Any], name: str) -> Iterator[Any]:
    """Skip frames FFmpeg rejects mid-stream (as faster-whisper does); fail if none decode."""
    av = _import_av()
    yielded, last_error = False, None
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            break
        except av.error.InvalidDataError as exc:
            last_error = exc
            continue
        yielded = True
        yield frame
    if not yielded and last_error is not None:
        raise AudioError(name, f"cannot decode: {_why(last_error)}")


def _group(frames: Iterator[Any]) -> Iterator[Any]:
    fifo = _import_av().AudioFifo()
    for frame in frames:
        frame.pts = None  # the FIFO refuses frames whose timestamps jump (seen in some MP3s)
        fifo.write(frame)
        if fifo.samples >= _GROUP_SAMPLES:
            yield fifo.read()
    if fifo.samples > 0:
        yield fifo.read()


def _resample(frames: Iterator[Any], resampler: Any) -> Iterator[Any]:
    for frame in frames:
        yield from resampler.resample(frame)
    yield from resampler.resample(None)  # flush the resampler's tail


def wav_header_seconds(head: bytes) -> float | None:
    """Seconds a RIFF/WAVE header's ``data`` chunk promises (None: not a WAV, or a streamed one).

    FFmpeg and libsndfile both size a WAV from the bytes present, so a file cut off in
    transfer looks short but whole; the header still tells how long it was meant to be.
    """
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    position, block_align, rate = 12, 0, 0
    while position + 8 <= len(head):
        chunk, size = head[position : position + 4], int.from_bytes(head[position + 4 : position + 8], "little")
        if chunk == b"fmt " and position + 20 <= len(head):
            rate = int.from_bytes(head[position + 12 : position + 16], "little")
            block_align = int.from_bytes(head[position + 20 : position + 22], "little")
        elif chunk == b"data":
            if not (block_align and rate) or size in (0, 0xFFFFFFFF):
                return None
            return size / block_align / rate
        position += 8 + size + (size & 1)
    return None


def _declared_duration(container: Any, stream: Any) -> float | None:
    """The duration the header promises, in seconds, when it says."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _check_declared_duration(name: str, declared_s: float | None, max_duration_s: float | None) -> None:
    """Refuse an over-long file from its header, before spending time decoding it."""
    # 1 % slack: header durations of compressed files are estimates.
    if max_duration_s is not None and declared_s is not None and declared_s > max_duration_s * 1.01 + 0.5:
        raise AudioError(name, _too_long(declared_s, max_duration_s))


def _too_long(duration_s: float, max_duration_s: float) -> str:
    return f"too long ({duration_s:.1f} s > limit {max_duration_s:g} s)"


def _why(exc: BaseException) -> str:
    """FFmpeg's own words, without the errno and the file name PyAV adds."""
    text = getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__
    return str(text).splitlines()[0]


def _import_av() -> Any:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is a core dependency
        raise ImportError("decoding audio needs PyAV: pip install av==18.1.0") from exc
    return av
