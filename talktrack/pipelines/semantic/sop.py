"""SOP compliance per call and key-question coverage per deal: the entry points.

For a call, every step of its stage's SOP (``configs/sops.yaml``, :mod:`.sop_book`) is looked
for among the rep's sentences (:mod:`.sop_calls`) by the scorer (:mod:`.sop_checker`); a
missing step comes with how a won deal's rep said it. The answer is a
:class:`~.sop_results.SopResult`. This module composes them for a catalog call, many calls, a
transcript file and a deal, and re-exports what callers build inputs from, so
``from talktrack.pipelines.semantic import sop`` is all a caller needs.

Checking many calls embeds all their rep sentences in a few large batches (the embedder
caches by text hash), so a whole catalog is checked at embedding speed::

    >>> results = check_calls(catalog, settings, workspace, progress=hook)
    >>> results[0].missing_key_questions
    ['budget']
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Deal
from talktrack.core.progress import Progress
from talktrack.core.records import Transcript
from talktrack.core.workspace import Workspace
from talktrack.pipelines.semantic.sop_calls import (
    CallInput,
    RepSentence,
    SopNotFoundError,
    call_inputs,
    call_rows,
    chat_inputs,
    load_calls,
    rep_sentences,
    split_sentences,
)
from talktrack.pipelines.semantic.sop_checker import SopChecker, checker, decide
from talktrack.pipelines.semantic.sop_results import SopResult, StepMatch, StepResult, Suggestion

__all__ = [
    "CallInput", "RepSentence", "SopChecker", "SopNotFoundError", "SopResult", "StepMatch", "StepResult",
    "Suggestion", "check_call", "check_calls", "check_transcript", "checker", "deal_key_questions", "decide",
    "load_calls", "rep_sentences", "split_sentences",
]

CALL_CHUNK = 400            # calls embedded and scored together in check_calls


def check_calls(catalog: Catalog, settings, workspace: Workspace, call_ids: Sequence[str] | None = None, *,
                sop: Sequence[str] = (), progress: Progress | None = None) -> list[SopResult]:
    """Check many calls (all with a stage when ``call_ids`` is None), in chunks of embedded batches."""
    rows = call_rows(catalog, call_ids)
    if call_ids is None:
        rows = [r for r in rows if r[3]]
    engine = checker(catalog, settings, workspace)
    results: list[SopResult] = []
    for begin in range(0, len(rows), CALL_CHUNK):
        chunk = call_inputs(catalog, rows[begin: begin + CALL_CHUNK])
        results += engine.check(chunk, sop, progress, done_before=begin, total=len(rows))
    return results


def check_call(catalog: Catalog, settings, workspace: Workspace, call_id: str, *, stage: str | None = None,
               sop: Sequence[str] = ()) -> SopResult:
    """Check one catalog call (by external id) against its stage's SOP (``stage`` overrides the call's)."""
    rows = call_rows(catalog, [call_id])
    if stage:
        rows = [rows[0][:3] + (stage,) + rows[0][4:]]
    _known_stage(settings, rows[0][3], f"call {call_id!r}")
    return checker(catalog, settings, workspace).check(call_inputs(catalog, rows), sop)[0]


def check_transcript(transcript: str | Path | dict | Transcript, stage: str | None, settings, workspace: Workspace,
                     catalog: Catalog | None = None, *, sop: Sequence[str] = ()) -> SopResult:
    """Check a ``talktrack.transcript/1`` transcript (a path, a JSON string, a dict or a record).

    ``stage`` may be None when the transcript names one (top-level ``stage`` or ``source.stage``).
    With a catalog, missing steps get suggestions from won deals' calls."""
    raw, record = _read_transcript(transcript)
    stage = stage or raw.get("stage") or record.source.get("stage")
    if not stage:
        raise ValueError("the transcript names no stage; pass one (e.g. --stage qualification)")
    _known_stage(settings, stage, "transcript")
    turns = [(i, u.start, u.end, u.role or "", u.text) for i, u in enumerate(record.utterances)]
    if not any(role == "rep" for _, _, _, role, _ in turns):
        raise ValueError("the transcript has no utterance of a speaker with role 'rep'; "
                         "set the rep's role under 'speakers' and on the utterances")
    call = CallInput(record.call_id, raw.get("deal_id"), stage, raw.get("channel"), record.language,
                      rep_sentences(turns))
    return checker(catalog, settings, workspace).check([call], sop)[0]


def _read_transcript(transcript) -> tuple[dict, Transcript]:
    if isinstance(transcript, Transcript):
        return transcript.model_dump(by_alias=True), transcript
    if isinstance(transcript, dict):
        raw = transcript
    else:
        text = str(transcript)
        path = Path(text)
        source = "transcript"
        if not text.lstrip().startswith("{"):
            if not path.is_file():
                raise ValueError(f"transcript {text!r}: no such file")
            text, source = path.read_text(encoding="utf-8"), str(path)
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{source}: not JSON ({exc})") from None
    try:
        return raw, Transcript.model_validate(raw)
    except Exception as exc:  # pydantic ValidationError: say which input and why
        raise ValueError(f"not a talktrack.transcript/1 transcript: {exc}") from None


def _known_stage(settings, stage: str | None, what: str) -> None:
    stages = [s.key for s in settings.stages]
    if stage not in stages:
        raise ValueError(f"{what}: stage {stage!r} is not a known stage (known: {stages})")


def deal_key_questions(catalog: Catalog, settings, workspace: Workspace, deal_id: str) -> dict:
    """Per stage the deal had conversations in: which of the stage's key questions some call, chat or e-mail
    covered, which none did ("the delivery timeline was never discussed, in 3 calls and 41 chat messages").

    A covered question names the conversation and its ``channel``; a never-covered one carries the
    suggestion of the stage's latest conversation and what was searched."""
    with catalog.session() as session:
        deal = session.execute(select(Deal.id, Deal.status).where(Deal.external_id == deal_id)).first()
        if deal is None:
            raise SopNotFoundError(f"unknown deal id {deal_id!r}")
        call_ids = list(session.scalars(
            select(Call.external_id).where(Call.deal_id == deal.id, Call.stage.is_not(None))
            .order_by(Call.started_at, Call.id)))
    results = [(r, "call", 1) for r in (check_calls(catalog, settings, workspace, call_ids) if call_ids else [])]
    chats = chat_inputs(catalog, [s.key for s in settings.stages], deal.id)
    if chats:
        checked = checker(catalog, settings, workspace).check([c for c, _ in chats])
        results += [(r, c.channel, count) for r, (c, count) in zip(checked, chats, strict=True)]
    stages = [_stage_coverage(settings, stage, [r for r in results if r[0].stage == stage])
              for stage in [s.key for s in settings.stages] if any(r[0].stage == stage for r in results)]
    never = [{"stage": s["stage"], "key_question": kq} for s in stages for kq in s["never_covered"]]
    options = results[0][0].options if results else {}
    return {"deal_id": deal_id, "status": deal.status, "calls": call_ids, "chats": [c.call_id for c, _ in chats],
            "searched": _searched(results), "stages": stages, "never_covered": never, "options": options}


def _stage_coverage(settings, stage: str, results: list[tuple[SopResult, str, int]]) -> dict:
    """``results``: (result, channel, messages) of the stage's calls (channel call, 1) and chat threads."""
    questions = next(s.key_questions for s in settings.stages if s.key == stage)
    names = settings.key_questions
    rows = []
    for kq in questions:
        hits = [(r, channel, st) for r, channel, _ in results for st in r.steps if st.key_question == kq and st.covered]
        row: dict[str, Any] = {"key_question": kq, "name_en": _name(names, kq, "en"),
                               "name_zh": _name(names, kq, "zh"), "covered": bool(hits)}
        if hits:
            result, channel, step = hits[0]
            row |= {"call_id": result.call_id, "channel": channel} | asdict(step.match)
        else:
            step = next(st for st in results[-1][0].steps if st.key_question == kq)
            row["suggestion"] = asdict(step.suggestion) if step.suggestion else None
        rows.append(row)
    return {"stage": stage, "calls": [r.call_id for r, channel, _ in results if channel == "call"],
            "chats": [r.call_id for r, channel, _ in results if channel != "call"],
            "searched": _searched(results), "key_questions": rows,
            "covered": [r["key_question"] for r in rows if r["covered"]],
            "never_covered": [r["key_question"] for r in rows if not r["covered"]]}


def _searched(results: list[tuple[SopResult, str, int]]) -> dict:
    """How much was read: calls, chat messages and e-mails, and the sentence a manager reads.

    >>> _searched([(None, "call", 1)] * 3 + [(None, "chat", 41)])["text"]
    'in 3 calls and 41 chat messages'
    """
    counts = {"calls": 0, "chat_messages": 0, "emails": 0}
    for _, channel, count in results:
        counts[{"call": "calls", "chat": "chat_messages", "email": "emails"}[channel]] += count
    words = {"calls": ("call", "calls"), "chat_messages": ("chat message", "chat messages"),
             "emails": ("e-mail", "e-mails")}
    parts = [f"{n} {words[key][n != 1]}" for key, n in counts.items() if n]
    text = "in " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]) if parts else ""
    return counts | {"text": text}


def _name(names, key: str, language: str) -> str:
    entry = names.get(key)
    if entry is None:
        return key
    value = getattr(entry, f"name_{language}", None)
    if value is None and isinstance(entry, dict):
        value = entry.get(f"name_{language}")
    return value or key
