"""Voice messages of chat apps to 16 kHz samples: AMR and MP3 through FFmpeg, SILK through ``pysilk``.

A leaf beside :mod:`talktrack.models.audio`. WeCom and WeChat voice messages are AMR-NB (``#!AMR``) or
Tencent's SILK v3 (``\\x02#!SILK_V3``), which FFmpeg does not read; the format is told by the file's
first bytes, never by its name, because exports name media by id without an extension.

    >>> audio = decode_voice_message("media/4f2a.amr")          # doctest: +SKIP
    >>> audio.codec, round(audio.duration_s, 1)
    ('amrnb', 3.2)
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from talktrack.models.audio import SAMPLE_RATE, AudioError, DecodedAudio, check_usable, decode_audio

SILK_MAGIC = b"#!SILK_V3"
AMR_MAGIC = (b"#!AMR\n", b"#!AMR-WB\n")


def voice_format(head: bytes) -> str:
    """``silk``, ``amr`` or ``other`` (anything FFmpeg may read: MP3, WAV, M4A, ...) from a file's first bytes."""
    if head.startswith(SILK_MAGIC) or head[1:].startswith(SILK_MAGIC):
        return "silk"
    if head.startswith(AMR_MAGIC):
        return "amr"
    return "other"


def decode_voice_message(path: str | Path, *, max_duration_s: float | None = None) -> DecodedAudio:
    """Decode one voice message to 16 kHz mono float32, or raise :class:`AudioError` saying why not."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(path, "file not found")
    with open(path, "rb") as handle:
        head = handle.read(16)
    if voice_format(head) != "silk":
        return decode_audio(path, max_duration_s=max_duration_s)
    audio = _decode_silk(path)
    check_usable(audio, max_duration_s=max_duration_s)
    return audio


def _decode_silk(path: Path) -> DecodedAudio:
    try:
        import pysilk
    except ImportError:  # pragma: no cover - pinned in pyproject
        raise AudioError(path, "a SILK voice message needs the silk-python package (pip install silk-python)") from None
    pcm = io.BytesIO()
    try:
        with open(path, "rb") as source:
            pysilk.decode(source, pcm, SAMPLE_RATE)
    except (pysilk.SilkError, ValueError, OSError) as exc:
        raise AudioError(path, f"cannot decode SILK: {exc}") from exc
    samples = np.frombuffer(pcm.getvalue(), dtype="<i2").astype(np.float32) / 32768.0  # shape: (n,)
    if samples.size == 0:
        raise AudioError(path, "empty (0 samples)")
    return DecodedAudio(str(path), samples[np.newaxis, :], SAMPLE_RATE, SAMPLE_RATE, 1, "silk")
