"""Voice messages as chat apps send them: espeak-ng speech encoded to AMR-NB (WeCom's format, through the
opencore-amrnb library FFmpeg itself links) or Tencent SILK v3 (through pysilk).

Why a real encoder: the importer must be tested on the bytes a phone produces, and FFmpeg here decodes
AMR but has no AMR encoder; Debian's ``libopencore-amrnb0`` (a dependency of FFmpeg) has one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

AMR_RATE = 8000
AMR_FRAME = 160  # samples per 20 ms frame
AMR_MODE_12_2 = 7  # MR122, the mode phones use for voice messages
SILK_RATE = 24000
ESPEAK_VOICES = {"en": "en-us", "zh": "cmn"}


def speak(text: str, language: str, sample_rate: int) -> np.ndarray:
    """``text`` spoken by espeak-ng, as int16 mono at ``sample_rate``; RuntimeError when a tool is missing."""
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed (make system-deps installs it)")
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", ESPEAK_VOICES[language], "-s", "165", "-w", str(wav), text],
                       check=True, capture_output=True)
        pcm = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(wav), "-ac", "1",
                              "-ar", str(sample_rate), "-f", "s16le", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(pcm, dtype="<i2")


@functools.cache
def _amrnb() -> ctypes.CDLL:
    name = ctypes.util.find_library("opencore-amrnb") or "libopencore-amrnb.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise RuntimeError("AMR voice messages need libopencore-amrnb (apt-get install libopencore-amrnb0)") from exc
    lib.Encoder_Interface_init.restype = ctypes.c_void_p
    lib.Encoder_Interface_init.argtypes = [ctypes.c_int]
    lib.Encoder_Interface_Encode.restype = ctypes.c_int
    lib.Encoder_Interface_Encode.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_short),
                                             ctypes.c_char_p, ctypes.c_int]
    lib.Encoder_Interface_exit.argtypes = [ctypes.c_void_p]
    return lib


def encode_amr(samples_8k: np.ndarray) -> bytes:
    """AMR-NB file bytes (``#!AMR\\n`` + 12.2 kbit/s frames) of int16 mono 8 kHz samples."""
    lib = _amrnb()
    state = lib.Encoder_Interface_init(0)
    frames = [b"#!AMR\n"]
    out = ctypes.create_string_buffer(64)
    padded = np.pad(samples_8k, (0, -len(samples_8k) % AMR_FRAME)).astype("<i2")
    try:
        for start in range(0, len(padded), AMR_FRAME):
            chunk = np.ascontiguousarray(padded[start:start + AMR_FRAME])
            size = lib.Encoder_Interface_Encode(state, AMR_MODE_12_2,
                                                chunk.ctypes.data_as(ctypes.POINTER(ctypes.c_short)), out, 0)
            frames.append(out.raw[:size])
    finally:
        lib.Encoder_Interface_exit(state)
    return b"".join(frames)


def encode_silk(samples: np.ndarray, sample_rate: int = SILK_RATE) -> bytes:
    """Tencent SILK v3 bytes (as WeChat writes them) of int16 mono samples."""
    import pysilk

    out = io.BytesIO()
    pysilk.encode(io.BytesIO(samples.astype("<i2").tobytes()), out, sample_rate, 24000, tencent=True)
    return out.getvalue()


def voice_message(text: str, language: str, codec: str) -> bytes:
    """The bytes of a voice message saying ``text``: ``amr`` or ``silk``."""
    if codec == "amr":
        return encode_amr(speak(text, language, AMR_RATE))
    return encode_silk(speak(text, language, SILK_RATE))
