"""The combined diarizer: the window and segmentation backends both run, each result's speakers
are verified by their voices, and the result with more verified speakers is kept.

Why two: the backends fail in opposite ways on real recordings (figures in the README):

- the window backend (:mod:`.resemblyzer_backend`, one speaker per frame) is the better one on
  two-party calls, but when most of the speech overlaps its windows hold mixtures of voices and
  cluster into one speaker (ami ``tst00``: 1 speaker found of 4);
- the segmentation backend (:mod:`.segmentation_backend`) finds overlap, but its local model
  sometimes gives two similar voices one local speaker within a 10 s chunk (ami ``dev00``: 1
  found of 2) — and on a mono phone call with cross-talk it can split one party in two or three
  (a real 4-minute two-party call: 4 found of 2, DER 0.333).

So neither count is trusted as it comes: :mod:`.verification` embeds each speaker's clean speech
with CAM++ and merges speakers whose voices are not told apart, a minor speaker without a
distinct voice, and any speaker beyond ``bounds.maximum`` (what the call is: a two-party phone
call caps it at 2). Of the two verified results, the one with more speakers resolved voices the
other merged, and is kept. On equal counts, a known two-party phone call keeps the segmentation
result (``tie_keeps_expected``: it marks cross-talk, which the window result cannot; on the train
mixtures DER 0.113 for the segmentation backend alone against 0.177 for the window one), and a
recording of unknown kind keeps ``tie_keeps`` (the window result, as chosen on the AMI train clips). When the kind of call says how many
speakers to expect and fewer were found (both backends heard one voice in a two-party call), the
segmentation backend's chunk speakers are clustered again into that many (no model runs again), and
that split is kept unless its voices are too close (``expected_distance``, see :func:`split_holds`).
Why that backend: on the train mixtures every count miss was a quieter party behind a telephone
codec (GSM-FR or µ-law, 6–12 dB down), whose voice CAM++ and resemblyzer place near the louder one;
the window backend forced to two cut the call in the wrong place (minor party 42 % of the speech,
truly 5 %), while the segmentation model, which hears a change of voice within each 10 s chunk,
found the quiet party's turns (4 %, DER 0.043 → 0.018).
With a fixed ``num_speakers`` the count cannot arbitrate, and the window backend answers alone.

Only what can change the answer is computed: the backend that wins a tie runs first, and when its
verified count already reaches ``bounds.maximum`` the other could not be chosen and is not run (a
phone call heard as two voices: the segmentation backend alone, the window backend's ~1.4 CPU-s
and torch work saved from a cold ``talktrack transcribe``; the turns are the same as before).

    >>> settings = load_settings().models.diarizer                    # doctest: +SKIP
    >>> diarizer = build_diarizer(settings)
    >>> result = diarizer.diarize(decode_audio("call.wav"), speaker_bounds(settings, call_type="phone_call"))
    >>> result.params["combined__chosen"], result.params["combined__segmentation_speakers"]  # doctest: +SKIP
    ('segmentation', '4 -> 2')
"""

from __future__ import annotations

import time

from talktrack.models.audio import DecodedAudio
from talktrack.models.diarization.base import Diarization, SpeakerBounds
from talktrack.models.diarization.campplus import campplus_encoder
from talktrack.models.diarization.resemblyzer_backend import ResemblyzerDiarizer
from talktrack.models.diarization.segmentation_backend import Segmented, SegmentationDiarizer
from talktrack.models.diarization.verification import (
    VerificationOptions,
    merge_plan,
    relabel,
    speaker_pieces,
    split_holds,
)


NEVER = 2.0  # expected_distance: no two voices are that far apart (cosine), so no forced split is kept


class CombinedDiarizer:
    """Runs ``window`` and ``segmentation``, verifies both, keeps the one with more verified
    speakers (see the module docstring)."""

    backend = "combined"

    def __init__(self, window: ResemblyzerDiarizer, segmentation: SegmentationDiarizer,
                 verification: VerificationOptions) -> None:
        self.window = window
        self.segmentation = segmentation
        self.verification = verification

    def diarize(self, audio: DecodedAudio, bounds: SpeakerBounds) -> Diarization:
        if bounds.num is not None:
            window = self.window.diarize(audio, bounds)
            return self._combined(window, None, chosen=window, found={}, verify_s=0.0)
        known = bounds.expected is not None
        tie_keeps = self.verification.tie_keeps_expected if known else self.verification.tie_keeps
        first, second = ("segmentation", "window") if tie_keeps == "segmentation" else ("window", "segmentation")
        found: dict[str, int | str] = {}
        verified: dict[str, Diarization] = {}
        segmented: Segmented | None = None
        verify_s = 0.0
        for name in (first, second):
            if name == second and len(verified[first].speakers) >= bounds.maximum:
                # the tie winner already has as many verified speakers as the call may have: the other
                # result cannot have more, so it could not be chosen, and is not computed (a phone call
                # heard as two voices runs the segmentation backend alone: issue 15, cold start)
                found[name] = "skipped"
                continue
            if name == "window":
                result = self.window.diarize(audio, bounds)
            else:
                segmented = self.segmentation.analyse(audio)
                result = self.segmentation.cluster(segmented, bounds)
            found[name] = len(result.speakers)
            started = time.perf_counter()
            verified[name] = self.verified(audio, result, bounds)
            verify_s += time.perf_counter() - started
        chosen = verified[first] if len(verified) == 1 else choose(verified["window"], verified["segmentation"],
                                                                     tie_keeps)
        if (bounds.expected is not None and len(chosen.speakers) < bounds.expected
                and self.verification.expected_distance < NEVER and segmented is not None):
            started = time.perf_counter()
            split = self.expected_split(audio, segmented, bounds)
            verify_s += time.perf_counter() - started
            found["expected_split"] = "kept" if split is not None else "refused"
            chosen = split or chosen
        return self._combined(verified.get("window"), verified.get("segmentation"), chosen=chosen, found=found,
                              verify_s=verify_s)

    def expected_split(self, audio: DecodedAudio, segmented: Segmented, bounds: SpeakerBounds) -> Diarization | None:
        """The segmentation backend's chunk speakers clustered into the expected count (a phone call: 2),
        kept when :func:`split_holds`: a call where one party barely spoke, or a voicemail, stays
        with the count found."""
        forced = self.segmentation.cluster(segmented, SpeakerBounds(bounds.minimum, bounds.maximum,
                                                                    num=bounds.expected))
        encoder = campplus_encoder(self.segmentation.device)
        pieces = speaker_pieces(audio.mono, forced, encoder, self.verification)
        return forced if split_holds(pieces, self.verification) else None

    def verified(self, audio: DecodedAudio, result: Diarization, bounds: SpeakerBounds) -> Diarization:
        """``result`` with the speakers its voices do not tell apart merged (:mod:`.verification`)."""
        if len(result.speakers) < 2:
            return result
        encoder = campplus_encoder(self.segmentation.device)
        pieces = speaker_pieces(audio.mono, result, encoder, self.verification)
        return relabel(result, merge_plan(pieces, self.verification, maximum=bounds.maximum))

    def _combined(self, window: Diarization | None, overlap_aware: Diarization | None, *, chosen: Diarization,
                  found: dict[str, int | str], verify_s: float) -> Diarization:
        """``chosen``'s turns; both results' parameters, counts (found -> verified, or ``skipped``) and
        timings (the segmentation backend's prefixed), for provenance."""
        params: dict = dict(window.params) if window is not None else {}
        timings = {step: seconds for step, seconds in (window.timings if window else {}).items() if step != "total"}
        params["combined__chosen"] = chosen.backend if found else f"{chosen.backend} (fixed count)"
        params["combined__window_speakers"] = _count(found.get("window"), window)
        if "expected_split" in found:  # fewer voices than the call type expects: was the forced split kept?
            params["combined__expected_split"] = found["expected_split"]
        if "segmentation" in found:
            params["combined__segmentation_speakers"] = _count(found["segmentation"], overlap_aware)
            params.update(self.verification.as_params())
        if overlap_aware is not None:
            renamed = {_segmentation_key(key): value for key, value in overlap_aware.params.items()}
            params.update({key: value for key, value in renamed.items() if key not in params})
            timings.update({f"segmentation_{step}": seconds for step, seconds in overlap_aware.timings.items()
                            if step != "total"})
        if found:
            timings["verification"] = verify_s
        timings["total"] = sum(timings.values())
        return Diarization(list(chosen.turns), self.backend, params, timings)


def choose(window: Diarization, overlap_aware: Diarization, tie_keeps: str) -> Diarization:
    """More verified speakers wins (it resolved voices the other merged); equal counts keep ``tie_keeps``."""
    if len(overlap_aware.speakers) != len(window.speakers):
        return overlap_aware if len(overlap_aware.speakers) > len(window.speakers) else window
    return overlap_aware if tie_keeps == "segmentation" else window


def _count(found: int | str | None, verified: Diarization | None) -> int | str:
    """``3 -> 2`` when verification merged speakers, ``skipped`` when not computed, else the count."""
    if verified is None:
        return str(found)
    after = len(verified.speakers)
    return after if found is None or found == after else f"{found} -> {after}"


def _segmentation_key(key: str) -> str:
    """The segmentation backend's clustering keys would collide with the window backend's."""
    return f"segmentation_{key}" if key.startswith("clustering__") else key
