"""Voice messages to text through the same path a call takes: decode, the language-routed Whisper models,
PII masking. Models load on the first voice message, so an import without voice loads none.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from talktrack.core.config import Settings
from talktrack.models.audio import AudioError
from talktrack.models.language_routing import LanguageRouter, UnreadableLanguage
from talktrack.models.voice_messages import decode_voice_message
from talktrack.pipelines.chat_import.records import Attachment, RowError
from talktrack.pipelines.speech.pii import redact_text

# (samples 16 kHz mono, language or None) -> text; tests and callers with a loaded model may pass their own.
Transcribe = Callable[[np.ndarray, str | None], str]


class VoiceReader:
    """``read(attachment, language) -> (text, seconds)``, or :class:`RowError` saying why not."""

    def __init__(self, settings: Settings, transcribe: Transcribe | None = None) -> None:
        self.settings = settings
        self._transcribe = transcribe

    @functools.cached_property
    def router(self) -> LanguageRouter:
        return LanguageRouter(self.settings.models.transcriber)

    def read(self, attachment: Attachment, language: str | None) -> tuple[str, float]:
        if attachment.path is None:
            raise RowError("voice message without its recording (put it in media/ named by md5sum or msgid)")
        try:
            audio = decode_voice_message(attachment.path, max_duration_s=self.settings.serving.max_voice_note_s)
        except AudioError as exc:
            raise RowError(f"voice message: {exc.reason}") from None
        try:
            text = self.transcribe(audio.mono, language)
        except UnreadableLanguage as exc:
            raise RowError(f"voice message: {exc}") from None
        if self.settings.pii.redact:
            text, _ = redact_text(text, self.settings.pii)
        if not text.strip():
            raise RowError("voice message holds no recognisable speech")
        return text.strip(), audio.duration_s

    def transcribe(self, samples: np.ndarray, language: str | None) -> str:
        if self._transcribe is not None:
            return self._transcribe(samples, language)
        return self.router.transcribe(samples, language=language).text
