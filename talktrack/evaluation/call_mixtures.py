"""Two-party phone-call mixtures with exact speaker truth, built from separately recorded channels.

Why: a real two-party call mixed down to mono is easy when the parties take tidy turns (call 40's
own mix scores DER ≈ 0.02), and real contact-centre calls are not tidy — people talk over each
other, one line is louder, the audio went through a telephone codec and a noisy room. Because the
agent and the caller of ``calls_en_telephone/Auto_Repairs_40_UTC`` were recorded on separate clean
channels, every such case can be made from real speech *and* keep its exact truth: each channel's
turns (the ``.rttm`` given with the call, derived from the channels by an energy detector) move
with the audio.

One mixture = an excerpt (30–60 s) of the call, then, in this order:

1. **cross-talk**: a party cuts in or talks on — one turn of one channel is moved earlier or later
   into its own silence, over the other party's speech — until the overlapped
   share of the speech reaches the target (0, 10, 20 or 30 %; the reached share is recorded);
2. **gain**: one channel turned down by 0, 6 or 12 dB, then the channels summed (the mono mix);
3. **noise**: pink noise at an SNR of 20 or 10 dB against the mix, or none;
4. **codec**: G.711 µ-law or GSM-FR (06.10) through ffmpeg at 8 kHz, or none. AMR-NB would be the
   likelier mobile codec, but this ffmpeg can only decode it (no ``libopencore_amrnb`` encoder);
   GSM-FR is the full-rate codec of the same networks and ships with ffmpeg's ``libgsm``;
5. **rate**: kept at 8 kHz, or stored as 16 kHz (a narrowband call in a wideband file).

The call is split by time (``train`` before a silence near 60 % of the call, ``test`` after it, no
audio shared); parameters are chosen on ``train``, ``test`` is for reporting only. ``test`` also
holds variants of ``asr_en/faster_whisper_stereo/stereo_diarization.wav`` (a different recording,
one speaker per channel; its channels speak at once, so they are laid one after the other first).

Everything is built deterministically into ``cache_dir`` (the shared data stay read-only and
nothing is committed); a cache whose manifest matches is reused.

    >>> mixtures = build_call_mixtures("/tmp/tt-mixtures", "test")        # doctest: +SKIP
    >>> m = mixtures[0]
    >>> m.path, m.num_speakers, m.conditions["codec"], m.channel_paths["agent"]  # doctest: +SKIP
    (PosixPath('/tmp/tt-mixtures/.../test/test_00.wav'), 2, 'pcm', PosixPath('.../test_00.agent.wav'))
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from talktrack.evaluation.diarization import read_rttm
from talktrack.models.diarization.base import Diarization, Turn

VERSION = 1
RATE = 8000  # telephone narrowband: every mixture is built at 8 kHz, codecs included
SPLITS = ("train", "test")
TRAIN_SHARE = 0.6  # the train/test cut: the first silence after 60 % of the call
CROSSTALK_SHARES = (0.0, 0.1, 0.2, 0.3)
CODECS = ("pcm", "mulaw", "gsm")
RATES = (8000, 16000)
GAINS_DB = (0.0, 6.0, 12.0)
SNRS_DB = (None, 20.0, 10.0)
WINDOWS_S = (30.0, 45.0, 60.0)
MAX_SHIFT_S = 4.0  # the longest early start of one turn: people talk over a tail, not a whole turn
SEEDS = {"train": 1500, "test": 2500}
FULL_PLAN = 24  # every cross-talk share x codec x rate once

CALL = "calls_en_telephone/Auto_Repairs_40_UTC"
STEREO = "asr_en/faster_whisper_stereo/stereo_diarization.wav"
DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@dataclass(frozen=True)
class Mixture:
    """One mono mixture, its exact reference turns and the clean channels aligned with it.

    ``channel_paths[speaker]``: that party alone (after the cross-talk shift, before gain, noise
    and codec), at the mixture's sample rate and sample-aligned with ``path`` — what a clean
    per-speaker transcript (cpWER's silver reference) is made from.
    """

    id: str
    split: str
    path: Path
    reference: list[Turn]
    channel_paths: dict[str, Path]
    conditions: dict[str, Any] = field(default_factory=dict)

    @property
    def num_speakers(self) -> int:
        return len({turn.speaker for turn in self.reference})

    def annotation(self):
        """The reference as a ``pyannote.core.Annotation`` (uri = ``id``)."""
        return Diarization(list(self.reference), "reference").to_annotation(self.id)

    def rttm(self) -> str:
        return Diarization(list(self.reference), "reference").to_rttm(self.id)


@dataclass
class _Source:
    """Two clean channels of one conversation at :data:`RATE`, with each channel's turns."""

    name: str
    channels: dict[str, np.ndarray]  # speaker → float32 samples, equal lengths
    turns: list[Turn]


def build_call_mixtures(
    cache_dir: str | Path, split: str, *, data: str | Path | None = None, count: int = 24
) -> list[Mixture]:
    """The ``split`` mixtures (``"train"`` or ``"test"``), built into ``cache_dir`` once.

    ``count``: mixtures of call 40 in the split; the first 24 cover every combination of
    cross-talk share × codec × sample rate once (gain, noise and window drawn from the seed).
    ``data``: the shared data folder (default ``../shared/data`` beside the repository).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    data = Path(data) if data is not None else DEFAULT_DATA
    _check_tools()
    folder = Path(cache_dir) / f"call_mixtures_v{VERSION}" / split
    manifest = folder / "manifest.json"
    key = {"version": VERSION, "split": split, "count": count, "data": str(data.resolve())}
    if manifest.is_file():
        stored = json.loads(manifest.read_text(encoding="utf-8"))
        if stored["key"] == key and all(Path(m["path"]).is_file() for m in stored["mixtures"]):
            return [_from_json(m) for m in stored["mixtures"]]
    mixtures = _build(folder, split, data, count)
    record = {"key": key, "mixtures": [_to_json(m) for m in mixtures]}
    manifest.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return mixtures


def _build(folder: Path, split: str, data: Path, count: int) -> list[Mixture]:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(SEEDS[split])
    call = _load_call(data)
    start_s, end_s = _split_region(call, split)
    mixtures = []
    # the plan is drawn for the full set, so the first `count` mixtures are the same whatever `count` is
    for index, conditions in enumerate(_condition_plan(max(count, FULL_PLAN), rng)[:count]):
        length_s = min(conditions.pop("window_s"), end_s - start_s)
        window_start = float(rng.uniform(start_s, end_s - length_s))
        excerpt = _excerpt(call, window_start, window_start + length_s)
        conditions.update(source=call.name, window_s=[round(window_start, 2), round(window_start + length_s, 2)])
        mixtures.append(_render(folder, f"{split}_{index:02d}", split, excerpt, conditions, rng))
    if split == "test":
        stereo = _load_stereo(data)
        for index, conditions in enumerate(_stereo_plan()):
            conditions["source"] = stereo.name
            mixtures.append(_render(folder, f"test_stereo_{index}", split, stereo, conditions, rng))
    return mixtures


def _condition_plan(count: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Cross-talk × codec × rate in a full factorial (cycled), gain, noise and window drawn."""
    plan = []
    for i in range(count):
        plan.append({
            "crosstalk_target": CROSSTALK_SHARES[i % 4],
            "codec": CODECS[(i // 4) % 3],
            "sample_rate": RATES[(i // 12) % 2],
            "gain_db": float(rng.choice(GAINS_DB)),
            "snr_db": SNRS_DB[int(rng.integers(len(SNRS_DB)))],
            "window_s": float(rng.choice(WINDOWS_S)),
        })
    return plan


def _stereo_plan() -> list[dict[str, Any]]:
    return [
        {"crosstalk_target": 0.0, "codec": "pcm", "sample_rate": 16000, "gain_db": 0.0, "snr_db": None},
        {"crosstalk_target": 0.1, "codec": "mulaw", "sample_rate": 8000, "gain_db": 6.0, "snr_db": 20.0},
        {"crosstalk_target": 0.2, "codec": "gsm", "sample_rate": 16000, "gain_db": 12.0, "snr_db": 10.0},
        {"crosstalk_target": 0.0, "codec": "gsm", "sample_rate": 8000, "gain_db": 12.0, "snr_db": None},
    ]


# --- sources ---------------------------------------------------------------------------------


def _load_call(data: Path) -> _Source:
    import soundfile

    channels = {}
    for speaker in ("agent", "caller"):
        path = data / f"{CALL}_{speaker}.wav"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: call 40's clean channel is missing (see shared/data/PROVENANCE.md)")
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
        channels[speaker] = _to_rate(samples[:, 0], rate)
    turns = read_rttm(data / f"{CALL}.rttm")["Auto_Repairs_40_UTC"]
    return _Source("Auto_Repairs_40_UTC", _equal_lengths(channels), turns)


def _load_stereo(data: Path) -> _Source:
    """The two channels speak at once, so the right one is laid after the left (0.5 s pause)."""
    import soundfile

    samples, rate = soundfile.read(str(data / STEREO), dtype="float32", always_2d=True)
    left, right = _to_rate(samples[:, 0], rate), _to_rate(samples[:, 1], rate)
    left_turns, right_turns = energy_turns(left, RATE, "left"), energy_turns(right, RATE, "right")
    left_end = max(t.end for t in left_turns)
    right_start = min(t.start for t in right_turns)
    offset = int(round((left_end + 0.5 - right_start) * RATE))
    total = max(left.size, offset + right.size) + RATE // 2
    channels = {"left": _placed(left, 0, total), "right": _placed(right, offset, total)}
    shifted = [Turn(t.start + offset / RATE, t.end + offset / RATE, t.speaker) for t in right_turns]
    return _Source("stereo_diarization", channels, sorted(left_turns + shifted, key=lambda t: t.start))


def energy_turns(
    signal: np.ndarray, rate: int, speaker: str, *, frame_s: float = 0.03, over_floor_db: float = 15.0,
    below_loud_db: float = 30.0, merge_gap_s: float = 0.3, pad_s: float = 0.05,
) -> list[Turn]:
    """One clean channel's speech turns by an energy detector like the one call 40's ``.rttm``
    was derived with: 30 ms frames louder than the channel's noise floor (its 10th-percentile
    frame) by 15 dB, gaps under 0.3 s merged, 50 ms of padding. A near-digital-silence floor
    (call 40's channels sit at -108 dBFS) would let breaths and line hiss count as speech, so a
    frame must also be within 30 dB of the channel's loud frames (95th percentile); on call 40
    this reproduces the ``.rttm``'s speech within 1 s per channel (97.3 s vs 97.9 s agent,
    101.5 s vs 102.2 s caller)."""
    hop = int(frame_s * rate)
    frames = signal[: signal.size // hop * hop].reshape(-1, hop)
    level = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    threshold = max(np.percentile(level, 10) + over_floor_db, np.percentile(level, 95) - below_loud_db)
    loud = level > threshold
    spans: list[list[float]] = []
    for index in np.flatnonzero(loud):
        start, end = index * frame_s, (index + 1) * frame_s
        if spans and start - spans[-1][1] < merge_gap_s:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    duration = signal.size / rate
    return [Turn(round(max(0.0, float(s) - pad_s), 3), round(min(duration, float(e) + pad_s), 3), speaker) for s, e in spans]


def _split_region(call: _Source, split: str) -> tuple[float, float]:
    """``train`` = [0, cut), ``test`` = [cut, end): cut at the first moment after 60 % of the
    call when nobody speaks, so no turn is shared."""
    duration = next(iter(call.channels.values())).size / RATE
    cut = TRAIN_SHARE * duration
    for turn in sorted(call.turns, key=lambda t: t.start):
        if turn.start <= cut < turn.end:
            cut = turn.end
    return (0.0, cut) if split == "train" else (cut, duration)


def _excerpt(source: _Source, start_s: float, end_s: float) -> _Source:
    a, b = int(start_s * RATE), int(end_s * RATE)
    turns = [
        Turn(round(max(t.start, start_s) - start_s, 3), round(min(t.end, end_s) - start_s, 3), t.speaker)
        for t in source.turns if t.end > start_s and t.start < end_s and min(t.end, end_s) - max(t.start, start_s) > 0.05
    ]
    return _Source(source.name, {s: x[a:b].copy() for s, x in source.channels.items()}, turns)


# --- the steps -------------------------------------------------------------------------------


def _render(folder: Path, name: str, split: str, source: _Source, conditions: dict[str, Any],
            rng: np.random.Generator) -> Mixture:
    channels, turns = insert_crosstalk(source.channels, source.turns, conditions["crosstalk_target"], rng)
    conditions["crosstalk_reached"] = round(max(0.0, float(overlap_share(turns))), 3)
    speakers = sorted(channels)
    quieter = speakers[int(rng.integers(2))]
    conditions["quieter"] = quieter
    mix = sum(x * (10 ** (-conditions["gain_db"] / 20) if s == quieter else 1.0) for s, x in channels.items())
    if conditions["snr_db"] is not None:
        mix = mix + _pink_noise(mix.size, rng) * _rms(mix) / 10 ** (conditions["snr_db"] / 20)
    peak = max(np.abs(mix).max(), 1e-6)
    mix = mix * (0.7 / peak)  # a recorder's level: loud, never clipped
    rate = conditions["sample_rate"]
    path = folder / f"{name}.wav"
    _write_coded(mix, path, conditions["codec"], rate)
    channel_paths = {}
    for speaker, samples in channels.items():
        channel_paths[speaker] = folder / f"{name}.{speaker}.wav"
        _write_coded(samples * (0.7 / peak), channel_paths[speaker], "pcm", rate)
    return Mixture(name, split, path, turns, channel_paths, conditions)


def insert_crosstalk(channels: dict[str, np.ndarray], turns: list[Turn], target: float,
                     rng: np.random.Generator) -> tuple[dict[str, np.ndarray], list[Turn]]:
    """Move turns over the other party's speech until ``target`` of the speech overlaps.

    A turn of speaker B moves by up to :data:`MAX_SHIFT_S` into B's own silence — earlier, over
    the end of A's turn before it (B cuts in), or later, over the start of A's next turn (B
    talks on): the stretch of B's channel spanning the turn and the silence it moves into is
    rotated, so B's audio keeps every sample and B's reference turn moves with it, exactly.
    """
    channels = {s: x.copy() for s, x in channels.items()}
    turns = sorted(turns, key=lambda t: t.start)
    for direction in (-1, 1):
        for index in rng.permutation(len(turns)):
            reached = overlap_share(turns)
            if reached >= target:
                return channels, sorted(turns, key=lambda t: t.start)
            needed = (target - reached) * _speech_s(turns)
            turns = _shift_one(channels, turns, turns[index], needed, direction)
    return channels, sorted(turns, key=lambda t: t.start)


def _shift_one(channels: dict[str, np.ndarray], turns: list[Turn], turn: Turn, needed_s: float,
               direction: int) -> list[Turn]:
    """``turn`` moved earlier (``direction`` -1) or later (+1) to overlap up to ``needed_s`` more."""
    own = [t for t in turns if t.speaker == turn.speaker and t is not turn]
    other = [t for t in turns if t.speaker != turn.speaker]
    duration = next(iter(channels.values())).size / RATE
    if direction < 0:
        free = turn.start - max((t.end for t in own if t.end <= turn.start), default=0.0) - 0.1
        near = [min(t.end, turn.start) for t in other if t.start < turn.start]
        gap = turn.start - max(near) if near else None
    else:
        free = min((t.start for t in own if t.start >= turn.end), default=duration) - turn.end - 0.1
        near = [max(t.start, turn.end) for t in other if t.end > turn.end]
        gap = min(near) - turn.end if near else None
    if gap is None or any(t.start < turn.end and t.end > turn.start for t in own):
        return turns
    shift = min(free, gap + needed_s, gap + MAX_SHIFT_S)
    if shift <= gap + 0.2:
        return turns
    a, b = (turn.start - shift, turn.end) if direction < 0 else (turn.start, turn.end + shift)
    a, b, n = int(round(a * RATE)), int(round(b * RATE)), int(round(shift * RATE))
    channels[turn.speaker][a:b] = np.roll(channels[turn.speaker][a:b], direction * n)
    moved = Turn(round(turn.start + direction * shift, 3), round(turn.end + direction * shift, 3), turn.speaker)
    return [moved if t is turn else t for t in turns]


def overlap_share(turns: list[Turn]) -> float:
    """Seconds where two or more speak, over seconds where anyone speaks."""
    speech = _speech_s(turns)
    return _overlap_s(turns) / speech if speech else 0.0


def _speech_s(turns: list[Turn]) -> float:
    return _covered_s([(t.start, t.end) for t in turns])


def _overlap_s(turns: list[Turn]) -> float:
    by_speaker: dict[str, list[tuple[float, float]]] = {}
    for t in turns:
        by_speaker.setdefault(t.speaker, []).append((t.start, t.end))
    return sum(_covered_s(spans) for spans in by_speaker.values()) - _speech_s(turns)


def _covered_s(spans: list[tuple[float, float]]) -> float:
    total, end = 0.0, -np.inf
    for start, stop in sorted(spans):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def _pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f noise (a room's hum and hiss more than white noise), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(spectrum.size), 1))
    noise = np.fft.irfft(spectrum, n)
    return (noise / _rms(noise)).astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) or 1e-9


def _write_coded(samples: np.ndarray, path: Path, codec: str, rate: int) -> None:
    """``samples`` (8 kHz) through ``codec`` at 8 kHz, stored as 16-bit PCM WAV at ``rate``."""
    import soundfile

    encoders = {"mulaw": ["-c:a", "pcm_mulaw", "-f", "wav"], "gsm": ["-c:a", "libgsm", "-f", "gsm"]}
    with tempfile.TemporaryDirectory(prefix="tt-mix-") as tmp:
        source = Path(tmp) / "in.wav"
        soundfile.write(str(source), np.clip(samples, -1, 1), RATE, subtype="PCM_16")
        if codec != "pcm":
            coded = Path(tmp) / "coded"
            _ffmpeg(["-i", str(source), "-ar", str(RATE), "-ac", "1", *encoders[codec], str(coded)])
            source = coded
        _ffmpeg(["-i", str(source), "-ar", str(rate), "-ac", "1", "-c:a", "pcm_s16le", str(path)])


def _ffmpeg(args: list[str]) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def _check_tools() -> None:
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("build_call_mixtures needs ffmpeg (with libgsm) on PATH")


def _to_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate == RATE:
        return samples.astype(np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(RATE, rate)
    return resample_poly(samples, RATE // g, rate // g).astype(np.float32)


def _equal_lengths(channels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    n = min(x.size for x in channels.values())
    return {s: x[:n] for s, x in channels.items()}


def _placed(samples: np.ndarray, offset: int, total: int) -> np.ndarray:
    out = np.zeros(total, dtype=np.float32)
    out[offset : offset + samples.size] = samples
    return out


def _to_json(m: Mixture) -> dict[str, Any]:
    record = asdict(m)
    record["path"] = str(m.path)
    record["channel_paths"] = {s: str(p) for s, p in m.channel_paths.items()}
    record["reference"] = [[t.start, t.end, t.speaker] for t in m.reference]
    return record


def _from_json(record: dict[str, Any]) -> Mixture:
    return Mixture(
        record["id"], record["split"], Path(record["path"]),
        [Turn(start, end, speaker) for start, end, speaker in record["reference"]],
        {s: Path(p) for s, p in record["channel_paths"].items()}, record["conditions"],
    )
