"""Speaker embeddings of sliding windows over speech, with resemblyzer's voice encoder.

The encoder (a 3-layer LSTM over 40-band mel power spectra, 256-d unit-length
output) ships inside the ``resemblyzer`` package. Its input features are computed
here with numpy, identical to ``resemblyzer.audio.wav_to_mel_spectrogram`` (a test
checks it) but without librosa's numba compilation, which costs 1–15 s per fresh
process. The network is rebuilt here from the package's ``pretrained.pt`` (the same
layers and weights, so the same embeddings; a test checks it) without importing the
package: ``import resemblyzer`` pulls in scipy.ndimage, librosa and webrtcvad with
``pkg_resources`` for its audio helpers, ~0.6 CPU-s of a cold ``talktrack transcribe``
that the diarizer never uses (issue 15).

Windows are batched through the encoder in one call per ``batch_size`` windows.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from talktrack.models.diarization.packaged import packaged_file

SAMPLE_RATE = 16000
MEL_HOP = 160  # 10 ms
MEL_WINDOW = 400  # 25 ms
MEL_BANDS = 40
EMBEDDING_DIM = 256


@dataclass(frozen=True)
class EmbeddingOptions:
    """How windows are cut from speech regions and prepared for the encoder.

    window_s, hop_s: sliding-window length and step inside each speech region.
    min_region_s: speech regions shorter than this get no window of their own
        (their frames take the speaker of the nearest window).
    window_rms_dbfs: each window's gain is set so that its RMS is this level before
        the encoder, whose output depends on input level (it was trained on
        utterances normalised to about -30 dBFS); None leaves levels as they are.
    batch_size: windows per encoder call.
    """

    window_s: float
    hop_s: float
    min_region_s: float
    window_rms_dbfs: float | None
    batch_size: int

    def as_params(self, prefix: str = "embedding") -> dict[str, float | int | str]:
        return {f"{prefix}__{k}": ("none" if v is None else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Windows:
    """Embedded windows. ``spans_s`` shape (n, 2): the speech each window stands for, in seconds;
    ``embeddings`` shape (n, 256), unit length; ``weights_s`` shape (n,): seconds of speech
    closer to this window's centre than to any other's."""

    spans_s: np.ndarray
    embeddings: np.ndarray
    weights_s: np.ndarray

    def __len__(self) -> int:
        return int(self.spans_s.shape[0])


def window_spans(
    regions_s: list[tuple[float, float]], duration_s: float, options: EmbeddingOptions
) -> list[tuple[float, float, float, float]]:
    """(audio_start, audio_end, span_start, span_end) per window, seconds.

    A region longer than a window is covered by windows spread evenly at about
    ``hop_s``; a shorter one gets a single window centred on it (so the encoder
    always sees ``window_s`` of audio) that stands for the region alone.
    """
    out = []
    window, hop = options.window_s, options.hop_s
    for start, end in regions_s:
        length = end - start
        if length < options.min_region_s:
            continue
        if length <= window:
            audio_start = min(max(0.0, (start + end - window) / 2), max(0.0, duration_s - window))
            out.append((audio_start, audio_start + window, start, end))
            continue
        count = int(np.ceil((length - window) / hop)) + 1
        for offset in np.linspace(start, end - window, count):
            out.append((offset, offset + window, offset, offset + window))
    return out


def embed_windows(
    signal: np.ndarray,
    regions_s: list[tuple[float, float]],
    options: EmbeddingOptions,
    *,
    device: str = "cpu",
) -> Windows:
    """Embed sliding windows over the speech regions of a 16 kHz mono signal."""
    duration_s = signal.size / SAMPLE_RATE
    spans = window_spans(regions_s, duration_s, options)
    if not spans:
        empty = np.zeros((0, 2))
        return Windows(empty, np.zeros((0, EMBEDDING_DIM), np.float32), np.zeros(0))
    frames = int(round(options.window_s * SAMPLE_RATE / MEL_HOP))
    mels = np.stack([_window_mel(signal, start, frames, options.window_rms_dbfs) for start, *_ in spans])
    embeddings = encode(mels, device=device, batch_size=options.batch_size)
    spans_s = np.array([(span_start, span_end) for *_, span_start, span_end in spans])
    return Windows(spans_s, embeddings, _nearest_window_weights(spans_s, regions_s))


def _window_mel(signal: np.ndarray, start_s: float, frames: int, rms_dbfs: float | None) -> np.ndarray:
    start = int(round(start_s * SAMPLE_RATE))
    chunk = signal[start : start + frames * MEL_HOP]
    if chunk.size < frames * MEL_HOP:  # a file shorter than one window
        chunk = np.pad(chunk, (0, frames * MEL_HOP - chunk.size))
    if rms_dbfs is not None:
        rms = float(np.sqrt(np.mean(np.square(chunk, dtype=np.float64))))
        if rms > 1e-6:
            chunk = chunk * np.float32(10 ** (rms_dbfs / 20) / rms)
    return mel_spectrogram(chunk)[:frames]


def _nearest_window_weights(spans_s: np.ndarray, regions_s: list[tuple[float, float]]) -> np.ndarray:
    """Seconds of speech (10 ms grid) whose nearest window centre is each window's."""
    centres = spans_s.mean(axis=1)
    order = np.argsort(centres)
    weights = np.zeros(len(centres))
    for start, end in regions_s:
        times = np.arange(start, end, 0.01)
        if times.size == 0:
            continue
        sorted_centres = centres[order]
        right = np.clip(np.searchsorted(sorted_centres, times), 0, len(centres) - 1)
        left = np.clip(right - 1, 0, len(centres) - 1)
        nearest = np.where(
            np.abs(sorted_centres[left] - times) <= np.abs(sorted_centres[right] - times), left, right
        )
        np.add.at(weights, order[nearest], 0.01)
    return weights


def mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """Mel power spectrogram as resemblyzer computes it; shape (frames, 40), 10 ms frames.

    Same as ``librosa.feature.melspectrogram(y=wav, sr=16000, n_fft=400,
    hop_length=160, n_mels=40).T`` (centred, zero-padded, periodic Hann, Slaney mel).
    """
    wav = np.asarray(wav, dtype=np.float32)
    padded = np.pad(wav, (MEL_WINDOW // 2, MEL_WINDOW // 2))
    count = 1 + (padded.size - MEL_WINDOW) // MEL_HOP
    frames = np.lib.stride_tricks.as_strided(
        padded, (count, MEL_WINDOW), (padded.strides[0] * MEL_HOP, padded.strides[0]), writeable=False
    )
    power = np.abs(np.fft.rfft(frames * _hann(), axis=1)) ** 2  # shape (count, 201)
    return (power @ _mel_filters().T).astype(np.float32)


@lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(MEL_WINDOW) / MEL_WINDOW)).astype(np.float32)


@lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    """Slaney-style mel filterbank (librosa's default), shape (40, 201)."""
    fft_freqs = np.fft.rfftfreq(MEL_WINDOW, 1 / SAMPLE_RATE)
    mel_points = np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), MEL_BANDS + 2)
    hz_points = _mel_to_hz(mel_points)
    widths = np.diff(hz_points)
    ramps = hz_points[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    filters = np.maximum(0.0, np.minimum(lower, upper))
    filters *= (2.0 / (hz_points[2:] - hz_points[:-2]))[:, None]
    return filters.astype(np.float32)


_F_SP = 200.0 / 3  # Slaney: linear below 1 kHz, logarithmic above
_MIN_LOG_HZ = 1000.0
_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: Any) -> np.ndarray:
    hz = np.asarray(hz, dtype=float)
    log_part = _MIN_LOG_HZ / _F_SP + np.log(np.maximum(hz, 1e-10) / _MIN_LOG_HZ) / _LOG_STEP
    return np.where(hz >= _MIN_LOG_HZ, log_part, hz / _F_SP)


def _mel_to_hz(mel: Any) -> np.ndarray:
    mel = np.asarray(mel, dtype=float)
    min_log_mel = _MIN_LOG_HZ / _F_SP
    return np.where(mel >= min_log_mel, _MIN_LOG_HZ * np.exp(_LOG_STEP * (mel - min_log_mel)), _F_SP * mel)


def encode(mels: np.ndarray, *, device: str = "cpu", batch_size: int = 64) -> np.ndarray:
    """Embeddings of equal-length mel windows; ``mels`` shape (n, frames, 40) → (n, 256)."""
    import torch

    encoder = get_voice_encoder(device)
    out = []
    with torch.inference_mode():
        for first in range(0, len(mels), batch_size):
            chunk = np.ascontiguousarray(mels[first : first + batch_size])
            batch = torch.from_numpy(chunk).to(encoder.device)
            out.append(encoder(batch).float().cpu().numpy())
    return np.concatenate(out).astype(np.float32)


_ENCODERS: dict[str, Any] = {}
_ENCODER_LOCK = threading.Lock()


def get_voice_encoder(device: str = "cpu") -> Any:
    """resemblyzer's pretrained VoiceEncoder on ``device``, loaded once per process and device."""
    with _ENCODER_LOCK:
        if device not in _ENCODERS:
            _ENCODERS[device] = _load_encoder(device)
        return _ENCODERS[device]


def _load_encoder(device: str) -> Any:
    import torch
    from torch import nn

    class VoiceEncoder(nn.Module):
        """resemblyzer's ``VoiceEncoder`` network and forward pass: the last layer's final hidden
        state → linear → ReLU → unit length."""

        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(MEL_BANDS, EMBEDDING_DIM, 3, batch_first=True)
            self.linear = nn.Linear(EMBEDDING_DIM, EMBEDDING_DIM)
            self.relu = nn.ReLU()

        def forward(self, mels):  # (batch, frames, 40) → (batch, 256)
            _, (hidden, _) = self.lstm(mels)
            raw = self.relu(self.linear(hidden[-1]))
            return raw / torch.norm(raw, dim=1, keepdim=True)

    state = torch.load(voice_encoder_weights(), map_location="cpu", weights_only=True)["model_state"]
    encoder = VoiceEncoder()
    encoder.load_state_dict(state, strict=False)  # the checkpoint also holds its training loss's two scalars
    encoder.device = torch.device(device)
    return encoder.to(device).eval()


def voice_encoder_weights() -> Path:
    """``pretrained.pt`` inside the installed ``resemblyzer`` package, found without importing it."""
    return packaged_file("resemblyzer", "pretrained.pt", "the default diarizer's voice-encoder weights",
                         "pinned: resemblyzer==0.1.4 with 'setuptools<82'")
