"""The contract between diarizers and their users: turns in, nothing else shared.

A :class:`Diarization` carries its turns and, for provenance, the backend, every
hyper-parameter that produced it (flat ``step__name`` keys, ready for MLflow) and
the seconds spent per step.

    >>> d = Diarization([Turn(0.0, 1.5, "SPEAKER_00"), Turn(1.5, 3.0, "SPEAKER_01")], "resemblyzer", {}, {})
    >>> d.speakers
    ['SPEAKER_00', 'SPEAKER_01']
    >>> print(d.to_rttm("call1"), end="")
    SPEAKER call1 1 0.000 1.500 <NA> <NA> SPEAKER_00 <NA> <NA>
    SPEAKER call1 1 1.500 1.500 <NA> <NA> SPEAKER_01 <NA> <NA>
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pyannote.core import Annotation

    from talktrack.models.audio import DecodedAudio

ParamValue = float | int | str


@dataclass(frozen=True)
class Turn:
    """One speaker speaking from ``start`` to ``end`` (seconds from the start of the file)."""

    start: float
    end: float
    speaker: str

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Diarization:
    """Who spoke when. ``turns`` are sorted by start and may overlap when the backend finds overlap."""

    turns: list[Turn]
    backend: str
    params: dict[str, ParamValue] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def speakers(self) -> list[str]:
        """Speaker labels in order of first appearance."""
        return list(dict.fromkeys(turn.speaker for turn in self.turns))

    def speaker_durations(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for turn in self.turns:
            totals[turn.speaker] = totals.get(turn.speaker, 0.0) + turn.duration
        return totals

    def to_annotation(self, uri: str) -> Annotation:
        """The turns as a ``pyannote.core.Annotation`` (for pyannote.metrics)."""
        from pyannote.core import Annotation, Segment

        annotation = Annotation(uri=uri)
        for index, turn in enumerate(self.turns):
            annotation[Segment(turn.start, turn.end), index] = turn.speaker
        return annotation

    def to_rttm(self, uri: str) -> str:
        """NIST RTTM lines, one per turn (``uri`` must not contain spaces)."""
        if any(ch.isspace() for ch in uri):
            raise ValueError(f"RTTM file ids cannot contain whitespace: {uri!r}")
        return "".join(
            f"SPEAKER {uri} 1 {turn.start:.3f} {turn.duration:.3f} <NA> <NA> {turn.speaker} <NA> <NA>\n"
            for turn in self.turns
        )


@dataclass(frozen=True)
class SpeakerBounds:
    """How many speakers to find: exactly ``num`` when given, else within [minimum, maximum].

    ``expected``: how many the kind of call usually has (a two-party phone call: 2, from the
    dialer or CRM); a diarizer may check whether that many voices are there when it found fewer.
    Built from the settings by :func:`talktrack.models.diarization.options.speaker_bounds`, which
    holds the configured defaults; impossible bounds are refused here, before any work is done.
    """

    minimum: int
    maximum: int
    num: int | None = None
    expected: int | None = None

    def __post_init__(self) -> None:
        if self.num is not None and self.num < 1:
            raise ValueError(f"num_speakers must be at least 1, got {self.num}")
        if self.minimum < 1:
            raise ValueError(f"min_speakers must be at least 1, got {self.minimum}")
        if self.minimum > self.maximum:
            raise ValueError(f"min_speakers ({self.minimum}) exceeds max_speakers ({self.maximum})")
        if self.expected is not None and not self.minimum <= self.expected <= self.maximum:
            raise ValueError(f"expected speakers ({self.expected}) outside [{self.minimum}, {self.maximum}]")

    def as_params(self) -> dict[str, int | str]:
        num = "auto" if self.num is None else self.num
        params: dict[str, int | str] = {"speakers__num": num, "speakers__min": self.minimum, "speakers__max": self.maximum}
        if self.expected is not None:
            params["speakers__expected"] = self.expected
        return params


class Diarizer(Protocol):
    """Anything that turns decoded audio into a :class:`Diarization`."""

    def diarize(self, audio: DecodedAudio, bounds: SpeakerBounds) -> Diarization: ...


def speaker_label(index: int) -> str:
    """The name of the ``index``-th speaker (or channel): ``SPEAKER_00``, ``SPEAKER_01``, …

    >>> speaker_label(1), speaker_index("SPEAKER_01")
    ('SPEAKER_01', 1)
    """
    return f"SPEAKER_{index:02d}"


def speaker_index(label: str) -> int:
    """The number in a :func:`speaker_label` (a split recording's speaker is its channel)."""
    return int(label.rsplit("_", 1)[-1])


def label_by_first_appearance(spans: Iterable[tuple[float, float, Any]]) -> list[Turn]:
    """``(start, end, cluster id)`` → turns sorted by start, named SPEAKER_00, 01, … by first appearance."""
    ordered = sorted(spans, key=lambda span: (span[0], span[1]))
    names: dict[Any, str] = {}
    turns = []
    for start, end, cluster in ordered:
        if end <= start:
            continue
        name = names.setdefault(cluster, speaker_label(len(names)))
        turns.append(Turn(round(float(start), 3), round(float(end), 3), name))
    return turns
