"""The optional backend: a pyannote.audio pipeline loaded from a local directory.

For GPU deployments that install ``pip install -e '.[pyannote]'`` with a matching
CUDA torch and bring a pipeline checkpoint (its ``config.yaml`` and the model files
it names) on disk: nothing is fetched from a hub. pyannote.audio is imported on
first use only, because on the CPU torch of the default install its torchaudio
breaks other imports (see ../shared/STACK.md).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from talktrack.models.audio import DecodedAudio
from talktrack.models.diarization.base import Diarization, SpeakerBounds, label_by_first_appearance

INSTALL_HINT = "pip install -e '.[pyannote]'"


class PyannoteUnavailable(ImportError):
    """pyannote.audio is not installed, or the pipeline directory cannot be used."""


class PyannoteDiarizer:
    """Runs a local pyannote.audio speaker-diarization pipeline, on ``device``."""

    backend = "pyannote"

    def __init__(self, pipeline_dir: str | Path, *, device: str = "cpu") -> None:
        self.pipeline_dir = Path(pipeline_dir)
        self.device = device

    def diarize(self, audio: DecodedAudio, bounds: SpeakerBounds) -> Diarization:
        import torch

        pipeline = get_pipeline(self.pipeline_dir, self.device)
        started = time.perf_counter()
        asked: dict[str, int] = (
            {"num_speakers": bounds.num}
            if bounds.num is not None
            else {"min_speakers": bounds.minimum, "max_speakers": bounds.maximum}
        )
        waveform = torch.from_numpy(audio.mono[None, :].copy())  # shape (1, n)
        output = pipeline({"waveform": waveform, "sample_rate": audio.sample_rate}, **asked)
        annotation = getattr(output, "speaker_diarization", output)  # pyannote.audio 4 wraps it
        tracks = annotation.itertracks(yield_label=True)
        turns = label_by_first_appearance((segment.start, segment.end, label) for segment, _, label in tracks)
        params = _flatten(pipeline.parameters(instantiated=True))
        params.update({"pipeline_dir": str(self.pipeline_dir), "device": self.device})
        params.update({f"speakers__{k.split('_')[0]}": v for k, v in asked.items()})
        return Diarization(turns, self.backend, params, {"pipeline": time.perf_counter() - started})


_PIPELINES: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


def get_pipeline(pipeline_dir: Path, device: str) -> Any:
    """The pipeline in ``pipeline_dir`` on ``device``, loaded once per process."""
    key = (str(pipeline_dir), device)
    with _LOCK:
        if key not in _PIPELINES:
            _PIPELINES[key] = _load(pipeline_dir, device)
        return _PIPELINES[key]


def _load(pipeline_dir: Path, device: str) -> Any:
    config = pipeline_dir / "config.yaml"
    if not config.is_file():
        raise PyannoteUnavailable(f"{pipeline_dir}: no config.yaml; give a local pyannote pipeline directory")
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")  # pyannote.audio phones home otherwise
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    Pipeline, version = import_pyannote_audio()
    import torch

    # pyannote.audio 4 takes the directory; 3.x takes the config file inside it.
    source = pipeline_dir if int(version.split(".")[0]) >= 4 else config
    pipeline = Pipeline.from_pretrained(str(source))
    if pipeline is None:
        raise PyannoteUnavailable(f"{pipeline_dir}: pyannote.audio could not build a pipeline from it")
    return pipeline.to(torch.device(device))


def import_pyannote_audio() -> tuple[Any, str]:
    """``(Pipeline, version)`` from pyannote.audio, or an error saying how to install it."""
    try:
        import pyannote.audio
        from pyannote.audio import Pipeline
    except ImportError as exc:
        raise PyannoteUnavailable(
            f"the pyannote diarizer needs pyannote.audio, an optional extra: {INSTALL_HINT} "
            f"(with a CUDA torch; see ../shared/STACK.md). Import failed: {exc}"
        ) from exc
    return Pipeline, str(getattr(pyannote.audio, "__version__", "0"))


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, float | int | str]:
    flat: dict[str, float | int | str] = {}
    for key, value in tree.items():
        name = f"{prefix}__{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, name))
        elif isinstance(value, (int, float, str)):
            flat[name] = value
        else:
            flat[name] = str(value)
    return flat
