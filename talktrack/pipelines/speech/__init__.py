"""Speech: recordings to diarized, role-labelled, PII-masked transcripts (``talktrack.transcript/1``).

The hub is :class:`SpeechPipeline` (``process`` end to end, or its steps one by one for
Ray stages). One recording to files and the catalog is ``talktrack.pipelines.ingest.call.process_call``.
Names are imported on first access, so ``import talktrack.pipelines.speech.pii`` does
not pull in the diarizer, and importing this package loads no model.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SpeechOptions": "process",
    "SpeechPipeline": "process",
    "RoleOptions": "roles",
    "SpeakerRole": "roles",
    "write_outputs": "outputs",
    "redact_transcript": "pii",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
