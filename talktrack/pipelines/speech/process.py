"""The speech hub: a recording in, a ``talktrack.transcript/1`` out.

Steps, each also callable on its own so a Ray job can put CPU and GPU work in
separate stages (decode on CPU actors, diarize/transcribe on GPU actors, assemble
anywhere):

    decode     path → DecodedAudio (16 kHz, channels kept)
    diarize    DecodedAudio → Diarization (who spoke when)
    transcribe DecodedAudio → [Transcription] (timed words; one per channel when split)
    assemble   align words to speakers → roles → redact PII → Transcript

Channels. A two-channel recording whose channels hold different parties (a dialer puts
the rep and the customer on one channel each) is *split*: each channel is one speaker,
its turns come from that channel's VAD (far-end echo dropped), and each channel is
transcribed on its own, so crosstalk never mixes two voices into one Whisper window and
every word's speaker is known by construction. Anything else (one channel, a stereo room
recording, a mono file saved as stereo) is mixed to mono and diarized by clustering.
``SpeechOptions.channels`` forces either; the decision is
:func:`talktrack.models.diarization.channel_layout`'s, the same the channel-aware diarizer makes.

PII is masked in ``assemble`` before a transcript exists, so nothing this module writes
or returns carries it; hook artefacts of the earlier steps (``transcribe``, ``align``,
``roles``) still hold the raw words and are meant for in-process progress and timing only.

    >>> pipeline = SpeechPipeline(load_settings())                        # doctest: +SKIP
    >>> transcript = pipeline.process("call.wav", SpeechOptions(num_speakers=2))
    >>> [(s.speaker, s.role) for s in transcript.speakers]
    [('SPEAKER_00', 'rep'), ('SPEAKER_01', 'customer')]

One recording to transcript files and the catalog is :func:`talktrack.pipelines.ingest.call.process_call`,
which every entry point (CLI, Ray ingest, the service's jobs) uses around this hub.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from talktrack.core.config import Settings
from talktrack.core.records import Transcript, TranscriptUtterance
from talktrack.models.audio import DecodedAudio, decode_audio
from talktrack.models.diarization import ChannelLayout, Diarization, Turn, build_diarizer, channel_layout
from talktrack.models.diarization.base import speaker_index, speaker_label
from talktrack.models.diarization.channels import ChannelMode, diarize_channels
from talktrack.models.diarization.options import channel_detector, channel_options, speaker_bounds, vad_options
from talktrack.models.threads import torch_threads
from talktrack.models.language_routing import LanguageRouter
from talktrack.models.transcription import Transcription
from talktrack.models.voiceprint import VoiceprintError, embed_speech
from talktrack.pipelines.speech.align import align_words, drop_echo, merge_utterances
from talktrack.pipelines.speech.pii import redact_utterances
from talktrack.pipelines.speech.provenance import RunRecord, build_transcript
from talktrack.pipelines.speech.roles import RoleOptions, assign_roles, with_roles

Hook = Callable[[str, Any], None]


@dataclass(frozen=True)
class SpeechOptions:
    """Per-call parameters of the hub; ``None`` means "the configured default".

    num_speakers / min_speakers / max_speakers: diarization bounds (ignored when the
        channels are split: then each channel is one speaker).
    call_type: what the call is, from the dialer or CRM ("phone_call"): caps the speaker count
        at the configured ``expected_speakers`` of that kind (None: unknown, no cap).
    language: for the transcriber ("en", "zh", ...); None: detected (English model for English,
        the multilingual one for the rest; see ``talktrack.models.language_routing``).
    team: the team whose product and competitor names (``models.transcriber.team_vocabulary``)
        are passed to the model as hotwords.
    max_pause_s: a silence longer than this between two words of one speaker starts a
        new utterance.
    redact: mask PII (None: ``settings.pii.redact``).
    channels: "auto" splits dialer-style stereo, "mix"/"split" force either.
    roles: thresholds of the role decision (voiceprint similarity, cue margin).
    """

    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    call_type: str | None = None
    language: str | None = None
    team: str | None = None
    max_pause_s: float = 1.0
    redact: bool | None = None
    channels: ChannelMode = "auto"
    roles: RoleOptions = field(default_factory=RoleOptions)

    def __post_init__(self) -> None:
        for name in ("num_speakers", "min_speakers", "max_speakers"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} = {value}: must be at least 1 (or None for the configured default)")
        if self.min_speakers and self.max_speakers and self.min_speakers > self.max_speakers:
            raise ValueError(f"min_speakers ({self.min_speakers}) exceeds max_speakers ({self.max_speakers})")
        if self.max_pause_s <= 0:
            raise ValueError(f"max_pause_s = {self.max_pause_s}: must be > 0 seconds")
        if self.channels not in ("auto", "mix", "split"):
            raise ValueError(f"channels = {self.channels!r}: use 'auto', 'mix' or 'split'")

    def as_params(self, prefix: str = "speech") -> dict[str, Any]:
        flat = {f"{prefix}__{k}": v for k, v in asdict(self).items() if k != "roles"}
        return {**flat, **self.roles.as_params()}


class SpeechPipeline:
    """Decode → diarize → transcribe → align → roles → redact, models loaded once per object.

    ``device``: "auto" keeps the configured devices; "cpu"/"cuda" overrides them (a Ray
    actor that was given a GPU says "cuda").
    """

    def __init__(self, settings: Settings, *, device: Literal["auto", "cpu", "cuda"] = "auto"):
        self.settings = settings
        self.device = device

    @functools.cached_property
    def transcriber(self) -> LanguageRouter:
        transcriber_settings = self.settings.models.transcriber
        if self.device != "auto":
            transcriber_settings = transcriber_settings.model_copy(update={"device": self.device})
        return LanguageRouter(transcriber_settings)

    @functools.cached_property
    def diarizer(self):
        return build_diarizer(self.settings.models.diarizer, device=self.device, channel_aware=False)

    def layout(self, audio: DecodedAudio, options: SpeechOptions) -> ChannelLayout:
        """Mix or split, decided from the audio alone (so any step can ask and get the same answer)."""
        return channel_layout(audio, options.channels, channel_detector(self.settings.models.diarizer))

    def load(self) -> dict[str, float]:
        """Load the models now (e.g. in a Ray actor's constructor) instead of on the first call."""
        started = time.perf_counter()
        transcriber_s = self.transcriber.load()
        _ = self.diarizer
        total_s = time.perf_counter() - started
        return {"transcriber_load_s": round(transcriber_s, 4), "load_s": round(total_s, 4)}

    # --- steps ---------------------------------------------------------------------------

    def decode(self, source: str | Path | DecodedAudio) -> DecodedAudio:
        """A path decoded to 16 kHz (refused with ``AudioError`` when unusable), or a DecodedAudio as is."""
        if isinstance(source, DecodedAudio):
            return source
        if isinstance(source, (str, Path)):
            return decode_audio(source, max_duration_s=self.settings.audio.max_duration_s)
        raise TypeError(
            f"process() takes a path (str or Path) or a DecodedAudio, not {type(source).__name__}"
        )

    def diarize(self, audio: DecodedAudio, options: SpeechOptions) -> Diarization:
        """Turns by channel (split) or by the configured diarizer on the mono mix."""
        configured = self.settings.models.diarizer
        if self.layout(audio, options).mode == "split":
            return diarize_channels(audio, channel_options(configured), vad_options(configured))
        bounds = speaker_bounds(
            configured, num=options.num_speakers, minimum=options.min_speakers, maximum=options.max_speakers,
            call_type=options.call_type,
        )
        with torch_threads(1):
            return self.diarizer.diarize(audio, bounds)

    def transcribe(self, audio: DecodedAudio, options: SpeechOptions,
                   on_segment: Callable[[], None] | None = None) -> list[Transcription]:
        """Timed words: one Transcription for the mix, or one per channel when split
        (``on_segment``: see :meth:`Transcriber.transcribe`)."""
        language = options.language or self.settings.models.transcriber.language
        team_names = self.settings.models.transcriber.team_vocabulary.get(options.team or "", [])
        transcriber = self.transcriber.for_team(team_names)
        if self.layout(audio, options).mode == "split":
            return transcriber.transcribe_channels(audio.samples, language=language, on_segment=on_segment)
        return [transcriber.transcribe(audio.mono, language=language, on_segment=on_segment)]

    def assemble(
        self,
        audio: DecodedAudio,
        diarization: Diarization,
        transcriptions: Sequence[Transcription],
        options: SpeechOptions,
        *,
        call_id: str | None = None,
        voiceprints: Mapping[str, np.ndarray] | None = None,
        hook: Hook | None = None,
        timings: Mapping[str, float] | None = None,
    ) -> Transcript:
        """Align words to speakers, decide roles, mask PII; build the transcript with its provenance."""
        hook = hook or _no_hook
        steps: dict[str, float] = dict(timings or {})
        with _timed(steps, "align_s"):
            utterances = self.align(audio, diarization, transcriptions, options)
        hook("align", utterances)
        with _timed(steps, "roles_s"):
            embeddings = self.speaker_embeddings(audio, diarization, options) if voiceprints else {}
            roles = assign_roles(
                utterances, embeddings=embeddings, voiceprints=voiceprints, options=options.roles
            )
            utterances = with_roles(utterances, roles)
        hook("roles", roles)
        redact = self.settings.pii.redact if options.redact is None else options.redact
        redacted: dict[str, int] = {}
        with _timed(steps, "redact_s"):
            if redact:
                utterances, redacted = redact_utterances(utterances, self.settings.pii)
        hook("redact", utterances)
        run = RunRecord(audio, self.layout(audio, options), diarization, transcriptions, utterances, roles,
                        redacted, steps)
        return build_transcript(run, self.settings, options.as_params(), redact=redact, call_id=call_id)

    def align(
        self,
        audio: DecodedAudio,
        diarization: Diarization,
        transcriptions: Sequence[Transcription],
        options: SpeechOptions,
    ) -> list[TranscriptUtterance]:
        """Utterances from the words: by diarization turns, or by channel when split."""
        pause = options.max_pause_s
        if len(transcriptions) == 1:
            (only,) = transcriptions
            return align_words(only.words, diarization.turns, max_pause_s=pause, language=only.language)
        # split channels: a word of channel k is channel k's speaker's, unless it is far-end echo
        streams = []
        for k, transcription in enumerate(transcriptions):
            own = [t for t in diarization.turns if t.speaker == speaker_label(k)]
            others = [t for t in diarization.turns if t.speaker != speaker_label(k)]
            words = drop_echo(transcription.words, own, others)
            whole = [Turn(0.0, audio.duration_s, speaker_label(k))]
            streams.append(align_words(words, whole, max_pause_s=pause, language=transcription.language))
        return merge_utterances(*streams)

    def speaker_embeddings(
        self, audio: DecodedAudio, diarization: Diarization, options: SpeechOptions
    ) -> dict[str, np.ndarray]:
        """One voice embedding per speaker from their turns (on their own channel when split)."""
        split = self.layout(audio, options).mode == "split"
        embeddings = {}
        for speaker in diarization.speakers:
            regions = [(t.start, t.end) for t in diarization.turns if t.speaker == speaker]
            samples = audio.samples[speaker_index(speaker)] if split else audio.mono
            try:
                embeddings[speaker] = embed_speech(samples, regions)
            except VoiceprintError:
                continue  # too little speech to tell; roles fall back to cues for everyone
        return embeddings

    # --- the whole job -------------------------------------------------------------------

    def process(
        self,
        source: str | Path | DecodedAudio,
        options: SpeechOptions | None = None,
        *,
        call_id: str | None = None,
        voiceprints: Mapping[str, np.ndarray] | None = None,
        hook: Hook | None = None,
    ) -> Transcript:
        """One recording end to end; ``hook(step, artifact)`` is called after every step, and
        with ``("transcribing", None)`` after each decoded segment, so a hook that raises (a
        job past its time limit) stops the work within one segment."""
        options = options or SpeechOptions()
        hook = hook or _no_hook
        timings: dict[str, float] = {}
        started = time.perf_counter()
        with _timed(timings, "decode_s"):
            audio = self.decode(source)
        hook("decode", audio)
        # Diarization runs on one torch thread (see diarize), so it shares the cores with
        # transcription instead of queueing behind it: 30 s of meeting took 1.3 s instead of 1.9 s.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="diarize") as pool:
            diarized = pool.submit(self._timed_step, timings, "diarize_s", self.diarize, audio, options)
            try:
                transcriptions = self._timed_step(timings, "transcribe_s", self.transcribe, audio, options,
                                                  lambda: hook("transcribing", None))
            finally:
                diarization = diarized.result()
        hook("diarize", diarization)
        hook("transcribe", transcriptions)
        transcript = self.assemble(
            audio, diarization, transcriptions, options,
            call_id=call_id, voiceprints=voiceprints, hook=hook, timings=timings,
        )  # fmt: skip
        total = time.perf_counter() - started
        rtf = total / max(audio.duration_s, 1e-9)
        transcript.timings.update(total_s=round(total, 4), real_time_factor=round(rtf, 4))
        hook("transcript", transcript)
        return transcript

    @staticmethod
    def _timed_step(timings: dict[str, float], key: str, step: Callable[..., Any], *args: Any) -> Any:
        with _timed(timings, key):
            return step(*args)


class _timed:
    """``with _timed(timings, "step_s"):`` records the seconds the block took."""

    def __init__(self, timings: dict[str, float], key: str):
        self.timings, self.key = timings, key

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc) -> None:
        self.timings[self.key] = round(time.perf_counter() - self.started, 4)


def _no_hook(step: str, artifact: Any) -> None:
    return None
