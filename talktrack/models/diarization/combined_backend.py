"""The combined diarizer: the window and segmentation backends both run, and the result that
tells more speakers apart is kept.

Why two, and why this rule: the backends fail in opposite ways on real recordings (figures in
the README, measured on the ami_debug clips and on generated calls):

- the window backend (:mod:`.resemblyzer_backend`, one speaker per frame) is the better one on
  two-party calls, but when most of the speech overlaps its windows hold mixtures of voices and
  cluster into one speaker (ami ``tst00``: 1 speaker found of 4);
- the segmentation backend (:mod:`.segmentation_backend`) finds overlap, but its local model
  sometimes gives two similar voices one local speaker within a 10 s chunk, which no clustering
  can undo (ami ``dev00`` and three of six generated calls: 1 speaker found of 2).

Both under-count, and neither found more speakers than the reference on any ami_debug train clip,
so the result with more speakers is the one that resolved voices the other merged. A tie keeps
the window result. With a fixed ``num_speakers`` the count cannot arbitrate, and the window
backend answers alone.

    >>> settings = load_settings().models.diarizer                    # doctest: +SKIP
    >>> diarizer = build_diarizer(settings)
    >>> result = diarizer.diarize(decode_audio("meeting.wav"), speaker_bounds(settings))
    >>> result.params["combined__chosen"], result.params["combined__segmentation_speakers"]  # doctest: +SKIP
    ('segmentation', 3)
"""

from __future__ import annotations

from talktrack.models.audio import DecodedAudio
from talktrack.models.diarization.base import Diarization, SpeakerBounds
from talktrack.models.diarization.resemblyzer_backend import ResemblyzerDiarizer
from talktrack.models.diarization.segmentation_backend import SegmentationDiarizer


class CombinedDiarizer:
    """Runs ``window`` and ``segmentation``; keeps the one finding more speakers (see the module docstring)."""

    backend = "combined"

    def __init__(self, window: ResemblyzerDiarizer, segmentation: SegmentationDiarizer) -> None:
        self.window = window
        self.segmentation = segmentation

    def diarize(self, audio: DecodedAudio, bounds: SpeakerBounds) -> Diarization:
        window = self.window.diarize(audio, bounds)
        if bounds.num is not None:
            return self._combined(window, None, chosen=window)
        overlap_aware = self.segmentation.diarize(audio, bounds)
        chosen = overlap_aware if len(overlap_aware.speakers) > len(window.speakers) else window
        return self._combined(window, overlap_aware, chosen=chosen)

    def _combined(self, window: Diarization, overlap_aware: Diarization | None, *, chosen: Diarization) -> Diarization:
        """``chosen``'s turns; both results' parameters, counts and timings (the segmentation
        backend's prefixed), for provenance."""
        params = dict(window.params)
        timings = {step: seconds for step, seconds in window.timings.items() if step != "total"}
        params["combined__chosen"] = chosen.backend if overlap_aware is not None else f"{window.backend} (fixed count)"
        params["combined__window_speakers"] = len(window.speakers)
        if overlap_aware is not None:
            params["combined__segmentation_speakers"] = len(overlap_aware.speakers)
            renamed = {_segmentation_key(key): value for key, value in overlap_aware.params.items()}
            params.update({key: value for key, value in renamed.items() if key not in params})
            timings.update({f"segmentation_{step}": seconds for step, seconds in overlap_aware.timings.items()
                            if step != "total"})
        timings["total"] = sum(timings.values())
        return Diarization(list(chosen.turns), self.backend, params, timings)


def _segmentation_key(key: str) -> str:
    """The segmentation backend's clustering keys would collide with the window backend's."""
    return f"segmentation_{key}" if key.startswith("clustering__") else key
